"""`release stable …` through the CLI: dry runs, preflight errors, conflicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release.cli import main
from tests.helpers.stablerepo import StableRepo, make_stable_repo


@pytest.fixture
def sr(tmp_path: Path) -> StableRepo:
    return make_stable_repo(tmp_path, acme=True)


def _run(
    capsys: pytest.CaptureFixture[str], sr: StableRepo, tmp: Path, *args: str
) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    argv = ["--json", "--repo", str(sr.path), "stable", *args]
    if args[0] != "ledger":
        argv += ["--sign", "none", "--date", "2026-11-25", "--out", str(tmp / "out")]
    code = main(argv)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def _line(sr: StableRepo, line: str, at: str, prefix: str = "stable-", branch: str = "") -> None:
    sr.repo.git("branch", branch or f"{line}.x", at)
    sr.repo.tag(f"{prefix}{line}.0", ref=branch or f"{line}.x")


def test_dry_runs(sr: StableRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sr.repo.snapshot()
    code, data, _ = _run(capsys, sr, tmp_path, "cut", "--dry-run")
    assert code == 0
    plan = data["plan"]
    assert (plan["tag"], plan["branch"], plan["new_branch"], plan["cut_from"]) == (
        "stable-2.14.0",
        "2.14.x",
        True,
        "edge-26.11.1",
    )
    code, data, _ = _run(
        capsys,
        sr,
        tmp_path,
        "cut",
        "--channel",
        "stable-acme",
        "--from",
        "edge-26.10.1",
        "--line",
        "3.0",
        "--dry-run",
    )
    assert code == 0
    assert (data["plan"]["tag"], data["plan"]["branch"]) == ("acme-3.0.0", "acme-3.0.x")
    assert data["plan"]["channel"] == "stable-acme"
    _line(sr, "2.14", "edge-26.10.1")
    code, data, _ = _run(capsys, sr, tmp_path, "point", "2.14", "--pick", "#4", "--dry-run")
    assert code == 0
    assert data["plan"]["picks"] == [sr.shas["4"]]
    assert data["plan"]["make_latest"] is True
    assert not (tmp_path / "out").exists()
    after = sr.repo.snapshot()
    assert after["status"] == before["status"]
    assert after["head"] == before["head"]


def test_preflight_problems_as_json(
    sr: StableRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _line(sr, "2.14", "edge-26.10.1")
    _line(sr, "2.15", "edge-26.11.1")
    code, data, err = _run(
        capsys, sr, tmp_path, "backport", "2.16", "--pick", "deadbeef", "--pick", "#77"
    )
    assert code == 4  # preconditions (docs/failures.md#exit-codes)
    assert data["kind"] == "PreflightError"
    problems = "\n".join(data["problems"])
    assert "line 2.16 does not exist" in problems
    assert "branch 2.16.x does not exist" in problems
    assert "'deadbeef' is not a known commit" in problems
    assert "PR #77 is not on main" in problems
    assert "preflight problems" in err
    code, data, _ = _run(capsys, sr, tmp_path, "cut", "--channel", "edge")
    assert code == 2
    assert "not a stable one" in data["error"]


def _conflicting_line(sr: StableRepo) -> None:
    _line(sr, "2.14", "edge-26.10.1")
    _line(sr, "2.15", "edge-26.11.1")
    sr.repo.git("checkout", "-q", "2.14.x")
    sr.repo.commit("line-only: five differently", files={"five.txt": "2.14 version\n"})
    sr.repo.git("checkout", "-q", "main")


def test_conflict_aborts_cleanly(
    sr: StableRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _conflicting_line(sr)
    before = sr.repo.snapshot()
    code, data, _ = _run(
        capsys, sr, tmp_path, "backport", "2.14", "--pick", "#2", "--pick", "#5", "--dry-run"
    )
    assert code == 0
    (warning,) = [w for w in data["plan"]["warnings"] if "will not apply" in w]
    assert sr.shas["5"][:12] in warning
    assert "five.txt" in warning
    assert sr.repo.snapshot() == before
    code, data, err = _run(capsys, sr, tmp_path, "backport", "2.14", "--pick", "#2", "--pick", "#5")
    assert code == 1
    assert data["kind"] == "CherryPickConflict"
    assert sr.shas["5"][:12] in data["error"]
    assert "five.txt" in data["error"]
    assert "--conflict-branch" in data["hint"]
    assert sr.repo.snapshot() == before
    assert not (tmp_path / "out").exists()
    assert "error:" in err


def test_conflict_branch_mode(
    sr: StableRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _conflicting_line(sr)
    before = sr.repo.snapshot()
    code, data, _ = _run(
        capsys,
        sr,
        tmp_path,
        "backport",
        "2.14",
        "--pick",
        "#5",
        "--pick",
        "#2",
        "--conflict-branch",
    )
    branch = f"backport/2.14/{sr.shas['5'][:7]}"
    assert code == 1
    assert data["kind"] == "BackportConflict"
    assert branch in data["error"]
    assert "five.txt" in data["error"]
    assert "merge it into 2.14.x" in data["hint"]
    content = sr.repo.git("show", f"{branch}:five.txt")
    assert "<<<<<<<" in content
    assert "2.14 version" in content
    assert sr.repo.git("show", f"{branch}:two.txt") == "2"  # #2 applied first (main order)
    assert sr.head_of(f"{branch}~2") == sr.head_of("2.14.x")
    after = sr.repo.snapshot()
    added = set(after["refs"].splitlines()) - set(before["refs"].splitlines())
    assert [r.split()[0] for r in added] == [f"refs/heads/{branch}"]
    assert set(before["refs"].splitlines()) <= set(after["refs"].splitlines())
    assert (after["head"], after["status"], after["origin"]) == (
        before["head"],
        before["status"],
        before["origin"],
    )
    assert "stable-2.14.1" not in sr.tags()


def test_vendor_conflict_branch_is_scoped_by_channel(
    sr: StableRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _line(sr, "2.14", "edge-26.10.1", prefix="acme-", branch="acme-2.14.x")
    sr.repo.git("checkout", "-q", "acme-2.14.x")
    sr.repo.commit("acme-only: five", files={"five.txt": "acme version\n"})
    sr.repo.git("checkout", "-q", "main")
    code, data, _ = _run(
        capsys, sr, tmp_path, "point", "2.14", "--channel", "stable-acme", "--pick", "#5",
        "--conflict-branch",
    )  # fmt: skip
    branch = f"backport/stable-acme/2.14/{sr.shas['5'][:7]}"
    assert code == 1
    assert branch in data["error"]
    assert "<<<<<<<" in sr.repo.git("show", f"{branch}:five.txt")
    assert "merge it into acme-2.14.x" in data["hint"]
