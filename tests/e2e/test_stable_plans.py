"""Stable plans on real temp repositories: cut, point, backport, and their preflight."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from release.errors import ConfigError, PreflightError
from release.stable import plan_backport, plan_cut, plan_point, stable_channel
from tests.helpers.stablerepo import StableRepo, make_stable_repo


@pytest.fixture
def sr(tmp_path: Path) -> StableRepo:
    return make_stable_repo(tmp_path)


def _line(
    sr: StableRepo, line: str, at: str, *, prefix: str = "stable-", branch_fmt: str = ""
) -> None:
    """Make line ``line`` by hand: branch X.Y.x at ``at`` and its .0 tag."""
    branch = branch_fmt or f"{line}.x"
    sr.repo.git("branch", branch, at)
    sr.repo.tag(f"{prefix}{line}.0", ref=branch, date="2026-11-04T10:00:00Z")


def _pick_by_hand(sr: StableRepo, branch: str, sha: str, *, x: bool) -> str:
    sr.repo.git("checkout", "-q", branch)
    sr.repo.git("cherry-pick", *(["-x"] if x else []), sha)
    sr.repo.git("checkout", "-q", "main")
    return sr.head_of(branch)


def test_cut_defaults_to_the_latest_edge_and_next_minor(sr: StableRepo, tmp_path: Path) -> None:
    config = sr.config()
    plan = plan_cut(
        sr.git, config, stable_channel(config, None), sr.opts(tmp_path), from_edge=None, line=None
    )
    assert (plan.tag, plan.branch, plan.branch_exists) == ("stable-2.14.0", "2.14.x", False)
    assert plan.base_commit == sr.head_of("edge-26.11.1^{commit}")
    assert plan.cut_from == "edge-26.11.1"
    assert plan.make_latest
    assert plan.kind == "stable"
    assert plan.picks == ()
    assert "cut from edge-26.11.1" in plan.notes
    assert plan.to_dict()["new_branch"] is True


def test_cut_from_an_older_edge_then_the_next_line(sr: StableRepo, tmp_path: Path) -> None:
    config = sr.config()
    ch = stable_channel(config, None)
    plan = plan_cut(sr.git, config, ch, sr.opts(tmp_path), from_edge="edge-26.10.1", line="2.14")
    assert plan.base_commit == sr.shas["1"]
    assert plan.tag == "stable-2.14.0"
    _line(sr, "2.14", "edge-26.10.1")
    nxt = plan_cut(sr.git, config, ch, sr.opts(tmp_path), from_edge=None, line=None)
    assert nxt.tag == "stable-2.15.0"
    assert nxt.previous_tag == "stable-2.14.0"
    assert nxt.commit_count == 2  # #2 and #3 since 2.14 was cut
    assert "two (#2)" in nxt.notes
    assert "one (#1)" not in nxt.notes


def test_cut_preflight_collects_every_problem(sr: StableRepo, tmp_path: Path) -> None:
    _line(sr, "2.14", "edge-26.11.1")
    (sr.path / "dirty.txt").write_text("x")
    sr.repo.git("add", "dirty.txt")
    config = sr.config()
    ch = stable_channel(config, None)
    with pytest.raises(PreflightError) as info:
        plan_cut(sr.git, config, ch, sr.opts(tmp_path), from_edge="edge-26.11.1", line="2.14")
    problems = "\n".join(info.value.problems)
    assert "line 2.14 already exists" in problems
    assert "edge-26.11.1 is already in line 2.14" in problems
    assert "uncommitted changes" in problems
    assert "tag stable-2.14.0 already exists locally" in problems
    with pytest.raises(PreflightError, match="not an edge release tag"):
        plan_cut(sr.git, config, ch, sr.opts(tmp_path), from_edge="edge-1.2.3", line="2.20")
    with pytest.raises(PreflightError, match="older than the newest line"):
        plan_cut(sr.git, config, ch, sr.opts(tmp_path), from_edge=None, line="2.13")


def test_point_resolves_pr_numbers_and_shas_in_main_order(sr: StableRepo, tmp_path: Path) -> None:
    _line(sr, "2.14", "edge-26.11.1")
    config = sr.config()
    ch = stable_channel(config, None)
    plan = plan_point(
        sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=[sr.shas["5"][:10], "#4"]
    )
    assert plan.picks == (sr.shas["4"], sr.shas["5"])
    assert (plan.tag, plan.branch, plan.branch_exists) == ("stable-2.14.1", "2.14.x", True)
    assert plan.base_commit == sr.head_of("2.14.x")
    assert plan.make_latest
    assert plan.previous_tag == "stable-2.14.0"
    assert plan.commit_count == 2
    # grouped like `release changelog`, no raw "fix:" prefixes
    assert "### Bug Fixes\n\n- five (#5) (" in plan.notes
    assert "- four (#4) (" in plan.notes
    assert "fix:" not in plan.notes
    assert "also in" not in plan.notes  # #4/#5 are in no edge release yet
    sr.repo.tag("edge-26.11.2", date="2026-11-12T10:00:00Z")
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#4"])
    assert "- four (#4) (" in plan.notes
    assert "by Test Author (also in edge-26.11.2)" in plan.notes


def test_point_preflight_collects_every_problem(sr: StableRepo, tmp_path: Path) -> None:
    _line(sr, "2.14", "edge-26.10.1")
    sr.repo.git("checkout", "-q", "-b", "side")
    stray = sr.repo.commit("stray (#99)", files={"stray.txt": "s"})
    sr.repo.git("checkout", "-q", "main")
    config = sr.config()
    ch = stable_channel(config, None)
    with pytest.raises(PreflightError) as info:
        plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.15", picks=["#4"])
    assert any("line 2.15 does not exist" in p for p in info.value.problems)
    with pytest.raises(PreflightError) as info:
        plan_point(
            sr.git,
            config,
            ch,
            sr.opts(tmp_path),
            line="2.14",
            picks=[stray, "#99", "#1234", "nonsense-ref"],
        )
    problems = "\n".join(info.value.problems)
    assert f"({stray[:12]}) is not on main" in problems
    assert "PR #99 is not on main" in problems
    assert "PR #1234 is not on main" in problems
    assert "'nonsense-ref' is not a known commit" in problems
    with pytest.raises(
        PreflightError, match=re.escape("nothing new on 2.14.x since stable-2.14.0")
    ):
        plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14")


def test_a_pick_already_on_the_line_is_skipped_not_duplicated(
    sr: StableRepo, tmp_path: Path
) -> None:
    _line(sr, "2.14", "edge-26.10.1")
    config = sr.config()
    ch = stable_channel(config, None)
    # #2 by hand with -x, #3 by hand without -x (patch-id), and #1 is in the cut
    _pick_by_hand(sr, "2.14.x", sr.shas["2"], x=True)
    _pick_by_hand(sr, "2.14.x", sr.shas["3"], x=False)
    plan = plan_point(
        sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#1", "#2", sr.shas["3"], "#4"]
    )
    assert plan.picks == (sr.shas["4"],)
    warned = "\n".join(plan.warnings)
    assert "skipping #1: already on 2.14.x (carried since the cut)" in warned
    assert "matched by trailer" in warned
    assert "matched by patch-id" in warned
    # the commits already on the branch since the last tag are part of the release notes
    assert plan.commit_count == 3
    with pytest.raises(PreflightError) as info:
        plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#2"])
    assert "every pick is already on the line 2.14.x (" in info.value.problems[0]
    assert "matched by trailer" in info.value.problems[0]
    assert "run release stable point 2.14 without --pick" in info.value.problems[0]


def test_pick_by_pr_number_on_a_reworked_backport(sr: StableRepo, tmp_path: Path) -> None:
    _line(sr, "2.14", "edge-26.10.1")
    sr.repo.git("checkout", "-q", "2.14.x")
    sr.repo.commit("[2.14] fix: two, adapted (#2)", files={"two.txt": "2 adapted\n"})
    sr.repo.git("checkout", "-q", "main")
    config = sr.config()
    plan = plan_point(
        sr.git,
        config,
        stable_channel(config, None),
        sr.opts(tmp_path),
        line="2.14",
        picks=["#2", "#4"],
    )
    assert plan.picks == (sr.shas["4"],)
    assert any("matched by pr" in w for w in plan.warnings)


def test_backport_onto_an_older_line(sr: StableRepo, tmp_path: Path) -> None:
    _line(sr, "2.14", "edge-26.10.1")
    _line(sr, "2.15", "edge-26.11.1")
    config = sr.config()
    ch = stable_channel(config, None)
    plan = plan_backport(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#2", "#4"])
    assert plan.tag == "stable-2.14.1"
    assert plan.branch == "2.14.x"
    assert plan.picks == (sr.shas["2"], sr.shas["4"])
    assert plan.make_latest is False
    with pytest.raises(PreflightError) as info:
        plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#4"])
    assert "use: release stable backport 2.14" in info.value.message
    with pytest.raises(PreflightError) as info:
        plan_backport(sr.git, config, ch, sr.opts(tmp_path), line="2.15", picks=[])
    problems = "\n".join(info.value.problems)
    assert "2.15 is the newest line" in problems
    assert "--pick" not in problems  # a backport without picks releases what the line has


def test_backport_refused_past_eol_unless_forced(tmp_path: Path) -> None:
    sr = make_stable_repo(tmp_path, maintained=1)
    _line(sr, "2.14", "edge-26.10.1")
    _line(sr, "2.15", "edge-26.11.1")
    config = sr.config()
    ch = stable_channel(config, None)
    with pytest.raises(PreflightError, match=re.escape("line 2.14 is past its end of life")):
        plan_backport(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#2"])
    plan = plan_backport(
        sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#2"], force_eol=True
    )
    assert any("IS END-OF-LIFE" in w and "--force-eol" in w for w in plan.warnings)
    assert plan.to_dict()["warnings"] == list(plan.warnings)


def test_explicit_eol_date_in_config(tmp_path: Path) -> None:
    extra = '[support.lines."2.14"]\nreleased = 2026-01-01\neol = 2026-11-01\n'
    sr = make_stable_repo(tmp_path, maintained=5, support_extra=extra)
    _line(sr, "2.14", "edge-26.10.1")
    _line(sr, "2.15", "edge-26.11.1")
    config = sr.config()
    with pytest.raises(PreflightError, match="end of life since 2026-11-01"):
        plan_backport(
            sr.git,
            config,
            stable_channel(config, None),
            sr.opts(tmp_path),
            line="2.14",
            picks=["#2"],
        )


def test_line_only_on_origin_starts_from_the_remote_branch(sr: StableRepo, tmp_path: Path) -> None:
    _line(sr, "2.14", "edge-26.11.1")
    sr.repo.git("push", "-q", "origin", "2.14.x", "--tags")
    sr.repo.git("branch", "-D", "2.14.x")
    sr.repo.git("fetch", "-q", "origin")
    config = sr.config()
    plan = plan_point(
        sr.git,
        config,
        stable_channel(config, None),
        sr.opts(tmp_path),
        line="2.14",
        picks=["#4"],
    )
    assert plan.branch_exists is False
    assert plan.base_commit == sr.head_of("origin/2.14.x")


def test_vendor_channel_is_independent(tmp_path: Path) -> None:
    sr = make_stable_repo(tmp_path, acme=True)
    _line(sr, "2.14", "edge-26.10.1")
    config = sr.config()
    acme = stable_channel(config, "stable-acme")
    plan = plan_cut(sr.git, config, acme, sr.opts(tmp_path), from_edge=None, line=None)
    assert (plan.tag, plan.branch, plan.channel) == ("acme-2.14.0", "acme-2.14.x", "stable-acme")
    assert plan.signer is None  # --sign none
    signed = plan_cut(
        sr.git, config, acme, sr.opts(tmp_path, sign="dev"), from_edge=None, line=None
    )
    assert signed.signer is not None
    assert signed.signer.identity == "acme-2.14@dev.invalid"
    with pytest.raises(ConfigError, match="not a stable one"):
        stable_channel(config, "edge")


def test_cut_notes_are_capped(
    sr: StableRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import release.stable

    monkeypatch.setattr(release.stable, "FIRST_RELEASE_LIMIT", 2)
    config = sr.config()
    plan = plan_cut(
        sr.git, config, stable_channel(config, None), sr.opts(tmp_path), from_edge=None, line=None
    )
    assert plan.commit_count == 4  # config, #1, #2, #3
    assert plan.notes.rstrip().endswith("… and 2 earlier changes: see `git log stable-2.14.0`.")
    assert "three (#3)" in plan.notes
    assert "one (#1)" not in plan.notes
