"""What a killed run of this tool leaves behind, found and removed.

A run that is SIGKILLed (or loses power) cannot clean up after itself. What it may
leave, each recognised by a marker so another tool's files are never touched:

- partial files ``.NAME.rc-PID-….tmp`` of :func:`release.files.write_atomic`, in the
  channel store and the work directory (the ``rc-PID`` marker, PID no longer running);
- temp dirs ``release-pick-*`` / ``release-index-*`` in the system temp dir (a marker
  file with the creating PID, no longer running);
- git worktrees of those pick dirs (``.git/worktrees/<name>``), possibly still locked
  by an interrupted ``git worktree add``.

:func:`recover` runs at the start of every release run (and ``release doctor``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from release.adapters.git import Git
from release.files import TEMP_PREFIXES, partial_pid, pid_alive, tempdir_owner


@dataclass
class Leftovers:
    partial_files: list[Path] = field(default_factory=list)
    temp_dirs: list[Path] = field(default_factory=list)
    worktrees: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.partial_files or self.temp_dirs or self.worktrees)

    def describe(self) -> str:
        parts = []
        if self.partial_files:
            parts.append(f"{len(self.partial_files)} partial file(s)")
        if self.temp_dirs:
            parts.append(f"{len(self.temp_dirs)} temp dir(s)")
        if self.worktrees:
            parts.append(f"{len(self.worktrees)} stale worktree(s)")
        return ", ".join(parts)


def _walk_partials(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            pid = partial_pid(name)
            if pid is not None and not pid_alive(pid):
                yield Path(dirpath) / name


def stale_partials(out: Path) -> list[Path]:
    """Partial temp files of dead runs of ours under the store ``out``."""
    return sorted(_walk_partials(out))


def stale_tempdirs(tmp: Path | None = None) -> list[Path]:
    """Temp dirs of ours whose creating process is gone."""
    base = Path(tmp or tempfile.gettempdir())
    found = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return []
    for path in entries:
        if not path.name.startswith(TEMP_PREFIXES) or not path.is_dir():
            continue
        pid = tempdir_owner(path)
        if pid is not None and not pid_alive(pid):
            found.append(path)
    return sorted(found)


def _our_worktree(path: Path) -> bool:
    """A pick worktree of ours: ``<tmp>/release-pick-*/wt``, its marker's process gone
    (or the whole temp dir already gone)."""
    if path.name != "wt" or not path.parent.name.startswith("release-pick-"):
        return False
    if not path.parent.exists():
        return True
    pid = tempdir_owner(path.parent)
    return pid is not None and not pid_alive(pid)


def stale_worktrees(git: Git) -> list[str]:
    """Worktree paths of our pick worktrees left by dead runs (as git lists them)."""
    res = git.run("worktree", "list", "--porcelain", check=False)
    if res.returncode != 0:
        return []
    paths = [ln[len("worktree ") :] for ln in res.stdout.splitlines() if ln.startswith("worktree ")]
    return [p for p in paths[1:] if _our_worktree(Path(p))]


def _admin_dir(git: Git, worktree: str) -> Path | None:
    """``.git/worktrees/<name>`` of ``worktree`` (it names the worktree in ``gitdir``)."""
    common = Path(git.out("rev-parse", "--git-common-dir"))
    admin_root = (common if common.is_absolute() else git.root / common) / "worktrees"
    try:
        admins = list(admin_root.iterdir())
    except OSError:
        return None
    for admin in admins:
        try:
            gitdir = (admin / "gitdir").read_text().strip()
        except OSError:
            continue
        if Path(gitdir).parent == Path(worktree):
            return admin
    return None


def find(git: Git | None, out: Path | None) -> Leftovers:
    """Everything a killed run of ours left (changes nothing)."""
    return Leftovers(
        partial_files=stale_partials(out) if out is not None else [],
        temp_dirs=stale_tempdirs(),
        worktrees=stale_worktrees(git) if git is not None else [],
    )


def repair(git: Git | None, found: Leftovers) -> None:
    """Remove what :func:`find` found. Worktrees first (their dirs are in the temp dirs)."""
    for wt in found.worktrees:
        assert git is not None
        admin = _admin_dir(git, wt)
        if admin is not None:
            (admin / "locked").unlink(missing_ok=True)  # an interrupted `worktree add`
        git.run("worktree", "remove", "--force", "--force", wt, check=False)
        if admin is not None and admin.exists() and not Path(wt).exists():
            shutil.rmtree(admin, ignore_errors=True)
    if found.worktrees and git is not None:
        git.run("worktree", "prune", check=False)
    for path in found.temp_dirs:
        shutil.rmtree(path, ignore_errors=True)
    for path in found.partial_files:
        path.unlink(missing_ok=True)


def recover(git: Git | None, out: Path | None, say: Callable[[str], None]) -> Leftovers:
    """Find and remove a killed run's leftovers, and say so."""
    found = find(git, out)
    if found:
        repair(git, found)
        say(f"removed what an earlier killed run left: {found.describe()}")
    return found
