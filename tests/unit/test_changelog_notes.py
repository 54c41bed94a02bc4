"""Release notes: release commits left out, bounded sections linking to the full history."""

from __future__ import annotations

from datetime import UTC, date, datetime

from release.adapters.git import Commit
from release.changelog import entries, is_release_commit, render_section

T = datetime(2026, 1, 1, tzinfo=UTC)


def c(n: int, subject: str) -> Commit:
    return Commit(f"{n:040x}", "Dev", "d@e.x", T, subject, "", ("0" * 40,))


def test_release_commits_are_not_changes() -> None:
    for subject in (
        "Release edge-26.11.1",
        "Release stable-2.14.3",
        "chore(release): 2.15.0",
        "Release v1.2.3",
    ):
        assert is_release_commit(subject), subject
    for subject in ("Release notes for the proxy", "fix: release the lock (#3)", "Releases page"):
        assert not is_release_commit(subject), subject
    got = entries([c(1, "Release edge-26.11.1"), c(2, "fix: real (#2)")])
    assert [e.description for e in got] == ["real"]


def test_a_long_section_is_bounded_and_links_to_the_full_history() -> None:
    commits = [c(n, f"fix: change {n} (#{n})") for n in range(120, 0, -1)]
    text = render_section(
        "edge-26.11.1",
        date(2026, 11, 25),
        commits,
        repository="https://github.com/o/r",
        intro="First release.",
        limit=50,
    )
    assert text.startswith("## [edge-26.11.1] - 2026-11-25\n\nFirst release.\n\n### Bug Fixes\n")
    assert text.count("\n- ") == 50
    assert "change 120 " in text
    assert "change 70 " not in text
    assert text.endswith(
        "… and 70 earlier changes: see "
        "[the full history](https://github.com/o/r/commits/edge-26.11.1).\n"
    )
    unlinked = render_section("x", None, commits, repository=None, limit=119)
    assert unlinked.endswith("… and 1 earlier change: see `git log x`.\n")


def test_notes_remark_an_entry() -> None:
    text = render_section(
        "stable-2.14.1",
        None,
        [c(1, "fix: four (#4)")],
        repository=None,
        notes={f"{1:040x}": "also in edge-26.11.2"},
    )
    assert "- four (#4) (0000000) by Dev (also in edge-26.11.2)" in text
