"""Running a release plan: under the repository lock, with a journal, so a crashed run
resumes and a failed one before ``tag`` leaves everything as it was (see
:mod:`release.pipeline` for the steps)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from release.adapters.git import Git
from release.config import ChannelConfig, ProjectConfig
from release.errors import (
    JournalError,
)
from release.files import write_atomic
from release.journal import Journal
from release.pipeline import (
    RUN_DIRS,
    EventSink,
    Run,
    RunOptions,
    RunResult,
    keep_record,
    read_if_file,
    work_root,
)
from release.plan import ReleasePlan, plan_from_dict, plan_to_journal

# -- entry point shared by edge and stable ---------------------------------------------


def run_release(
    git: Git,
    config: ProjectConfig,
    channel: ChannelConfig,
    opts: RunOptions,
    make_plan: Callable[[], ReleasePlan],
    emit: EventSink,
    *,
    journal_name: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    finished_is_history: bool = False,
) -> RunResult:
    """Resume the channel's in-flight release, or plan (preflight) and run a new one.

    ``journal_name`` (default: the channel's name) separates in-flight releases that
    may coexist, such as one per stable line. ``inputs`` are recorded in a new
    journal beside the plan (what the user asked for); ``finished_is_history`` makes a
    finished release of this journal a record only, so a new one is planned.
    """
    with _repository_lock(git):
        return _run_release_locked(
            git,
            config,
            channel,
            opts,
            make_plan,
            emit,
            journal_name,
            inputs,
            finished_is_history,
        )


@contextlib.contextmanager
def _repository_lock(git: Git) -> Iterator[None]:
    """One release run at a time per repository: an exclusive ``flock`` on the git
    directory itself (no lock file is created, so a refused run changes nothing)."""
    import fcntl

    common = Path(git.out("rev-parse", "--git-common-dir"))
    git_dir = common if common.is_absolute() else git.root / common
    fd = os.open(git_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JournalError(
                "another release is running in this repository",
                hint="wait for it to finish; releases of one repository never run at once",
            ) from None
        yield
    finally:
        os.close(fd)


def _run_release_locked(
    git: Git,
    config: ProjectConfig,
    channel: ChannelConfig,
    opts: RunOptions,
    make_plan: Callable[[], ReleasePlan],
    emit: EventSink,
    journal_name: str | None,
    inputs: Mapping[str, Any] | None = None,
    finished_is_history: bool = False,
) -> RunResult:
    work = work_root(opts.out) / (journal_name or channel.name)
    journal_path = work / "journal.json"
    if not opts.dry_run:
        from release.recovery import recover

        recover(git, opts.out, lambda text: emit("cleanup", "warn", text))
    journal = load_journal(journal_path, dry_run=opts.dry_run)
    head = git.head()
    if journal is not None:
        head = _release_head(git, plan_from_dict(journal.inputs["plan"]), head)
    if journal is not None and journal.done:
        plan = plan_from_dict(journal.inputs["plan"])
        released = journal.steps.get("prepare", {}).get("release_commit")
        if not opts.dry_run:
            keep_record(journal)  # a kill between done and its record: repair it
        if finished_is_history or head not in (released, plan.base_commit):
            journal = None  # HEAD moved on: a new release (the record stays in done/)
        elif opts.push and "push" not in journal.steps:
            if opts.dry_run:
                return RunResult(plan, "planned", plan.to_dict())
            journal.done = False  # released locally before; now push it
        else:
            return RunResult(plan, "already-released", {"tag": plan.tag, "commit": released})
    if journal is not None:
        plan = plan_from_dict(journal.inputs["plan"])
        released = journal.steps.get("prepare", {}).get("release_commit")
        if head not in (plan.base_commit, released) and plan.branch_exists:
            raise JournalError(
                f"an unfinished release of {plan.tag} started from {plan.base_commit[:12]}, "
                f"but HEAD is now {(head or 'nothing')[:12]}",
                hint=f"check out {plan.base_commit[:12]} to resume it; if nothing of it was "
                f"published, remove {journal_path} to start over",
            )
        if opts.dry_run:  # show what the resumed run would do; change nothing
            return RunResult(plan, "planned", plan.to_dict())
        if opts.push and not plan.push:
            plan = plan_from_dict({**journal.inputs["plan"], "push": True})
            journal.inputs["plan"] = plan_to_journal(plan)
            journal.save()
        emit("resume", "start", f"resuming {plan.tag} from its journal")
        run = Run(git, config, channel, plan, opts, journal, emit)
        return RunResult(plan, "released", run.execute())

    plan = make_plan()
    if opts.dry_run:
        return RunResult(plan, "planned", plan.to_dict())
    created = _first_missing(work)
    previous = read_if_file(journal_path)
    journal = Journal(journal_path, {**(inputs or {}), "plan": plan_to_journal(plan)})
    run = Run(git, config, channel, plan, opts, journal, emit)
    try:
        journal.save()
        summary = run.execute()
    except BaseException:
        if not ({"tag", "publish", "push", "github"} & set(journal.steps)):
            # Nothing left the work directory: undo what this run created, and only that
            # (the records of earlier releases and their requests stay).
            _undo_run(work, journal_path, previous, created)
        raise
    return RunResult(plan, "released", summary)


def _undo_run(work: Path, journal_path: Path, previous: bytes | None, created: Path | None) -> None:
    with contextlib.suppress(OSError):
        for name in RUN_DIRS:
            shutil.rmtree(work / name, ignore_errors=True)
        if previous is None:
            journal_path.unlink(missing_ok=True)
        else:
            write_atomic(journal_path, previous)
        if created is not None:
            # Directories this run made, innermost first, while they are empty.
            for path in [work, *work.parents]:
                if not path.is_relative_to(created):
                    break
                if path.is_dir() and not any(path.iterdir()):
                    path.rmdir()


def load_journal(path: Path, *, dry_run: bool) -> Journal | None:
    """The journal at ``path`` checked against its schema and the plan's; a corrupt one is
    renamed aside (left in place by a dry run, which writes nothing) and refused."""
    return Journal.load(path, check_plan=plan_from_dict, move_aside=not dry_run)


def _release_head(git: Git, plan: ReleasePlan, head: str | None) -> str | None:
    """Where the release's branch is now. Edge releases are cut from HEAD; a stable
    line's branch is usually not checked out (the user stays on main), so its own
    head counts (``None`` while a new line's branch does not exist yet)."""
    if plan.kind == "edge":
        return head
    res = git.run("rev-parse", "-q", "--verify", f"refs/heads/{plan.branch}", check=False)
    return res.stdout.strip() or None


def _first_missing(path: Path) -> Path | None:
    """The outermost directory of ``path`` that does not exist yet (what a run creates)."""
    missing = None
    while not path.exists():
        missing = path
        if path.parent == path:
            break
        path = path.parent
    return missing
