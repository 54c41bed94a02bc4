"""match_origins (pure): trailer, then patch-id, then PR number."""

from __future__ import annotations

from datetime import UTC, datetime

from release.adapters.git import Commit
from release.ledger import (
    PATCH_ID,
    PR,
    TRAILER,
    Origin,
    match_origins,
    pr_number,
    pr_numbers,
    trailers,
)

T = datetime(2026, 1, 1, tzinfo=UTC)


def c(sha: str, subject: str, body: str = "") -> Commit:
    return Commit(sha.ljust(40, "0"), "a", "a@e.x", T, subject, body)


def test_pr_number_and_trailers() -> None:
    assert pr_number("fix: thing (#123)") == 123
    assert pr_number("fix (#1) and more (#22)") == 22
    assert pr_number("no number #5") is None
    assert trailers("x\n(cherry picked from commit abcdef1)\n") == ["abcdef1"]


def test_priorities() -> None:
    main = [c("a3", "fix: c (#3)"), c("a2", "fix: b (#2)"), c("a1", "fix: a (#1)")]
    line = [
        c("b1", "whatever", f"(cherry picked from commit {'a1'.ljust(40, '0')})"),
        c("b2", "fix: b, reworded"),  # same diff
        c("b3", "[2.14] fix: c (#3)"),  # no trailer, different diff, same PR number
        c("b4", "Release stable-2.14.1"),
        c("b5", "short trailer", "(cherry picked from commit a300000)"),
    ]
    got = match_origins(
        line,
        {line[1].sha: "pid-b", line[2].sha: "pid-c-conflict-resolved"},
        main,
        {main[1].sha: "pid-b", main[0].sha: "pid-c"},
    )
    assert got[line[0].sha].how == TRAILER
    assert got[line[0].sha].main_commit == main[2].sha
    assert got[line[1].sha].how == PATCH_ID
    assert got[line[1].sha].main_commit == main[1].sha
    assert got[line[2].sha].how == PR
    assert got[line[2].sha].main_commit == main[0].sha
    assert line[3].sha not in got
    assert got[line[4].sha].how == TRAILER
    assert got[line[4].sha].main_commit == main[0].sha


def test_trailer_to_a_non_main_commit_falls_back_to_patch_id() -> None:
    main = [c("a1", "fix: a")]
    line = [c("b1", "fix: a", f"(cherry picked from commit {'e9'.ljust(40, '0')})")]
    got = match_origins(line, {line[0].sha: "p"}, main, {main[0].sha: "p"})
    assert got[line[0].sha].how == PATCH_ID


def test_a_backport_pr_number_after_mains() -> None:
    assert pr_numbers("fix: thing (#123) (#130)") == [130, 123]
    assert pr_numbers("Merge pull request #77 from dev/topic") == [77]
    assert pr_number("Merge pull request #77 from dev/topic") == 77
    main = [c("a1", "fix: thing (#123)")]
    line = [c("b1", "fix: thing (#123) (#130)")]
    got = match_origins(line, {}, main, {})
    assert got[line[0].sha] == Origin(main[0].sha, PR)
