"""Fault injection on `release edge`: kills at every step boundary and inside steps,
double kills, Ctrl-C and SIGTERM, a full disk, read-only and corrupt inputs.

Each test checks the guarantees of docs/failures.md#guarantees: the published channel
complete and verifiable, git refs old-or-new, no stale worktree or temp file, earlier
records kept, and a resumed release equal to one never killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.faults import (
    DATE,
    TAG,
    assert_channel_verifies,
    assert_git_clean,
    fill,
    out_dir,
    partial_files,
    read_only,
    read_only_view,
    released_files,
    small_fs,
    tag_facts,
)
from tests.helpers.gitrepo import Repo, make_repo
from tests.helpers.project import make_project, run_release, tree_digest

RUN = ["edge", *DATE, "--sign", "dev"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A release never killed, of the same history (the commits have fixed dates)."""
    twin = make_project(make_repo(tmp_path_factory.mktemp("twin")))
    run_release(twin, *RUN, check=True)
    return {"tag": tag_facts(twin), "files": released_files(out_dir(twin))}


@pytest.fixture
def project(repo: Repo, tmp_path: Path) -> Repo:
    proj = make_project(repo)
    (tmp_path / "tmp").mkdir()
    proj.env["TMPDIR"] = str(tmp_path / "tmp")
    return proj


def _run(project: Repo, *args: str, fault: str | None = None, **env: str):  # type: ignore[no-untyped-def]
    extra = dict(env)
    if fault:
        extra["RELEASE_CHANNELS_FAULT"] = fault
    return run_release(project, *args, env=extra)


def _assert_resumed_equals_reference(
    project: Repo, tmp_path: Path, reference: dict[str, object]
) -> None:
    out = out_dir(project)
    assert tag_facts(project) == reference["tag"]
    assert released_files(out) == reference["files"]
    assert partial_files(out) == []
    assert_git_clean(project, tmp_path / "tmp")
    assert_channel_verifies(project, out)
    assert (out / ".release-work" / "edge" / "done" / f"{TAG}.json").is_file()
    again = _run(project, *RUN)
    assert again.returncode == 0, again.stderr
    assert "already released" in again.stdout, again.stderr


# -- kills (docs/failures.md#killed) ----------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        ["kill-at:finish"],  # done, its record not yet written
        ["kill-at:publish-files"],  # inside publish: files placed, index not moved
        ["kill-at:publish-index"],  # inside publish: index swapped, page not written
        ["kill-after:build", "kill-after:tag"],  # a double kill
        ["kill-at:publish-files", "kill-at:publish-index"],  # killed twice inside one step
    ],
)
def test_kill_inside_steps_and_double_kills_then_resume(
    project: Repo, tmp_path: Path, reference: dict[str, object], faults: list[str]
) -> None:
    before = project.git("rev-parse", "refs/heads/main")
    for fault in faults:
        killed = _run(project, *RUN, fault=fault)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        # git refs are old or new, never anything else
        main = project.git("rev-parse", "refs/heads/main")
        tagged = project.git("rev-parse", "-q", "--verify", f"refs/tags/{TAG}", check=False)
        new = project.git("rev-parse", f"{TAG}^{{}}") if tagged else None
        assert main in (before, new)
    resumed = _run(project, *RUN)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    _assert_resumed_equals_reference(project, tmp_path, reference)


def test_kill_at_random_moments_then_resume(
    project: Repo, tmp_path: Path, reference: dict[str, object]
) -> None:
    """SIGKILL from outside at spread-out moments of one run, resuming after each."""
    argv = [sys.executable, "-m", "release", "--repo", str(project.path), *RUN]
    env = {**project.env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for delay in (0.6, 1.4, 2.2):
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    resumed = _run(project, *RUN)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    _assert_resumed_equals_reference(project, tmp_path, reference)


def test_kill_during_push_then_resume(project: Repo, tmp_path: Path) -> None:
    killed = _run(project, *RUN, "--push", "--allow-dev-signatures", fault="kill-at:push-sent")
    assert killed.returncode == -signal.SIGKILL
    resumed = _run(project, *RUN, "--push", "--allow-dev-signatures")
    assert resumed.returncode == 0, resumed.stderr
    remote = project.git("ls-remote", "origin")
    assert f"refs/tags/{TAG}" in remote  # branch and tag together (--atomic)
    assert project.git("rev-parse", "main") in remote.split("refs/heads/main")[0]
    assert_git_clean(project, tmp_path / "tmp")


@pytest.mark.parametrize(
    ("fault", "code", "word"),
    [("int-at:build", 130, "interrupted"), ("term-at:sign", 143, "terminated")],
)
def test_ctrl_c_and_sigterm_before_the_tag_change_nothing(
    project: Repo, tmp_path: Path, fault: str, code: int, word: str
) -> None:
    # docs/failures.md#interrupted
    assert run_release(project, *RUN, "--date", "2026-11-24").returncode == 0  # an earlier one
    project.commit("feat: more")
    out = out_dir(project)
    before, refs = tree_digest(out), project.snapshot()
    proc = _run(project, *RUN, fault=fault)
    assert proc.returncode == code, proc.stderr
    assert f"error: {word}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree_digest(out) == before  # records of the earlier release kept, nothing new
    assert project.snapshot() == refs
    assert_git_clean(project, tmp_path / "tmp")


def test_ctrl_c_during_start_up(project: Repo) -> None:
    proc = _run(project, "status", fault="int-at:startup")
    assert (proc.returncode, proc.stderr.splitlines()[0]) == (130, "error: interrupted")
    assert "Traceback" not in proc.stderr


# -- records (docs/failures.md#records) --------------------------------------------------


def test_dry_run_preflight_and_failed_runs_keep_every_record(project: Repo) -> None:
    assert _run(project, *RUN).returncode == 0
    project.commit("feat: next")
    out = out_dir(project)
    before = tree_digest(out)
    assert (out / ".release-work/edge/done" / f"{TAG}.json").is_file()

    dry = _run(project, *RUN, "--date", "2026-11-26", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert tree_digest(out) == before  # a dry run writes nothing

    (project.path / "dirty.txt").write_text("x")
    project.git("add", "dirty.txt")
    refused = _run(project, *RUN, "--date", "2026-11-26")
    assert refused.returncode == 4
    assert "uncommitted changes" in refused.stderr
    assert tree_digest(out) == before  # a preflight refusal writes nothing
    project.git("rm", "-q", "--cached", "dirty.txt")
    (project.path / "dirty.txt").unlink()

    failed = _run(project, *RUN, "--date", "2026-11-26", "--assembled", str(project.path / "nope"))
    assert failed.returncode == 1, failed.stderr
    assert "nope" in failed.stderr, failed.stderr
    assert tree_digest(out) == before  # a failed run removes what it made, and only that

    assert _run(project, *RUN, "--date", "2026-11-26").returncode == 0
    done = sorted(p.name for p in (out / ".release-work/edge/done").iterdir())
    assert done == [f"{TAG}.json", "edge-26.11.2.json"]


def test_corrupt_journal_is_set_aside_never_trusted(project: Repo) -> None:
    # docs/failures.md#corrupt-journal
    killed = _run(project, *RUN, fault="kill-after:build")
    assert killed.returncode == -signal.SIGKILL
    journal = out_dir(project) / ".release-work/edge/journal.json"
    data = json.loads(journal.read_text())
    data["steps"]["build"]["artifacts"] = "not a list"
    journal.write_text(json.dumps(data))
    dry = _run(project, *RUN, "--dry-run")
    assert dry.returncode == 4, dry.stderr
    assert "is corrupt" in dry.stderr, dry.stderr
    assert journal.exists()  # a dry run writes nothing, not even the rename
    proc = _run(project, *RUN)
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    assert "'artifacts' is missing or of the wrong type" in proc.stderr
    assert "moved aside to journal.corrupt-1.json" in proc.stderr
    assert not journal.exists()
    assert journal.with_name("journal.corrupt-1.json").exists()
    assert TAG not in project.git("tag")
    # the next run starts over from a clean plan (nothing was tagged)
    assert _run(project, *RUN).returncode == 0


def test_garbage_store_is_refused_before_tagging(project: Repo) -> None:
    out = out_dir(project)
    out.mkdir(parents=True)
    (out / "index.json").write_text("garbage")
    before = project.snapshot()
    for extra in (["--dry-run"], []):
        proc = _run(project, *RUN, *extra)
        assert proc.returncode == 4, proc.stderr
        assert "is not a valid channel store" in proc.stderr
    assert project.snapshot() == before
    assert (out / "index.json").read_text() == "garbage"
    assert sorted(p.name for p in out.iterdir()) == ["index.json"]


# -- output paths (docs/failures.md#paths) -----------------------------------------------


def test_output_paths_are_checked(project: Repo, tmp_path: Path) -> None:
    before = project.snapshot()
    empty = _run(project, *RUN, "--out", "")
    assert (empty.returncode, empty.stderr.splitlines()[0]) == (2, "error: --out is empty")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for target in (a_file, a_file / "sub"):
        proc = _run(project, *RUN, "--out", str(target))
        assert proc.returncode == 2, proc.stderr
        assert "existing file" in proc.stderr, proc.stderr
    for inside in (project.path, project.path / "site"):
        proc = _run(project, *RUN, "--out", str(inside))
        assert proc.returncode == 4, proc.stderr
        assert "working tree" in proc.stderr, proc.stderr
    build = _run(project, "build", "--target", "any", "--out", str(a_file))
    assert build.returncode == 2
    assert "existing file" in build.stderr
    assert project.snapshot() == before
    assert project.git("status", "--porcelain") == ""


# -- full disk and read-only directories (docs/failures.md#disk) -------------------------


def test_full_disk_during_publish_then_resume(
    project: Repo, tmp_path: Path, reference: dict[str, object]
) -> None:
    with small_fs(tmp_path / "fs", "8m") as fs:
        out = fs.path / "channel"
        run = [*RUN, "--out", str(out)]
        killed = _run(project, *run, fault="kill-after:tag")
        assert killed.returncode == -signal.SIGKILL
        filler = fill(fs)
        full = _run(project, *run, **fs.env)
        assert full.returncode == 1, full.stderr
        assert "Traceback" not in full.stderr
        assert full.stderr.startswith("error: cannot access ")
        assert "No space left on device" in full.stderr
        assert "hint: the disk is full" in full.stderr
        assert partial_files(out) == []
        if filler is not None:
            filler.unlink()
        resumed = _run(project, *run)
        assert resumed.returncode == 0, resumed.stderr
        assert partial_files(out) == []
        assert released_files(out) == reference["files"]
        assert_channel_verifies(project, out)


def test_too_small_store_is_refused_in_preflight(project: Repo, tmp_path: Path) -> None:
    with small_fs(tmp_path / "fs", "512k") as fs:
        if not fs.mounted:
            pytest.skip("cannot mount a tmpfs here (the injected errno case is tested above)")
        proc = _run(project, *RUN, "--out", str(fs.path / "channel"))
        assert proc.returncode == 4, proc.stderr
        assert "KiB free, the release needs" in proc.stderr
        assert TAG not in project.git("tag")


def test_read_only_output_dirs(project: Repo, tmp_path: Path) -> None:
    with read_only(tmp_path / "ro") as env:
        edge = _run(project, *RUN, "--out", str(tmp_path / "ro" / "channel"), **env)
        assert edge.returncode == 4, edge.stderr
        assert "not writable" in edge.stderr, edge.stderr
        build = _run(
            project, "build", "--target", "any", "--out", str(tmp_path / "ro" / "s"), *DATE, **env
        )
        assert build.returncode == 1, build.stderr
        assert "Traceback" not in build.stderr
        assert build.stderr.startswith("error: cannot ")
        assert "read-only" in build.stderr or "Permission denied" in build.stderr
    slice_dir = tmp_path / "slice"
    assert _run(project, "build", "--target", "any", "--out", str(slice_dir), *DATE).returncode == 0
    with read_only(tmp_path / "ro2") as env:
        asm = _run(project, "assemble", str(slice_dir), "--out", str(tmp_path / "ro2" / "a"), **env)
        assert asm.returncode == 1, asm.stderr
        assert "Traceback" not in asm.stderr
        assert asm.stderr.startswith("error: cannot ")


def test_assemble_manifest_that_is_a_json_array(project: Repo, tmp_path: Path) -> None:
    bad = tmp_path / "slice"
    bad.mkdir()
    (bad / "release-manifest.json").write_text("[1, 2]")
    proc = _run(project, "assemble", str(bad), "--out", str(tmp_path / "a"))
    assert proc.returncode == 1
    assert "not a valid build manifest (expected a JSON object, got list)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_doctor_orphans_locks_and_journals(project: Repo) -> None:
    # docs/failures.md#release-doctor
    assert _run(project, *RUN).returncode == 0
    out = out_dir(project)
    snapshot = json.loads((out / "metadata/timestamp.json").read_text())["signed"]["meta"]
    version = snapshot["snapshot.json"]["version"]
    orphan = out / "metadata" / f"{version + 5}.snapshot.json"
    orphan.write_bytes((out / "metadata" / f"{version}.snapshot.json").read_bytes())
    (out / ".release-channels.lock").write_text("")
    young = out / "metadata" / f"{version + 6}.snapshot.json"
    young.write_bytes(b"{}")
    old = time.time() - 40 * 86400
    os.utime(orphan, (old, old))
    project.git("tag", "-d", TAG)  # the journal now records a tag that is not here

    report = _run(project, "doctor", "--json")
    assert report.returncode == 4, report.stderr
    found = {f["kind"]: f for f in json.loads(report.stdout)["findings"]}
    assert set(found) == {"orphan", "lock", "journal"}
    assert found["orphan"]["path"] == str(orphan)  # the young one is left alone
    assert f"records {TAG}" in found["journal"]["detail"]
    assert not found["journal"]["repairable"]

    repaired = _run(project, "doctor", "--json", "--repair")
    assert repaired.returncode == 4  # the journal is reported, never changed
    assert not orphan.exists()
    assert young.exists()
    assert not (out / ".release-channels.lock").exists()
    assert (out / ".release-work/edge/done" / f"{TAG}.json").is_file()
    assert_channel_verifies(project, out)


def test_withdraw_on_a_read_only_store_is_one_error(project: Repo) -> None:
    assert _run(project, *RUN).returncode == 0
    out = out_dir(project)
    before = tree_digest(out)
    with read_only_view(out) as env:
        proc = _run(
            project,
            "channel",
            "withdraw",
            "26.11.1",
            "--reason",
            "broken",
            "--store",
            str(out),
            "--channel",
            "edge",
            "--sign",
            "dev",
            **env,
        )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert "read-only" in proc.stderr.lower() or "ermission denied" in proc.stderr
    assert tree_digest(out) == before


@pytest.mark.parametrize(
    ("setting", "what"),
    [
        ('release = "x"', "release"),
        ('build = ["echo hi"]', "build"),
        ("out = 5", "out"),
    ],
)
def test_bad_config_is_one_error(project: Repo, setting: str, what: str) -> None:
    # docs/failures.md#preflight: config errors exit 2 before anything is written
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[tool.release]\n", f"[tool.release]\n{setting}\n", 1)
    )
    project.git("commit", "-qam", "chore: bad config")
    proc = _run(project, *RUN)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert what in proc.stderr.splitlines()[0]
    assert not out_dir(project).exists()


def test_full_disk_writing_the_page_after_the_index_swap(
    project: Repo, reference: dict[str, object]
) -> None:
    # docs/failures.md#disk: the index has moved, the page cannot be written
    out = out_dir(project)
    page = out / "index.html"
    full = _run(project, *RUN, RELEASE_CHANNELS_FAULT_FS=f"ENOSPC:{page}")
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr
    error = [ln for ln in full.stderr.splitlines() if ln.startswith("error: ")]
    assert len(error) == 1
    assert "index.html" in error[0]
    assert "No space left on device" in full.stderr
    assert not page.exists()
    assert partial_files(out) == []
    assert_channel_verifies(project, out)  # the swapped index is complete on its own
    resumed = _run(project, *RUN)
    assert resumed.returncode == 0, resumed.stderr
    assert page.is_file()
    assert partial_files(out) == []
    assert released_files(out) == reference["files"]


def test_full_disk_exporting_the_build_source(project: Repo, tmp_path: Path) -> None:
    # docs/failures.md#disk: the export of the release commit does not fit
    with small_fs(tmp_path / "fs", "3m") as fs:
        if not fs.mounted:
            pytest.skip("needs a tmpfs: the export writes through tar, not release.files")
        project.commit("feat: a big file", files={"big.bin": os.urandom(4 << 20).hex()[: 4 << 20]})
        out = fs.path / "channel"
        before = project.snapshot()
        proc = _run(project, *RUN, "--out", str(out))
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "No space left on device" in proc.stderr
        assert "hint: the disk is full" in proc.stderr
        assert project.snapshot() == before  # nothing tagged
        assert tree_digest(out) == {}  # the failed run removed what it made
