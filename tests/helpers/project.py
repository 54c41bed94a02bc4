"""A small releasable project in a temp git repo (with a bare origin)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.gitrepo import Repo

BUILD = (
    "import pathlib,sys; out=pathlib.Path(sys.argv[1]); v=sys.argv[2]; "
    "(out/f'tool-{v}-linux-amd64').write_bytes(b'binary '+v.encode()); "
    "(out/f'tool-{v}.tar.gz').write_bytes(b'source '+v.encode())"
)

PYPROJECT = f"""\
[tool.release]
project = "tool"
repository = "https://github.com/example/tool"
changelog-commit = true

[[tool.release.build]]
name = "tool"
command = ["{{python}}", "-c", {BUILD!r}, "{{out}}", "{{version}}"]
artifacts = ["tool-{{version}}-linux-amd64", "tool-{{version}}.tar.gz"]
"""

EDGE_TOML = """\
name = "edge"
kind = "edge"
tag-format = "edge-{yy}.{m}.{n}"
[signer]
identity = "https://github.com/example/tool/.github/workflows/edge.yml@refs/heads/main"
issuer = "https://token.actions.githubusercontent.com"
[dev-signer]
identity = "edge@dev.invalid"
issuer = "https://dev.invalid"
"""

STABLE_TOML = """\
name = "stable"
kind = "stable"
tag-format = "stable-{version}"
branch-format = "{major}.{minor}.x"
[signer]
identity = "https://github.com/example/tool/.github/workflows/stable.yml@refs/heads/main"
issuer = "https://token.actions.githubusercontent.com"
[dev-signer]
identity = "stable@dev.invalid"
issuer = "https://dev.invalid"
"""

CHANGELOG = """\
# Changelog

## [Unreleased]

### Added

- A hand-written entry.
"""


def make_project(repo: Repo, *, extra_files: dict[str, str] | None = None) -> Repo:
    files = {
        "pyproject.toml": PYPROJECT,
        "channels/edge.toml": EDGE_TOML,
        "channels/stable.toml": STABLE_TOML,
        "CHANGELOG.md": CHANGELOG,
        ".gitignore": "dist/\n",
        **(extra_files or {}),
    }
    repo.commit("chore: initial project", files=files, date="2026-10-01T10:00:00Z")
    repo.commit("feat: add the first feature (#1)", date="2026-10-02T10:00:00Z")
    repo.commit("fix: repair the thing (#2)", date="2026-10-03T10:00:00Z")
    repo.git("push", "-q", "origin", "main")
    return repo


def run_release(
    repo: Repo, *args: str, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    full_env = {**os.environ, **repo.env, **(env or {})}
    root = Path(__file__).resolve().parents[2]
    full_env["PYTHONPATH"] = str(root) + os.pathsep + full_env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "release", "--repo", str(repo.path), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=repo.path,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"release {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def tree_digest(path: Path) -> dict[str, str]:
    """Every file under ``path`` with its sha256 (for byte-for-byte comparisons)."""
    if not path.exists():
        return {}
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }
