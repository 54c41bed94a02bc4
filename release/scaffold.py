"""The files ``release init`` writes (pure): channel files, project settings, workflows.

Every file is rendered from an :class:`~release.adopt.Inference` and checked by the
same schema that reads it (``release init`` loads the result before writing). The
workflows call the composite action this repository publishes (``action.yml`` at its
root), pinned by commit SHA, so a project's edge and stable workflows stay short.
A composite action runs inside the caller's job, so the Sigstore identity stays the
project's own workflow (``…/.github/workflows/release-edge.yml@refs/heads/main``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from release.adopt import Inference, InferredChannel
from release.pipeline import github_slug

ACTION_REPOSITORY = "release-channels/release-channels"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
CHECKOUT = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0"
TRUST_FILE = "channels/trust.toml"
EDGE_WORKFLOW = ".github/workflows/release-edge.yml"
STABLE_WORKFLOW = ".github/workflows/release-stable.yml"
_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class ActionPin:
    """``owner/repo@<40-hex commit>`` of the release-channels action to call."""

    repository: str
    sha: str
    version: str = ""

    @classmethod
    def parse(cls, text: str, version: str = "") -> ActionPin | None:
        repo, _, sha = text.partition("@")
        if repo.count("/") != 1 or not _SHA.fullmatch(sha):
            return None
        return cls(repo, sha, version)

    def uses(self) -> str:
        comment = f"release-channels {self.version}" if self.version else "release-channels"
        return f"{self.repository}@{self.sha} # {comment}"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _reasons(c: InferredChannel) -> list[str]:
    return [f"#   {r}" for r in c.reasons]


def channel_file(c: InferredChannel, branch: str, slug: str | None, primary: bool) -> str:
    """``channels/NAME.toml`` for one inferred channel."""
    lines = [f"# The {c.name} channel, written by `release init` from the tags:", *_reasons(c)]
    lines += [f"kind = {_q(c.kind)}", f"tag-format = {_q(c.tag_format)}", f"branch = {_q(branch)}"]
    if c.kind == "stable":
        lines.append(f"branch-format = {_q(c.branch_format)}")
    lines.append(f"prerelease = {'true' if c.kind == 'edge' else 'false'}")
    workflow = EDGE_WORKFLOW if c.kind == "edge" else STABLE_WORKFLOW
    lines += ["", "# Who signs this channel's artifacts and documents (exact match, no regexes)."]
    if slug and primary:
        ident = f"https://github.com/{slug}/{workflow}@refs/heads/{branch}"
        lines += ["[signer]", f"identity = {_q(ident)}", f"issuer = {_q(GITHUB_ISSUER)}"]
    else:
        lines += [
            "# [signer]",
            f'# identity = "https://github.com/OWNER/REPO/{workflow}@refs/heads/{branch}"',
            f"# issuer = {_q(GITHUB_ISSUER)}",
        ]
    if c.kind == "stable" and c.eol_months is not None:
        lines += [
            "",
            "# Support phases: a line is in maintenance from the next line's .0 and end-of-life",
            "# eol-months later (the shortest window this history fits). Explicit dates win:",
            '# [support.lines."X.Y"] released = …, eol = …',
            "[support]",
            f"eol-months = {c.eol_months}",
        ]
    elif c.kind == "stable":
        lines += [
            "",
            "# Support phases: the newest line is active, the next maintained-lines - 1 are in",
            '# maintenance. Explicit dates win: [support.lines."X.Y"] released = …, eol = …',
            "[support]",
            "maintained-lines = 2",
        ]
    return "\n".join(lines) + "\n"


def _build_example(prefix: str) -> list[str]:
    return [
        "",
        "# What a release builds. The command runs in a clean export of the release commit",
        "# and must make exactly the listed artifacts; placeholders: {version} {pep440} {tag}",
        "# {os} {arch} {out} {python}. `release edge` refuses to run without one.",
        f"# [[{prefix}build]]",
        '# command = ["make", "dist", "OUT={out}", "VERSION={version}"]',
        '# artifacts = ["tool-{version}-linux-amd64.tar.gz"]',
    ]


def project_settings(
    project: str,
    repository: str | None,
    ignore_tags: Mapping[str, str],
    *,
    table_prefix: str = "",
) -> str:
    """The body of ``release.toml`` (``table_prefix=""``) or of ``[tool.release]``
    (``table_prefix="tool.release."``)."""
    lines = []
    if table_prefix:
        lines += ["", f"[{table_prefix.rstrip('.')}]"]
    else:
        lines += ["# release-channels settings, written by `release init`; see `release config`."]
    lines.append(f"project = {_q(project)}")
    if repository:
        lines.append(f"repository = {_q(repository)}")
    lines.append('changelog = "CHANGELOG.md"')
    lines += _build_example(table_prefix)
    if ignore_tags:
        lines += [
            "",
            "# Tags that parse as releases but break their channel's order; never counted.",
            f"[{table_prefix}history]",
            "ignore-tags = [",
            *(f"  {_q(tag)},  # {why}" for tag, why in ignore_tags.items()),
            "]",
        ]
    return "\n".join(lines) + "\n"


def edge_workflow(project: str, branch: str, pin: ActionPin) -> str:
    return f"""# Edge releases of {project} with release-channels (written by `release init`).
name: release-edge
on:
  schedule:
    - cron: "17 6 * * 2"
  workflow_dispatch:
permissions: {{}}
concurrency:
  group: release-edge
  cancel-in-progress: false
jobs:
  edge:
    if: github.ref == 'refs/heads/{branch}'
    runs-on: ubuntu-24.04
    environment: edge
    concurrency:
      group: release-channel-publish
      cancel-in-progress: false
    permissions:
      contents: write # push the tag, create the GitHub release
      id-token: write # Sigstore keyless signing
    steps:
      - uses: {CHECKOUT}
        with:
          fetch-depth: 0
          persist-credentials: true
      - uses: {pin.uses()}
        with:
          command: edge
"""


def stable_workflow(project: str, branch: str, pin: ActionPin) -> str:
    return f"""# Stable releases of {project} with release-channels (written by `release init`).
name: release-stable
on:
  workflow_dispatch:
    inputs:
      action:
        description: "cut a new line, a point release, or a backport"
        required: true
        type: choice
        options: [cut, point, backport]
      line:
        description: "stable line X.Y (point/backport)"
        required: false
        type: string
      picks:
        description: "commit SHAs to pick, space separated"
        required: false
        type: string
permissions: {{}}
jobs:
  stable:
    if: github.ref == 'refs/heads/{branch}'
    runs-on: ubuntu-24.04
    environment: stable
    concurrency:
      group: release-channel-publish
      cancel-in-progress: false
    permissions:
      contents: write # push branch and tag, create the GitHub release
      id-token: write # Sigstore keyless signing
      pull-requests: write # a conflicting backport opens a draft pull request
    steps:
      - uses: {CHECKOUT}
        with:
          fetch-depth: 0
          persist-credentials: true
      - uses: {pin.uses()}
        with:
          command: stable
          action: ${{{{ inputs.action }}}}
          line: ${{{{ inputs.line }}}}
          picks: ${{{{ inputs.picks }}}}
"""


@dataclass(frozen=True)
class Scaffold:
    """The files to write (path -> text) and those to append to (pyproject.toml)."""

    files: Mapping[str, str]
    append: Mapping[str, str]
    notes: Sequence[str]


def trust_file() -> str:
    """``channels/trust.toml``: who will hold the channels' root of trust (to be filled in
    by the maintainers: nobody can be guessed), the dev root, and each role's expiry."""
    return """\
# Who holds the root of trust of this project's channels (TUF root and top-level
# targets), written by `release init`. Consumers verify every channel from the root
# `release trust init` makes from this file (commit channels/root.json and
# channels/tuf/); each channel's signer comes from channels/*.toml.
#
# [root] lists the maintainers' Sigstore identities (the identity and OIDC issuer each
# signs with), for example:
#   identities = [
#     { identity = "alice@example.org", issuer = "https://github.com/login/oauth" },
#     { identity = "bob@example.org", issuer = "https://accounts.google.com" },
#   ]
#   threshold = 2
# `release trust init` refuses to make a root while it is empty.
[root]
threshold = 1
identities = []

# `--sign dev` (the local, untrusted dev Sigstore instance) makes a throwaway root inside
# the store, signed by these identities: offline releases work before [root] is filled.
[dev]
threshold = 1
identities = [{ identity = "root@dev.invalid", issuer = "https://dev.invalid" }]

# Days each role's metadata stays valid. The edge workflow re-signs the timestamp daily.
[expires]
timestamp = 2
snapshot = 7
channel = 30
targets = 365
root = 365
"""


def scaffold(
    inference: Inference,
    *,
    project: str,
    repository: str | None,
    pyproject: bool,
    pin: ActionPin | None,
    ignore_tags: Mapping[str, str],
    trust: bool = True,
) -> Scaffold:
    """Every file ``release init`` writes for ``inference`` (``trust``: write
    ``channels/trust.toml``, which the repository does not have yet)."""
    slug = github_slug(repository)
    files: dict[str, str] = {}
    append: dict[str, str] = {}
    notes: list[str] = []
    first_stable = True
    for c in inference.channels:
        primary = c.kind == "edge" or first_stable
        if c.kind == "stable":
            first_stable = False
        files[f"channels/{c.name}.toml"] = channel_file(c, inference.branch, slug, primary)
    if trust:
        files[TRUST_FILE] = trust_file()
        notes.append(
            f"{TRUST_FILE}: list the maintainers' Sigstore identities under [root], then run "
            "`release trust init` and commit channels/root.json and channels/tuf/ (consumers "
            "verify every channel from that root; `--sign dev` works without it)"
        )
    else:
        notes.append(f"{TRUST_FILE} exists: kept as it is")
    if not slug:
        notes.append("no GitHub remote: [signer] is left commented out in channels/*.toml")
    if pyproject:
        append["pyproject.toml"] = project_settings(
            project,
            repository,
            ignore_tags,
            table_prefix="tool.release.",
        )
    else:
        files["release.toml"] = project_settings(project, repository, ignore_tags)
    if pin is None:
        notes.append(
            "workflows not written: pass --action OWNER/REPO@SHA (the release-channels "
            "commit to pin; the installed tool does not know its own commit)"
        )
    else:
        files[EDGE_WORKFLOW] = edge_workflow(project, inference.branch, pin)
        files[STABLE_WORKFLOW] = stable_workflow(project, inference.branch, pin)
    return Scaffold(files, append, notes)
