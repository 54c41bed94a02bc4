"""Bad input to `release edge`: one clear error, non-zero exit, repository and channel unchanged."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.gitrepo import Repo
from tests.helpers.project import PYPROJECT, make_project, run_release, tree_digest

DATE = ["--date", "2026-11-25"]


@pytest.fixture
def project(repo: Repo) -> Repo:
    return make_project(repo)


def assert_refused(
    repo: Repo,
    args: list[str],
    *fragments: str,
    env: dict[str, str] | None = None,
    out: Path | None = None,
) -> str:
    out = out or repo.path / "dist" / "channel"
    before, channel_before = repo.snapshot(), tree_digest(out)
    proc = run_release(repo, "edge", *DATE, "--sign", "dev", "--out", str(out), *args, env=env)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr
    assert repo.snapshot() == before
    assert tree_digest(out) == channel_before
    return proc.stderr


def test_dirty_tree(project: Repo) -> None:
    (project.path / "CHANGELOG.md").write_text("edited\n")
    assert_refused(project, [], "uncommitted changes")


def test_wrong_branch_and_detached_head(project: Repo) -> None:
    project.git("checkout", "-q", "-b", "feature")
    assert_refused(project, [], "on branch feature", "edge releases are cut from main")
    project.git("checkout", "-q", "--detach", "main")
    assert_refused(project, [], "HEAD is detached")


def test_every_problem_is_reported_at_once(project: Repo) -> None:
    project.git("checkout", "-q", "-b", "feature")
    (project.path / "x.txt").write_text("dirty")
    err = assert_refused(project, [], "preflight problems")
    assert "on branch feature" in err
    assert "uncommitted changes" in err


def test_shallow_clone(project: Repo, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{project.origin}", str(shallow)],
        env=project.env,
        check=True,
    )
    clone = Repo(shallow, project.origin, project.env)
    assert_refused(clone, [], "shallow clone", "--unshallow")


def test_tag_exists_on_remote(project: Repo) -> None:
    # Somebody else already pushed this month's first edge from another clone.
    project.git("tag", "-a", "edge-26.11.1", "-m", "x", "HEAD~1")
    project.git("push", "-q", "origin", "edge-26.11.1")
    project.git("tag", "-d", "edge-26.11.1")
    assert_refused(project, [], "edge-26.11.1 already exists on origin")


def test_head_already_released(project: Repo) -> None:
    project.tag("edge-26.11.1")
    assert_refused(project, [], "already released as edge-26.11.1")


def test_date_before_last_edge(project: Repo) -> None:
    project.tag("edge-26.11.1", ref="HEAD~1")
    assert_refused(project, ["--date", "2026-10-30"], "before the newest edge release")


def test_bad_date(project: Repo) -> None:
    proc = run_release(project, "edge", "--date", "2026-13-01")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == "error: '2026-13-01' is not a date"


def test_missing_identity_for_sigstore(project: Repo) -> None:
    before = project.snapshot()
    proc = run_release(project, "edge", *DATE, "--sign", "sigstore")
    assert proc.returncode != 0
    assert "SIGSTORE_IDENTITY_TOKEN" in proc.stderr
    assert project.snapshot() == before


def test_auto_signing_in_ci_without_credentials_is_refused(project: Repo) -> None:
    proc = run_release(project, "edge", *DATE, env={"CI": "true"})
    assert proc.returncode != 0
    assert "never falls back to dev signing" in proc.stderr


def test_unwritable_output(project: Repo, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permission bits: use a path below a regular file instead.
        blocker = tmp_path / "file"
        blocker.write_text("x")
        assert_refused(project, [], "not a directory", out=blocker / "channel")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
        assert_refused(project, [], "not writable", out=ro / "channel")


def _commit_pyproject(project: Repo, text: str) -> None:
    project.commit("build: change the build", files={"pyproject.toml": text})


def test_failing_build_changes_nothing(project: Repo) -> None:
    _commit_pyproject(project, PYPROJECT.replace("import pathlib,sys;", "import sys; sys.exit(7);"))
    err = assert_refused(project, [], "build 'tool' failed with exit code 7")
    assert not (project.path / "dist").exists(), err


def test_build_with_unexpected_files(project: Repo) -> None:
    _commit_pyproject(project, PYPROJECT.replace('"tool-{version}-linux-amd64", ', ""))
    assert_refused(project, [], "unexpected tool-26.11.1-linux-amd64")


def test_no_build_configured(project: Repo) -> None:
    _commit_pyproject(project, PYPROJECT.split("[[tool.release.build]]")[0])
    assert_refused(project, [], "no build commands are configured")


def test_not_a_repository(tmp_path: Path, repo: Repo) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "release", "--repo", str(tmp_path), "status"],
        capture_output=True,
        text=True,
        env={**os.environ, **repo.env, "PYTHONPATH": str(Path(__file__).parents[2])},
        check=False,
    )
    assert proc.returncode != 0
    assert "is not a git repository" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_dry_run_prints_the_plan_and_changes_nothing(project: Repo) -> None:
    before = project.snapshot()
    proc = run_release(project, "edge", *DATE, "--sign", "dev", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "release edge-26.11.1" in proc.stdout
    assert "tool-26.11.1-linux-amd64" in proc.stdout
    assert "feat: add the first feature" in proc.stdout or "add the first feature" in proc.stdout
    assert project.snapshot() == before
    assert not (project.path / "dist").exists()


def test_a_second_release_run_at_the_same_time_is_refused(project: Repo) -> None:
    import fcntl

    fd = os.open(project.path / ".git", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a release run in progress
        assert_refused(project, [], "another release is running in this repository")
    finally:
        os.close(fd)
    ok = run_release(project, "edge", *DATE, "--sign", "dev")
    assert ok.returncode == 0, ok.stderr


def test_a_build_command_that_cannot_run_is_named_before_anything_happens(
    project: Repo,
) -> None:
    # `python -m build` without `build` installed used to fail only at the build step
    broken = PYPROJECT.replace(
        'command = ["{python}", "-c"',
        'command = ["{python}", "-m", "no_such_builder_module", "-c"',
    )
    broken += (
        '\n[[tool.release.build]]\nname = "native"\ncommand = ["no-such-compiler-xyz", "{out}"]\n'
        'artifacts = ["native-{version}"]\n'
    )
    _commit_pyproject(project, broken)
    err = assert_refused(project, [])
    assert "build tool: No module named no_such_builder_module" in err
    assert "build native: the program 'no-such-compiler-xyz' is not installed" in err
