"""The pieces of docs/failures.md that need no release run: the exit-code table, OSError
translation, the journal schema, git's stderr, temp-file markers, output paths, a bug's
traceback line and leftovers of killed runs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from release import cli
from release.channel.fetch import FetchError
from release.cli._paths import output_dir
from release.cli.exitcodes import exit_code
from release.errors import (
    BuildError,
    ChannelError,
    ConfigError,
    GitError,
    JournalError,
    PreflightError,
    ReleaseError,
    UsageError,
    VerificationError,
    os_error,
)
from release.files import copy_atomic, marked_tempdir, partial_pid, temp_name, write_atomic
from release.journal import CorruptJournal, Journal
from release.plan import plan_from_dict
from release.recovery import stale_partials, stale_tempdirs

# -- docs/failures.md#exit-codes -------------------------------------------------------


@pytest.mark.parametrize(
    ("err", "code"),
    [
        (ReleaseError("x"), 1),
        (BuildError("x"), 1),
        (GitError("x"), 1),
        (ChannelError("x"), 1),
        (VerificationError("x"), 1),  # verification failed / attack refused
        (UsageError("x"), 2),
        (ConfigError("x"), 2),
        (FetchError("x"), 3),  # could not decide
        (PreflightError(["dirty"]), 4),
        (JournalError("another release is running"), 4),
    ],
)
def test_one_exit_code_table(err: ReleaseError, code: int) -> None:
    assert exit_code(err) == code


def test_exit_codes_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["next", "edge", "--date", "2026-13-45", "--repo", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error:")
    assert cli.main(["status", "--repo", str(tmp_path / "missing")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error:")
    assert "Traceback" not in err


def test_a_bug_shows_its_traceback_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # docs/failures.md#bug
    def broken(args: object, out: object) -> int:
        raise RuntimeError("boom")

    import release.cli.info

    monkeypatch.setattr(release.cli.info, "cmd_status", broken)
    assert cli.main(["status"]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "RuntimeError: boom" in err
    assert "error: this is a bug in release-channels" in err


def test_oserror_reaching_the_cli_is_one_error_and_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(args: object, out: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/srv/channel/index.html")

    import release.cli.info

    monkeypatch.setattr(release.cli.info, "cmd_status", full)
    assert cli.main(["status"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "error: cannot access /srv/channel/index.html: No space left on device"
    assert lines[1].startswith("hint: the disk is full")
    assert len(lines) == 2


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EACCES, "permissions"),
        (errno.EROFS, "read-only"),
        (errno.EISDIR, "directory is in the way"),
        (errno.ENOTDIR, "file is in the way"),
    ],
)
def test_os_errors_name_the_path_and_what_to_do(code: int, hint: str) -> None:
    err = os_error(OSError(code, os.strerror(code), "/x/y"), action="write")
    assert err.message == f"cannot write /x/y: {os.strerror(code)}"
    assert err.hint is not None
    assert hint in err.hint
    assert exit_code(err) == 1


def test_a_failed_write_names_the_target_not_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "dir-in-the-way"
    target.mkdir()
    with pytest.raises(OSError) as info:
        write_atomic(target, b"x")
    assert info.value.filename == str(target)
    assert os.listdir(tmp_path) == ["dir-in-the-way"]  # no partial file left


# -- docs/failures.md#corrupt-journal ----------------------------------------------------


def _journal(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "journal.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([1, 2], "expected a JSON object, got list"),
        ({"format": 1, "inputs": {}, "steps": {}}, "missing key 'done'"),
        ({"format": 1, "inputs": [], "steps": {}, "done": False}, "'inputs' must be dict"),
        ({"format": 1, "inputs": {}, "steps": {"x": {}}, "done": False}, "unknown step 'x'"),
        (
            {"format": 1, "inputs": {}, "steps": {"prepare": {"release_commit": 5}}, "done": 1},
            "'done' must be bool",
        ),
        (
            {"format": 1, "inputs": {}, "steps": {"prepare": {"release_commit": 5}}, "done": True},
            "step 'prepare': 'release_commit' is missing or of the wrong type",
        ),
        (
            {"format": 1, "inputs": {"plan": {"kind": "edge"}}, "steps": {}, "done": False},
            "inputs.plan is invalid",
        ),
    ],
)
def test_corrupt_journals_are_set_aside(tmp_path: Path, data: object, reason: str) -> None:
    path = _journal(tmp_path, data)
    with pytest.raises(CorruptJournal, match="is corrupt") as info:
        Journal.load(path, check_plan=plan_from_dict, move_aside=True)
    assert reason in info.value.message
    assert info.value.moved_to == tmp_path / "journal.corrupt-1.json"
    assert not path.exists()
    assert json.loads(info.value.moved_to.read_text()) == data  # kept as it was
    assert exit_code(info.value) == 4


def test_a_dry_run_leaves_a_corrupt_journal_in_place(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    path.write_bytes(b"\xff\xfe not json")
    with pytest.raises(CorruptJournal) as info:
        Journal.load(path)
    assert info.value.moved_to is None
    assert path.read_bytes() == b"\xff\xfe not json"


# -- docs/failures.md#git ----------------------------------------------------------------


def test_git_errors_show_all_of_stderr_with_the_relevant_line_first(tmp_path: Path) -> None:
    from release.adapters.git import Git, stderr_summary

    stderr = (
        "To origin\n ! [rejected]        main -> main (non-fast-forward)\n"
        "error: failed to push some refs to 'origin'\n"
        "hint: Updates were rejected because the tip of your current branch is behind\n"
    )
    summary = stderr_summary(stderr)
    assert summary.startswith("! [rejected]        main -> main (non-fast-forward) | To origin")
    assert "hint: Updates were rejected" in summary
    assert stderr_summary("fatal: cannot lock ref 'refs/heads/x': exists\nother") == (
        "fatal: cannot lock ref 'refs/heads/x': exists | other"
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with pytest.raises(GitError, match="git rev-parse failed: fatal:"):
        Git(tmp_path).run("rev-parse", "--verify", "nothing-here")


# -- docs/failures.md#killed -------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_temp_names_carry_a_marker_and_the_pid(tmp_path: Path) -> None:
    name = temp_name(tmp_path / "tool-26.11.1.tar.gz").name
    assert partial_pid(name) == os.getpid()
    for foreign in (".index.json.1234.tmp", ".swp.tmp", "index.json", ".x.rc-.tmp"):
        assert partial_pid(foreign) is None


def test_leftovers_of_dead_runs_are_found_never_other_tools_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _dead_pid()
    store = tmp_path / "store"
    (store / "releases" / "t").mkdir(parents=True)
    ours = store / "releases" / "t" / f".a.bin.rc-{dead}-1-2.tmp"
    ours.write_bytes(b"partial")
    live = store / f".index.json.rc-{os.getpid()}-1-2.tmp"
    live.write_bytes(b"a write in progress")
    foreign = store / ".editor.swp.tmp"
    foreign.write_bytes(b"not ours")
    assert stale_partials(store) == [ours]

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    mine_alive = marked_tempdir("release-pick-")
    mine_dead = marked_tempdir("release-index-")
    (mine_dead / ".release-channels-pid").write_text(f"{dead}\n")
    unmarked = tmp_path / "release-pick-someone-else"
    unmarked.mkdir()
    assert stale_tempdirs() == [mine_dead]
    assert mine_alive.exists()
    assert unmarked.exists()


def test_copy_atomic_leaves_nothing_on_failure(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"x" * 1000)
    dest = tmp_path / "out" / "dest"
    dest.parent.mkdir()
    os.environ["RELEASE_CHANNELS_FAULT_FS"] = f"ENOSPC:{tmp_path / 'out'}"
    try:
        with pytest.raises(OSError) as info:
            copy_atomic(src, dest)
    finally:
        del os.environ["RELEASE_CHANNELS_FAULT_FS"]
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(dest)
    assert list(dest.parent.iterdir()) == []
    copy_atomic(src, dest)
    assert dest.read_bytes() == src.read_bytes()
    assert list(dest.parent.iterdir()) == [dest]


# -- docs/failures.md#paths --------------------------------------------------------------


def test_output_dir_refuses_empty_and_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--out is empty"):
        output_dir("", "--out")
    with pytest.raises(UsageError, match="--out is empty"):
        output_dir("  ", "--out")
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(UsageError, match="is an existing file"):
        output_dir(f, "--to")
    with pytest.raises(UsageError, match="is under an existing file"):
        output_dir(f / "sub", "--to")
    assert output_dir(tmp_path / "new" / "dir", "--to") == (tmp_path / "new" / "dir").resolve()
    assert not (tmp_path / "new").exists()  # checking writes nothing


def test_a_source_path_that_is_not_utf8_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = os.fsdecode(os.fsencode(str(tmp_path)) + b"/\xff\xfe")
    code = cli.main(["channel", "latest", "--source", source, "--state-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[0].endswith("is not valid UTF-8")
    assert "Traceback" not in err


# -- docs/failures.md#store --------------------------------------------------------------


def test_store_problems_never_write_and_name_the_broken_file(tmp_path: Path) -> None:
    from release.channel.store import store_problems

    missing = tmp_path / "new" / "store"
    assert store_problems(missing) == []
    assert not (tmp_path / "new").exists()
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "index.json").write_text('{"schema_version": "1.0"}')
    [problem] = store_problems(legacy)
    assert "is not a valid channel store" in problem
    assert store_problems(tmp_path, need=1 << 60)[0].endswith("(artifacts plus a margin)")
