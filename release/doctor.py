"""``release doctor``: find (and with ``--repair`` fix) what crashes and kills left.

- stale pick worktrees, temp dirs and partial files of killed runs
  (:mod:`release.recovery`);
- leftover locks of ours: the channel store lock file when no process holds it, and
  ``locked`` markers of our pick worktrees (removed with them);
- unreferenced documents: versioned documents no index up to the current one reaches
  (left by a crashed or losing publisher), older than the index expiry;
- journals that do not match the tags: a finished release whose tag is missing or on
  another commit. Those are reported only: records and tags are never changed.

Never touches a published tag, the current index or anything it reaches.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from release import recovery
from release.adapters.git import Git
from release.errors import ChannelError

DOC_DIRS = ("index", "channels")


@dataclass
class Finding:
    kind: str  # worktree | tempdir | partial | lock | orphan | journal
    path: str
    detail: str
    repairable: bool = True
    repaired: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "path": self.path,
            "detail": self.detail,
            "repairable": self.repairable,
            "repaired": self.repaired,
        }


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def unresolved(self) -> list[Finding]:
        return [f for f in self.findings if not f.repaired]


def _lock_held(path: Path) -> bool:
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _reachable(out: Path) -> tuple[set[str], int] | None:
    """Store paths reached from every index version up to the current one (and the
    current index version), ``None`` when the store has no readable index."""
    from release.channel import model
    from release.channel.store import ChannelStore

    store = ChannelStore(out)
    try:
        current = store.read_index()
    except (ChannelError, OSError, ValueError):  # unreadable: call nothing an orphan
        return None
    if current is None:
        return None
    seen: set[str] = set()
    for v in range(1, current.version + 1):
        rel = f"index/v{v}.json"
        seen.add(rel)
        try:
            index = model.parse_index(store.path(rel).read_bytes()).document
        except (OSError, ValueError):
            continue
        for name, entry in index.channels.items():
            seen.add(entry.document.path)
            try:
                doc = store.read_channel(name, index)
            except (ChannelError, OSError, ValueError):
                continue
            for line in doc.lines if doc is not None else ():
                seen.add(line.document.path)
    return seen, current.version


def _documents(out: Path) -> Iterator[Path]:
    for top in DOC_DIRS:
        base = out / top
        if not base.is_dir():
            continue
        for path in base.rglob("v*.json"):
            if path.name.endswith(".sigstore.json"):
                continue
            yield path


def orphans(out: Path, now: datetime, expiry: timedelta) -> list[Path]:
    """Versioned documents no index reaches, last modified before ``now - expiry``
    (schema 2: metadata and documents above the versions the timestamp reaches)."""
    cutoff = (now - expiry).timestamp()
    if (out / "metadata").is_dir():
        from release.channel.backends.directory import DirectoryBackend
        from release.channel.tuf.repo import TufStore

        try:
            keys = TufStore(DirectoryBackend(out)).orphans()
        except (ChannelError, OSError, ValueError):  # unreadable: call nothing an orphan
            return []
        old = []
        for key in keys:
            with contextlib.suppress(OSError):
                if (out / key).stat().st_mtime < cutoff:
                    old.append(out / key)
        return sorted(old)
    reach = _reachable(out)
    if reach is None:
        return []
    seen, _ = reach
    cutoff = (now - expiry).timestamp()
    found = []
    for path in _documents(out):
        rel = path.relative_to(out).as_posix()
        if rel in seen:
            continue
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                found.append(path)
    return sorted(found)


def journal_mismatches(git: Git, out: Path) -> list[Finding]:
    """Finished releases recorded in journals whose tag is missing or elsewhere."""
    work = out / ".release-work"
    if not work.is_dir():
        return []
    tags: dict[str, str] = {}
    res = git.run(
        "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/tags", check=False
    )
    peeled = git.run(
        "for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags", check=False
    )
    for text in (res.stdout, peeled.stdout):
        for ln in text.splitlines():
            name, _, sha = ln.partition(" ")
            if sha:
                tags[name] = sha  # the peeled commit (second pass) wins for annotated tags
    found = []
    for path in sorted(work.glob("*/done/*.json")) + sorted(work.glob("*/journal.json")):
        try:
            data = json.loads(path.read_bytes())
            done, steps = bool(data["done"]), data["steps"]
            tag = str(data["inputs"]["plan"]["tag"])
        except (OSError, ValueError, KeyError, TypeError):
            found.append(
                Finding("journal", str(path), "unreadable or corrupt journal", repairable=False)
            )
            continue
        recorded = steps.get("tag", {}).get("commit") if isinstance(steps, dict) else None
        if not done or recorded is None:
            continue
        actual = tags.get(tag)
        if actual is None:
            detail = f"records {tag} on {str(recorded)[:12]}, but there is no such tag here"
        elif actual != recorded:
            detail = f"records {tag} on {str(recorded)[:12]}, the tag is on {actual[:12]}"
        else:
            continue
        found.append(Finding("journal", str(path), detail, repairable=False))
    return found


def examine(
    git: Git | None, out: Path | None, *, now: datetime, expiry: timedelta, repair: bool
) -> Report:
    """Everything doctor finds; with ``repair``, the repairable findings fixed."""
    from release.channel.backends.directory import LOCK_NAME

    report = Report()
    left = recovery.find(git, out)
    report.findings += [
        Finding("worktree", p, "pick worktree of a killed run") for p in left.worktrees
    ]
    report.findings += [
        Finding("tempdir", str(p), "temp dir of a killed run") for p in left.temp_dirs
    ]
    report.findings += [
        Finding("partial", str(p), "partial file of a killed run") for p in left.partial_files
    ]
    if repair and left:
        recovery.repair(git, left)
        for f in report.findings:
            f.repaired = True
    if out is not None:
        lock = out / LOCK_NAME
        if lock.exists() and not _lock_held(lock):
            f = Finding("lock", str(lock), "channel store lock file, held by no process")
            if repair:
                lock.unlink(missing_ok=True)
                f.repaired = True
            report.findings.append(f)
        for path in orphans(out, now, expiry):
            f = Finding("orphan", str(path), "document no index reaches (a crashed publisher's)")
            if repair:
                path.unlink(missing_ok=True)
                path.with_name(path.name + ".sigstore.json").unlink(missing_ok=True)
                f.repaired = True
            report.findings.append(f)
        if git is not None:
            report.findings += journal_mismatches(git, out)
    return report
