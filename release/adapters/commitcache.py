"""Per-commit facts the ledger needs — patch-ids and touched files — cached by commit id.

A commit never changes, so its patch-id and file list never go stale: they are
computed once (one ``git log -p | git patch-id`` pipeline, one ``git log
--name-only`` pass, for all missing commits at once) and appended to
``<git dir>/release-channels/ledger-cache-v1``. The second ``release stable
ledger`` on a long main only lists commit ids (``git rev-list``) and reads the file.

The file is append-only, one record a line (``P <sha> <patch-id or ->`` and ``F
<sha> <path>\\x1f<path>…``); a torn or unknown line is skipped, so concurrent runs
and crashes at worst recompute a commit. ``RELEASE_LEDGER_CACHE=0`` in the
environment turns the cache off.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from release.adapters.git import Git, patch_ids
from release.errors import GitError

log = logging.getLogger(__name__)

CACHE_NAME = "ledger-cache-v1"
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_SEP = "\x1f"
_NONE = "-"


def cache_path(git: Git) -> Path:
    """Where the cache of the repository lives (inside its git directory)."""
    common = Path(git.out("rev-parse", "--git-common-dir"))
    git_dir = common if common.is_absolute() else git.root / common
    return git_dir / "release-channels" / CACHE_NAME


class CommitCache:
    """Patch-ids and file lists of commits, read once, appended as they are computed."""

    def __init__(self, git: Git, *, enabled: bool | None = None) -> None:
        self.git = git
        if enabled is None:
            enabled = os.environ.get("RELEASE_LEDGER_CACHE", "1") != "0"
        self.enabled = enabled
        self.path = cache_path(git) if enabled else None
        self._pids: dict[str, str] = {}
        self._files: dict[str, frozenset[str]] = {}
        self.computed = 0  # facts (patch-ids, file lists) this instance computed
        if self.path is not None:
            self._load(self.path)

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as exc:
            log.debug("ledger cache %s unreadable (%s); recomputing", path, exc)
            return
        for line in text.splitlines():
            kind, _, rest = line.partition(" ")
            sha, _, value = rest.partition(" ")
            if not _SHA.fullmatch(sha):
                continue
            if kind == "P" and value:
                self._pids[sha] = value
            elif kind == "F":
                self._files[sha] = frozenset(p for p in value.split(_SEP) if p)

    def _append(self, lines: list[str]) -> None:
        if self.path is None or not lines:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, "".join(f"{ln}\n" for ln in lines).encode())
            finally:
                os.close(fd)
        except OSError as exc:  # a read-only clone still answers, only slower
            log.debug("ledger cache %s not written (%s)", self.path, exc)

    def commits(self, rev_range: Sequence[str]) -> list[str]:
        """The non-merge commit ids of ``rev_range`` (one ``git rev-list``)."""
        res = self.git.run("rev-list", "--no-merges", *rev_range, "--", check=False)
        if res.returncode != 0:
            detail = (res.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise GitError(f"cannot read history {' '.join(rev_range)}: {detail}")
        return res.stdout.split()

    def patch_ids(self, rev_range: Sequence[str]) -> dict[str, str]:
        """``{commit: patch-id}`` of the non-merge commits of ``rev_range`` (commits
        with an empty diff are absent). Raises :class:`GitError`."""
        shas = self.commits(rev_range)
        missing = [s for s in shas if s not in self._pids]
        if missing:
            found = patch_ids(self.git, [], commits=missing)
            self.computed += len(missing)
            for s in missing:
                self._pids[s] = found.get(s, _NONE)
            self._append([f"P {s} {self._pids[s]}" for s in missing])
        return {s: pid for s in shas if (pid := self._pids[s]) != _NONE}

    def files(self, shas: Sequence[str]) -> dict[str, frozenset[str]]:
        """``{commit: paths it touches}`` for ``shas`` (non-merge commits). Raises
        :class:`GitError`."""
        missing = [s for s in dict.fromkeys(shas) if s not in self._files]
        if missing:
            self._files.update(_name_only(self.git, missing))
            self.computed += len(missing)
            for s in missing:
                self._files.setdefault(s, frozenset())
            self._append([f"F {s} {_SEP.join(sorted(self._files[s]))}" for s in missing])
        return {s: self._files[s] for s in shas}


def _name_only(git: Git, shas: Sequence[str]) -> dict[str, frozenset[str]]:
    """One ``git log --name-only`` pass over exactly ``shas``."""
    res = git.run(
        "-c",
        "core.quotePath=false",
        "log",
        "--no-walk=unsorted",
        "--stdin",
        "--no-renames",
        "--name-only",
        "--format=%x1e%H",
        check=False,
        input="".join(f"{s}\n" for s in shas),
    )
    if res.returncode != 0:
        detail = (res.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise GitError(f"cannot list the files of {len(shas)} commits: {detail}")
    out: dict[str, frozenset[str]] = {}
    for rec in res.stdout.split("\x1e"):
        lines = [ln for ln in rec.splitlines() if ln.strip()]
        if lines and _SHA.fullmatch(lines[0]):
            out[lines[0]] = frozenset(lines[1:])
    return out
