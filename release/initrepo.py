"""``release init``: read an existing repository, plan the files, check them, write them.

:func:`plan_init` reads the tags and branches (one ``for-each-ref`` each), infers
the channels (:mod:`release.adopt`), finds the anomalous tags with the same
detection ``release status`` uses, renders the files (:mod:`release.scaffold`) and
loads them through the configuration schema in a scratch directory, so a plan that
would not load is refused before anything is written. It refuses, changing
nothing, when the repository is configured already. :func:`write_init` writes the
files (each atomically), after checking again that none appeared meanwhile.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.adapters.git import Git, TagInfo
from release.adopt import Inference, defaults_inference, infer
from release.config import (
    CONFIG_FILE,
    RESERVED_CHANNEL_FILES,
    load_config,
    read_toml,
)
from release.errors import ConfigError, ReleaseError, UsageError
from release.files import write_atomic
from release.history import tag_anomalies
from release.pipeline import github_slug
from release.scaffold import ACTION_REPOSITORY, TRUST_FILE, ActionPin, Scaffold, scaffold
from release.trust_config import load_trust


@dataclass(frozen=True)
class InitPlan:
    root: Path
    inference: Inference
    scaffold: Scaffold
    anomalies: Mapping[str, str]  # tag -> reason
    project: str
    repository: str | None
    warnings: tuple[str, ...] = ()
    pyproject_text: str | None = None  # the current pyproject.toml, when appended to

    def contents(self) -> dict[str, str]:
        """Each file as it will read after ``init`` (pyproject.toml: the appended text)."""
        out = dict(self.scaffold.files)
        for path, text in self.scaffold.append.items():
            out[f"{path} (appended)"] = text
        return out

    def report(self) -> list[str]:
        inf = self.inference
        lines = [f"inferred from {inf.tag_count} tags:"]
        lines.append(f"  development branch {inf.branch}: {inf.branch_reason}")
        for c in inf.channels:
            head = f"  {c.name} ({c.kind}): tag-format {c.tag_format}"
            if c.kind == "stable":
                head += f", branch-format {c.branch_format}"
            lines.append(head + (f", latest {c.latest}" if c.latest else ""))
            lines += [f"    because {r}" for r in c.reasons]
            for f in c.lines:
                where = f"branch {f.branch}" if f.branch else "no branch found"
                lines.append(f"    line {f.line}: latest {f.latest} ({f.count} releases, {where})")
        if self.anomalies:
            lines.append("anomalous tags (not counted as releases):")
            lines += [f"  {tag}: {why}" for tag, why in self.anomalies.items()]
        skipped = [t for t in inf.ignored if t not in self.anomalies]
        if skipped:
            shown = ", ".join(f"{t} ({inf.ignored[t]})" for t in skipped[:8])
            more = f" and {len(skipped) - 8} more" if len(skipped) > 8 else ""
            lines.append(f"tags that are not releases: {shown}{more}")
        lines.append("files:")
        lines += [f"  write {p}" for p in self.scaffold.files]
        lines += [f"  append [tool.release] to {p}" for p in self.scaffold.append]
        lines += [f"  note: {n}" for n in self.scaffold.notes]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "inference": self.inference.to_dict(),
            "anomalies": dict(self.anomalies),
            "files": self.contents(),
            "notes": list(self.scaffold.notes),
            "warnings": list(self.warnings),
        }


def _branches(git: Git) -> list[str]:
    names = set(git.branches("refs/heads"))
    for name in git.branches("refs/remotes/origin"):
        short = name.removeprefix("origin/")
        if short not in ("HEAD", "origin"):
            names.add(short)
    return sorted(names)


def _configured(root: Path) -> list[str]:
    """What already configures ``root`` (init never overwrites or merges into it)."""
    found = []
    if (root / CONFIG_FILE).exists():
        found.append(CONFIG_FILE)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        tool = read_toml(pyproject, "pyproject.toml").get("tool")
        if isinstance(tool, Mapping) and "release" in tool:
            found.append("[tool.release] in pyproject.toml")
    channels = root / "channels"
    if channels.is_dir():
        found += [
            f"channels/{p.name}"
            for p in sorted(channels.glob("*.toml"))
            if p.name not in RESERVED_CHANNEL_FILES
        ]
    return found


def own_action_pin() -> ActionPin | None:
    """The action at the commit of this tool's source tree, when it runs from a checkout
    of release-channels (a wheel does not know the commit it was built from)."""
    from release import __version__

    top = Path(__file__).resolve().parent.parent
    if not (top / "action.yml").is_file():
        return None
    try:
        sha = Git(top).out("rev-parse", "HEAD")
    except ReleaseError:
        return None
    return ActionPin.parse(f"{ACTION_REPOSITORY}@{sha}", __version__)


def find_anomalies(tags: list[TagInfo], inference: Inference) -> dict[str, str]:
    """The tags ``release status`` would leave out as anomalies under the inferred
    channels (:func:`release.history.tag_anomalies`), with their reasons."""
    return {a.tag: a.reason for a in tag_anomalies(tags, inference.channel_configs())}


def _repository(git: Git) -> str | None:
    url = git.remote_url()
    slug = github_slug(url)
    if slug:
        return f"https://github.com/{slug}"
    return url if url and url.startswith("https://") else None


def _project_name(root: Path) -> tuple[str, bool]:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return root.name, False
    project = read_toml(pyproject, "pyproject.toml").get("project")
    if isinstance(project, Mapping) and isinstance(project.get("name"), str):
        return str(project["name"]), True
    return root.name, True


def plan_init(git: Git, *, action: str | None = None) -> InitPlan:
    """Everything ``release init`` would write, checked. Raises :class:`ReleaseError`."""
    root = git.root
    git.ensure_full_history()
    configured = _configured(root)
    if configured:
        raise ConfigError(
            f"this repository is configured already: {', '.join(configured)}",
            hint="`release config` shows the configuration in force; to start over, move "
            "those files away and run `release init --dry-run` first",
        )
    pin = None
    if action is not None:
        from release import __version__

        pin = ActionPin.parse(action, __version__)
        if pin is None:
            raise UsageError(
                f"--action {action!r} is not OWNER/REPO@SHA",
                hint="pin the action by a full 40-character commit SHA",
            )
    else:
        pin = own_action_pin()
    tags = git.tags()
    branches = _branches(git)
    current = git.current_branch()
    warnings: list[str] = []
    inference = infer(tags, branches, current) if tags else defaults_inference(branches, current)
    if not tags:
        warnings.append("no tags in this repository: the files hold Linkerd's defaults")
    anomalies = find_anomalies(tags, inference)
    if anomalies:  # infer again without them: they must not be anybody's latest
        kept = [t for t in tags if t.name not in anomalies]
        inference = infer(kept, branches, current)
    project, pyproject = _project_name(root)
    repository = _repository(git)
    sc = scaffold(
        inference,
        project=project,
        repository=repository,
        pyproject=pyproject,
        pin=pin,
        ignore_tags=anomalies,
        trust=not (root / TRUST_FILE).exists(),
    )
    taken = [p for p in sc.files if (root / p).exists()]
    if taken:
        raise ConfigError(
            f"init would overwrite {', '.join(taken)}",
            hint="move those files away, or compare them with `release init --dry-run`",
        )
    current_pyproject = (root / "pyproject.toml").read_text() if pyproject else None
    plan = InitPlan(
        root,
        inference,
        sc,
        anomalies,
        project,
        repository,
        tuple(warnings),
        current_pyproject,
    )
    _check_loads(plan)
    return plan


def _merged_pyproject(plan: InitPlan) -> str | None:
    if plan.pyproject_text is None:
        return None
    text = plan.pyproject_text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + plan.scaffold.append.get("pyproject.toml", "")


def _check_loads(plan: InitPlan) -> None:
    """Load the planned files through the schema in a scratch directory."""
    scratch = Path(tempfile.mkdtemp(prefix="release-init-"))
    try:
        target = scratch / plan.root.name
        target.mkdir()
        for path, text in plan.scaffold.files.items():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            (target / path).write_text(text)
        merged = _merged_pyproject(plan)
        if merged is not None:
            (target / "pyproject.toml").write_text(merged)
        try:
            config = load_config(target)
            load_trust(target / "channels")
        except ConfigError as exc:
            raise ConfigError(
                f"the files init planned do not load: {exc}",
                hint="this is a bug in release init; please report it with the plan of "
                "`release init --dry-run`",
            ) from None
        missing = [c.name for c in plan.inference.channels if c.name not in config.channels]
        if missing:
            raise ConfigError(f"the planned configuration lost channels {', '.join(missing)}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_init(plan: InitPlan) -> None:
    """Write the planned files. Raises :class:`ConfigError` when one appeared meanwhile."""
    root = plan.root
    taken = [p for p in plan.scaffold.files if (root / p).exists()]
    if taken or _configured(root):
        raise ConfigError(f"files appeared while init ran: {', '.join(taken) or 'config'}")
    merged = _merged_pyproject(plan)
    if merged is not None and (root / "pyproject.toml").read_text() != plan.pyproject_text:
        raise ConfigError("pyproject.toml changed while init ran; run init again")
    writes = [(root / p, t) for p, t in plan.scaffold.files.items()]
    if merged is not None:
        writes.append((root / "pyproject.toml", merged))
    for path, text in writes:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text.encode())
        except OSError as exc:
            raise ConfigError(
                f"cannot write {path}: {exc.strerror}",
                hint="files written before it stay; remove them and run init again",
            ) from None
