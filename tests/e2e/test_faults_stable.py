"""Fault injection on stable releases: a kill or SIGTERM inside the cherry-pick, a kill
just after a release finished, kills at step boundaries (docs/failures.md#killed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.faults import assert_channel_verifies, assert_git_clean, partial_files
from tests.helpers.project import tree_digest
from tests.helpers.stablerepo import StableRepo, make_stable_repo

ROOT = Path(__file__).resolve().parents[2]
POINT = ["stable", "point", "2.14", "--pick", "#2", "--pick", "#4"]
TAG = "stable-2.14.1"


def _stable_repo(tmp_path: Path) -> StableRepo:
    sr = make_stable_repo(tmp_path)
    sr.repo.git("branch", "2.14.x", "edge-26.10.1")
    sr.repo.tag("stable-2.14.0", ref="2.14.x")
    (tmp_path / "tmp").mkdir()
    return sr


def _run(
    sr: StableRepo, tmp_path: Path, *args: str, fault: str | None = None, date: str = "2026-11-25"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **sr.repo.env, "TMPDIR": str(tmp_path / "tmp")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if fault:
        env["RELEASE_CHANNELS_FAULT"] = fault
    argv = [sys.executable, "-m", "release", "--repo", str(sr.path), *args]
    argv += ["--sign", "dev", "--date", date, "--out", str(tmp_path / "out")]
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def sr(tmp_path: Path) -> StableRepo:
    return _stable_repo(tmp_path)


@pytest.fixture(scope="module")
def reference_tree(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tree of a point release never killed (the history has fixed dates)."""
    tmp = tmp_path_factory.mktemp("stable-twin")
    twin = _stable_repo(tmp)
    proc = _run(twin, tmp, *POINT)
    assert proc.returncode == 0, proc.stderr
    return twin.repo.git("rev-parse", f"{TAG}^{{tree}}")


def test_kill_during_a_cherry_pick_leaves_no_stale_worktree(
    sr: StableRepo, tmp_path: Path, reference_tree: str
) -> None:
    before = sr.repo.snapshot()
    killed = _run(sr, tmp_path, *POINT, fault="kill-at:pick")
    assert killed.returncode == -signal.SIGKILL
    assert sr.repo.snapshot() == before  # refs untouched: they move in the tag step
    admin = sr.path / ".git" / "worktrees"
    assert admin.is_dir()
    assert any(admin.iterdir())  # what the kill left
    resumed = _run(sr, tmp_path, *POINT)
    assert resumed.returncode == 0, resumed.stderr
    assert "removed what an earlier killed run left" in resumed.stdout
    assert_git_clean(sr.repo, tmp_path / "tmp")  # git fsck clean, .git/worktrees empty
    assert sr.repo.git("rev-parse", f"{TAG}^{{tree}}") == reference_tree
    assert_channel_verifies(sr.repo, tmp_path / "out", channel="stable")


def test_sigterm_during_a_cherry_pick_removes_the_worktree(sr: StableRepo, tmp_path: Path) -> None:
    before = sr.repo.snapshot()
    proc = _run(sr, tmp_path, *POINT, fault="term-at:pick")
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.startswith("error: terminated (SIGTERM)")
    assert "Traceback" not in proc.stderr
    assert_git_clean(sr.repo, tmp_path / "tmp")
    assert sr.repo.snapshot() == before
    assert tree_digest(tmp_path / "out") == {}  # a run stopped before the tag leaves nothing


def test_killed_just_after_it_finished_is_already_released(sr: StableRepo, tmp_path: Path) -> None:
    killed = _run(sr, tmp_path, *POINT, fault="kill-at:finish")
    assert killed.returncode == -signal.SIGKILL
    again = _run(sr, tmp_path, *POINT)
    assert again.returncode == 0, again.stderr
    assert f"{TAG} is already released" in again.stdout
    assert "nothing to release" not in again.stderr
    work = tmp_path / "out" / ".release-work" / "stable-2.14"
    assert (work / "done" / f"{TAG}.json").is_file()  # the record, repaired


@pytest.mark.parametrize("step", ["prepare", "tag", "publish"])
def test_kill_at_step_boundaries_then_resume(
    sr: StableRepo, tmp_path: Path, reference_tree: str, step: str
) -> None:
    killed = _run(sr, tmp_path, *POINT, fault=f"kill-after:{step}")
    assert killed.returncode == -signal.SIGKILL
    journal = json.loads((tmp_path / "out/.release-work/stable-2.14/journal.json").read_text())
    commit = journal["steps"]["prepare"]["release_commit"]
    resumed = _run(sr, tmp_path, *POINT)
    assert resumed.returncode == 0, resumed.stderr
    assert sr.head_of(f"{TAG}^{{commit}}") == commit  # the commit the killed run made
    assert sr.repo.git("rev-parse", f"{TAG}^{{tree}}") == reference_tree
    assert partial_files(tmp_path / "out") == []
    assert_git_clean(sr.repo, tmp_path / "tmp")


def test_date_is_honoured_by_stable_notes(sr: StableRepo, tmp_path: Path) -> None:
    proc = _run(sr, tmp_path, *POINT, "--dry-run", "--json", date="2026-12-03")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["plan"]["notes"].startswith(f"## [{TAG}] - 2026-12-03")


def test_doctor_reports_and_repairs_a_killed_cherry_pick(sr: StableRepo, tmp_path: Path) -> None:
    # docs/failures.md#release-doctor
    killed = _run(sr, tmp_path, *POINT, fault="kill-at:pick")
    assert killed.returncode == -signal.SIGKILL
    env = {**os.environ, **sr.repo.env, "TMPDIR": str(tmp_path / "tmp")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    doctor = [sys.executable, "-m", "release", "--repo", str(sr.path), "doctor", "--json"]
    doctor += ["--out", str(tmp_path / "out")]
    report = subprocess.run(doctor, env=env, capture_output=True, text=True, check=False)
    assert report.returncode == 4, report.stderr
    kinds = sorted(f["kind"] for f in json.loads(report.stdout)["findings"])
    assert kinds == ["tempdir", "worktree"]
    repaired = subprocess.run(
        [*doctor, "--repair"], env=env, capture_output=True, text=True, check=False
    )
    assert repaired.returncode == 0, repaired.stderr
    assert all(f["repaired"] for f in json.loads(repaired.stdout)["findings"])
    assert_git_clean(sr.repo, tmp_path / "tmp")
    clean = subprocess.run(doctor, env=env, capture_output=True, text=True, check=False)
    assert (clean.returncode, json.loads(clean.stdout)["findings"]) == (0, [])
