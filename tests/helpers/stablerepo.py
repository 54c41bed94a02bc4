"""Temp repositories shaped for stable-line tests: config, edge tags, main history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from release.adapters.git import Git
from release.config import ProjectConfig, load_config
from release.pipeline import RunOptions
from tests.helpers.gitrepo import Repo, make_repo

PYPROJECT = """\
[tool.release]
project = "tool"
{repository}first-line = "{first_line}"
changelog-commit = {changelog_commit}

[[tool.release.build]]
name = "tool"
command = ["{{python}}", "-c", "import pathlib,sys; pathlib.Path(sys.argv[1]).write_text('x')", \
"{{out}}/tool-{{version}}.txt"]
artifacts = ["tool-{{version}}.txt"]
"""

EDGE_TOML = """\
name = "edge"
kind = "edge"
tag-format = "edge-{yy}.{m}.{n}"
[dev-signer]
identity = "edge@dev.invalid"
issuer = "https://dev.invalid"
"""

STABLE_TOML = """\
name = "stable"
kind = "stable"
tag-format = "stable-{{version}}"
branch-format = "{{major}}.{{minor}}.x"
[dev-signer]
identity = "stable@dev.invalid"
issuer = "https://dev.invalid"
[support]
maintained-lines = {maintained}
{extra}
"""

ACME_TOML = """\
name = "stable-acme"
kind = "stable"
tag-format = "acme-{version}"
branch-format = "acme-{major}.{minor}.x"
[dev-signer]
identity = "acme-{line}@dev.invalid"
issuer = "https://dev.invalid"
[support]
maintained-lines = 3
"""

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class StableRepo:
    repo: Repo
    shas: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.repo.path

    @property
    def git(self) -> Git:
        return Git(self.repo.path)

    def config(self) -> ProjectConfig:
        return load_config(self.repo.path)

    def opts(self, tmp: Path, **kw: object) -> RunOptions:
        args: dict[str, object] = {"out": tmp / "out", "now": NOW, "sign": "none", "env": {}}
        args.update(kw)
        return RunOptions(**args)  # type: ignore[arg-type]

    def tags(self) -> set[str]:
        return set(self.repo.git("tag", "--list").split())

    def head_of(self, ref: str) -> str:
        return self.repo.git("rev-parse", ref)


def make_stable_repo(
    tmp: Path,
    *,
    first_line: str = "2.14",
    maintained: int = 2,
    support_extra: str = "",
    acme: bool = False,
    changelog_commit: bool = False,
    repository: str | None = None,
) -> StableRepo:
    """main: config, #1, edge-26.10.1, #2 (two.txt), #3, edge-26.11.1, #4, #5 (five.txt)."""
    repo = make_repo(tmp)
    files = {
        "pyproject.toml": PYPROJECT.format(
            first_line=first_line,
            changelog_commit=str(changelog_commit).lower(),
            repository=f'repository = "{repository}"\n' if repository else "",
        ),
        "channels/edge.toml": EDGE_TOML,
        "channels/stable.toml": STABLE_TOML.format(maintained=maintained, extra=support_extra),
        "CHANGELOG.md": "# Changelog\n\n## [Unreleased]\n",
        "shared.txt": "line 1\nline 2\nline 3\n",
    }
    if acme:
        files["channels/stable-acme.toml"] = ACME_TOML
    sr = StableRepo(repo)
    sr.shas["config"] = repo.commit("chore: config", date="2026-10-01T10:00:00Z", files=files)
    sr.shas["1"] = repo.commit(
        "feat: one (#1)", date="2026-10-02T10:00:00Z", files={"one.txt": "1\n"}
    )
    repo.tag("edge-26.10.1", date="2026-10-03T10:00:00Z")
    sr.shas["2"] = repo.commit(
        "fix: two (#2)", date="2026-10-10T10:00:00Z", files={"two.txt": "2\n"}
    )
    sr.shas["3"] = repo.commit(
        "feat: three (#3)", date="2026-11-02T10:00:00Z", files={"three.txt": "3\n"}
    )
    repo.tag("edge-26.11.1", date="2026-11-03T10:00:00Z")
    sr.shas["4"] = repo.commit(
        "fix: four (#4)", date="2026-11-10T10:00:00Z", files={"four.txt": "4\n"}
    )
    sr.shas["5"] = repo.commit(
        "fix: five (#5)", date="2026-11-11T10:00:00Z", files={"five.txt": "5\n"}
    )
    repo.git("push", "-q", "origin", "main", "--tags")
    return sr
