"""Real git repositories in temporary directories, with a bare origin.

Everything runs the real git CLI with an isolated environment: no global or
system config, a fixed identity, and dates that tests control.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


def git_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig-none"),
        GIT_AUTHOR_NAME="Test Author",
        GIT_AUTHOR_EMAIL="author@example.com",
        GIT_COMMITTER_NAME="Test Committer",
        GIT_COMMITTER_EMAIL="committer@example.com",
        GIT_TERMINAL_PROMPT="0",
    )
    return env


@dataclass
class Repo:
    """A working clone at ``path`` whose ``origin`` is the bare repo at ``origin``."""

    path: Path
    origin: Path
    env: dict[str, str]

    def git(self, *args: str, date: str | None = None, check: bool = True) -> str:
        env = dict(self.env)
        if date:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        proc = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout.strip()

    def commit(
        self,
        subject: str,
        *,
        date: str | None = None,
        files: dict[str, str] | None = None,
        body: str = "",
        author: str | None = None,
    ) -> str:
        for name, content in (files or {f"f-{abs(hash(subject)) % 10**8}.txt": subject}).items():
            p = self.path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)
            self.git("add", name)
        args = ["commit", "-q", "-m", subject]
        if body:
            args += ["-m", body]
        if author:
            args += ["--author", author]
        self.git(*args, date=date)
        return self.git("rev-parse", "HEAD")

    def tag(
        self, name: str, *, date: str | None = None, ref: str = "HEAD", message: str | None = None
    ) -> None:
        self.git("tag", "-a", name, "-m", message or name, ref, date=date)

    def snapshot(self) -> dict[str, str]:
        """Refs, HEAD and status of the clone and its origin, for byte-for-byte comparisons."""

        def refs(cwd: Path) -> str:
            return subprocess.run(
                ["git", "for-each-ref", "--format=%(refname) %(objectname)"],
                cwd=cwd,
                env=self.env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout

        return {
            "refs": refs(self.path),
            "origin": refs(self.origin),
            "head": self.git("rev-parse", "HEAD", check=False),
            "symbolic": self.git("symbolic-ref", "-q", "HEAD", check=False),
            "status": self.git("status", "--porcelain", "--ignored"),
        }


def make_repo(tmp: Path, *, branch: str = "main") -> Repo:
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = git_env(home)
    origin = tmp / "origin.git"
    work = tmp / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", branch, str(origin)], env=env, check=True)
    subprocess.run(["git", "init", "-q", "-b", branch, str(work)], env=env, check=True)
    repo = Repo(work, origin, env)
    repo.git("remote", "add", "origin", str(origin))
    return repo
