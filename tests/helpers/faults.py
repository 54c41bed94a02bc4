"""Invariants every fault-injection test checks (docs/failures.md#guarantees), and the
small filesystems (tmpfs, or an injected errno where mounting is not allowed)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.gitrepo import Repo
from tests.helpers.project import run_release, tree_digest

TAG = "edge-26.11.1"
DATE = ["--date", "2026-11-25"]


def out_dir(repo: Repo) -> Path:
    return repo.path / "dist" / "channel"


def released_files(out: Path, tag: str = TAG) -> dict[str, str]:
    """The release's files minus signatures, which differ per signing."""
    return {
        name: digest
        for name, digest in tree_digest(out / "releases" / tag).items()
        if not name.endswith(".sigstore.json") and name != "dev-trust-config.json"
    }


def tag_facts(repo: Repo, tag: str = TAG) -> tuple[str, str]:
    return repo.git("rev-parse", f"{tag}^{{tree}}"), repo.git("rev-list", "--count", tag)


def partial_files(path: Path) -> list[str]:
    return sorted(str(p) for p in path.rglob(".*.tmp")) if path.exists() else []


def assert_git_clean(repo: Repo, tmp: Path) -> None:
    """No stale worktree (git fsck passes, nothing under .git/worktrees), no temp dir of ours."""
    fsck = subprocess.run(
        ["git", "fsck", "--no-dangling", "--no-progress"],
        cwd=repo.path,
        env=repo.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    listed = repo.git("worktree", "list", "--porcelain").count("worktree ")
    assert listed == 1, repo.git("worktree", "list")
    admin = repo.path / ".git" / "worktrees"
    assert not admin.exists() or not any(admin.iterdir()), list(admin.iterdir())
    leftovers = [
        p.name for p in tmp.iterdir() if p.name.startswith(("release-pick-", "release-index-"))
    ]
    assert leftovers == []


def assert_channel_verifies(repo: Repo, out: Path, channel: str = "edge") -> None:
    """The published channel is complete: every document, pin and signature verifies."""
    proc = run_release(
        repo,
        "channel",
        "verify",
        "--source",
        str(out),
        "--channel",
        channel,
        "--root",
        str(out / "metadata" / "1.root.json"),
        "--state-dir",
        str(out.parent / f"verify-state-{channel}"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@dataclass
class SmallFs:
    """A directory that runs out of space (or is read-only): a real tmpfs when this
    machine lets us mount one (CI runs as root), else ``env`` injects the errno into
    release.files (``RELEASE_CHANNELS_FAULT_FS``)."""

    path: Path
    mounted: bool
    env: dict[str, str] = field(default_factory=dict)


def _mount(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def small_fs(path: Path, size: str, *, fault: str = "ENOSPC") -> Iterator[SmallFs]:
    try:
        mounted = _mount(path, f"size={size},mode=0755")
    except FileNotFoundError:
        mounted = False
    env = {} if mounted else {"RELEASE_CHANNELS_FAULT_FS": f"{fault}:{path}"}
    try:
        yield SmallFs(path, mounted, env)
    finally:
        if mounted:
            _umount(path)


def fill(fs: SmallFs) -> Path | None:
    """Use up the tmpfs (nothing to do with an injected errno, every write fails)."""
    if not fs.mounted:
        return None
    filler = fs.path / "filler"
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False
    )
    return filler


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[dict[str, str]]:
    """``path`` (a fresh directory) read-only: a read-only tmpfs when we can mount one
    (root ignores permission bits), else chmod plus an injected EROFS. Yields the env."""
    try:
        mounted = _mount(path, "ro,size=64k")
    except FileNotFoundError:
        mounted = False
    if mounted:
        try:
            yield {}
        finally:
            _umount(path)
        return
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    try:
        yield {"RELEASE_CHANNELS_FAULT_FS": f"EROFS:{path}"}
    finally:
        path.chmod(0o755)


@contextlib.contextmanager
def read_only_view(path: Path) -> Iterator[dict[str, str]]:
    """An existing directory made read-only in place: a read-only bind mount over it
    when we can mount, else chmod plus an injected EROFS. Yields the env."""
    bound = (
        subprocess.run(
            ["mount", "--bind", str(path), str(path)], capture_output=True, check=False
        ).returncode
        == 0
    )
    if bound:
        ro = (
            subprocess.run(
                ["mount", "-o", "remount,ro,bind", str(path)], capture_output=True, check=False
            ).returncode
            == 0
        )
        try:
            if ro:
                yield {}
                return
        finally:
            _umount(path)
    modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")] if p.is_dir()}
    for p in modes:
        p.chmod(0o555)
    try:
        yield {"RELEASE_CHANNELS_FAULT_FS": f"EROFS:{path}"}
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
