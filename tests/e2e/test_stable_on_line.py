"""What a line already carries: squashed and hand-resolved backports are recognised
(`already on the line`), low-confidence matches are shown and never counted, and a
resolved conflict branch merged by a human is released without picks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from release.cli import main
from release.errors import PreflightError
from release.stable import plan_backport, plan_point, stable_channel
from tests.helpers.stablerepo import StableRepo, make_stable_repo


def _run(
    capsys: pytest.CaptureFixture[str], sr: StableRepo, tmp: Path, *args: str
) -> tuple[int, dict[str, Any]]:
    argv = ["--json", "--repo", str(sr.path), "stable", *args]
    if args[0] != "ledger":
        argv += ["--sign", "none", "--date", "2026-11-25", "--out", str(tmp / "out")]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def _line(sr: StableRepo, line: str, at: str) -> None:
    sr.repo.git("branch", f"{line}.x", at)
    sr.repo.tag(f"stable-{line}.0", ref=f"{line}.x", date="2026-11-04T10:00:00Z")


def _on_line(
    sr: StableRepo, branch: str, subject: str, files: dict[str, str], body: str = ""
) -> str:
    sr.repo.git("checkout", "-q", branch)
    sha = sr.repo.commit(subject, files=files, body=body)
    sr.repo.git("checkout", "-q", "main")
    return sha


def test_a_squashed_hand_resolved_backport_is_already_on_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path)
    _line(sr, "2.14", "edge-26.10.1")
    # #5 backported by hand, squashed under a new PR number, its diff adapted
    squashed = _on_line(
        sr, "2.14.x", "fix: five, adapted for 2.14 (#40)", {"five.txt": "5 adapted\n"},
        body="Backport of #5.",
    )  # fmt: skip
    config = sr.config()
    ch = stable_channel(config, None)
    with pytest.raises(PreflightError) as info:
        plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#5"])
    problem = info.value.problems[0]
    assert "every pick is already on the line 2.14.x" in problem
    assert f"as {squashed[:12]}, matched by equivalence 0.8" in problem
    before = sr.repo.snapshot()
    code, data = _run(capsys, sr, tmp_path, "point", "2.14", "--pick", "#5")
    assert code != 0
    assert "already on the line" in data["error"]
    assert "conflict" not in data["error"].lower()
    assert sr.repo.snapshot() == before
    # a mix: the carried pick is skipped and said so, the other one is planned
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#5", "#4"])
    assert plan.picks == (sr.shas["4"],)
    assert any("matched by equivalence" in w and sr.shas["5"][:12] in w for w in plan.warnings)
    # the ledger counts it, with its confidence
    code, data = _run(capsys, sr, tmp_path, "ledger", "2.14")
    assert code == 0
    (entry,) = data["lines"][0]["entries"]
    assert entry["main_commit"] == sr.shas["5"]
    assert entry["how"] == "equivalence"
    assert entry["origin"]["confidence"] >= 0.8
    assert "references its PR" in entry["origin"]["evidence"]


def test_a_low_confidence_match_is_shown_never_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path)
    _line(sr, "2.14", "edge-26.10.1")
    # a line-only change in the same file, with a subject that resembles main's
    lookalike = _on_line(sr, "2.14.x", "fix: five again", {"five.txt": "5 on the line\n"})
    config = sr.config()
    ch = stable_channel(config, None)
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#5"])
    assert plan.picks == (sr.shas["5"],)  # not silently dropped
    (warning,) = [w for w in plan.warnings if "low confidence" in w]
    assert f"may already be on 2.14.x as {lookalike[:12]} (equivalence 0." in warning
    code, data = _run(capsys, sr, tmp_path, "ledger", "2.14")
    assert code == 0
    (entry,) = data["lines"][0]["entries"]
    assert entry["main_commit"] is None  # not counted
    assert entry["possible"]["main_commit"] == sr.shas["5"]
    assert entry["possible"]["confidence"] < 0.8
    assert main(["--repo", str(sr.path), "stable", "ledger", "2.14"]) == 0
    text = capsys.readouterr().out
    assert "1 possible (low confidence, not counted)" in text
    assert f"?? {sr.shas['5'][:12]} (equivalence 0." in text


def test_a_resolved_conflict_branch_is_released_without_picks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path)
    _line(sr, "2.14", "edge-26.10.1")
    _line(sr, "2.15", "edge-26.11.1")
    _on_line(sr, "2.14.x", "line-only: five differently", {"five.txt": "2.14 version\n"})
    code, data = _run(
        capsys, sr, tmp_path, "backport", "2.14", "--pick", "#2", "--pick", "#5",
        "--conflict-branch",
    )  # fmt: skip
    assert (code, data["kind"]) == (1, "BackportConflict")
    branch = f"backport/2.14/{sr.shas['5'][:7]}"
    # a human resolves the markers and merges the branch into the line
    resolved = _on_line(sr, branch, "Resolve conflicts in five.txt", {"five.txt": "5 for 2.14\n"})
    sr.repo.git("checkout", "-q", "2.14.x")
    sr.repo.git("merge", "-q", "--no-ff", branch, "-m", f"Merge branch '{branch}' into 2.14.x")
    sr.repo.git("checkout", "-q", "main")
    head = sr.head_of("2.14.x")

    code, data = _run(capsys, sr, tmp_path, "backport", "2.14", "--pick", "#5")
    assert code != 0
    assert "every pick is already on the line 2.14.x" in data["error"]
    assert "run release stable backport 2.14 without --pick" in data["error"]

    code, data = _run(capsys, sr, tmp_path, "backport", "2.14", "--dry-run")
    assert code == 0, data
    plan = data["plan"]
    assert (plan["tag"], plan["picks"], plan["base_commit"]) == ("stable-2.14.1", [], head)
    rows = plan["on_line"]
    assert len(rows) == 4  # resolution, conflict commit, #2, the line-only change (no merge)
    assert f"{resolved[:12]} Resolve conflicts in five.txt  (made on the line)" in rows
    assert any(f"<- {sr.shas['5'][:12]} (trailer)" in r for r in rows)
    assert any(r.endswith(f"<- {sr.shas['2'][:12]} (trailer)") for r in rows)
    assert "### Bug Fixes" in plan["notes"]
    assert "- two (#2)" in plan["notes"]

    code, data = _run(capsys, sr, tmp_path, "backport", "2.14")
    assert code == 0, data
    assert (data["state"], data["tag"]) == ("released", "stable-2.14.1")
    assert sr.head_of("stable-2.14.1^{commit}") == head
    notes = sr.repo.git("tag", "-l", "--format=%(contents)", "stable-2.14.1")
    assert "Backport release of the 2.14 line (after stable-2.14.0)." in notes
    assert "Resolve conflicts in five.txt" in notes


def test_backport_without_picks_and_nothing_new_is_refused(tmp_path: Path) -> None:
    sr = make_stable_repo(tmp_path)
    _line(sr, "2.14", "edge-26.10.1")
    _line(sr, "2.15", "edge-26.11.1")
    config = sr.config()
    with pytest.raises(PreflightError) as info:
        plan_backport(sr.git, config, stable_channel(config, None), sr.opts(tmp_path), line="2.14")
    assert list(info.value.problems) == [
        "nothing new on 2.14.x since stable-2.14.0; pass --pick SHA|#PR"
    ]


def test_support_by_dates_in_status_and_releases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path, maintained=1, support_extra="eol-months = 1")
    _line(sr, "2.14", "edge-26.10.1")
    _line(sr, "2.15", "edge-26.11.1")  # both .0 tagged 2026-11-04
    # maintained-lines = 1 would end 2.14 at once; the date rule gives it a month
    assert main(["--repo", str(sr.path), "status", "--date", "2026-11-25"]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.strip().startswith("2.14"))
    assert row.endswith("maintenance (eol 2026-12-04)")
    config = sr.config()
    ch = stable_channel(config, None)
    plan = plan_backport(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#2"])
    assert plan.tag == "stable-2.14.1"
    late = sr.opts(tmp_path, now=datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    with pytest.raises(PreflightError) as info:
        plan_backport(sr.git, config, ch, late, line="2.14", picks=["#2"])
    assert "line 2.14 is past its end of life since 2026-12-04" in info.value.message
    forced = plan_backport(sr.git, config, ch, late, line="2.14", picks=["#2"], force_eol=True)
    assert any("END-OF-LIFE" in w for w in forced.warnings)
    assert main(["--repo", str(sr.path), "status", "--date", "2026-12-04"]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.strip().startswith("2.14"))
    assert row.endswith("eol (eol 2026-12-04)")
