"""Equivalence, the ledger's fourth strategy (pure): referenced PRs, subject similarity,
file overlap; a confidence; ambiguity demoted; low confidence shown, never counted."""

from __future__ import annotations

from datetime import UTC, datetime

from release.adapters.git import Commit
from release.equivalence import CONFIDENT, POSSIBLE, normalize, references, similarity
from release.ledger import EQUIVALENCE, PR, LedgerEntry, LineLedger, match_lines

T = datetime(2026, 1, 1, tzinfo=UTC)


def c(sha: str, subject: str, body: str = "") -> Commit:
    return Commit(sha.ljust(40, "0"), "a", "a@e.x", T, subject, body, ("p" * 40,))


def fs(*paths: str) -> frozenset[str]:
    return frozenset(paths)


def test_normalize_strips_markers_prefixes_and_pr_numbers() -> None:
    assert normalize("[2.13] backport: fix(proxy): retry requests (#123) (#130)") == (
        "retry requests"
    )
    assert normalize("Cherry-pick of feat: Add Thing (#5)") == "add thing"
    assert normalize("* fix: listed in a squash (#7)") == "listed in a squash"


def test_numbers_must_agree() -> None:
    a = normalize("chore(deps): bump tokio to 1.3.0 (#10)")
    b = normalize("chore(deps): bump tokio to 1.4.0 (#11)")
    assert similarity(a, a) == 1.0
    assert similarity(a, b) <= 0.5


def test_references_read_subject_and_body() -> None:
    assert references(c("b1", "fix: x (#130)", "Backport of #123, see org/repo#9.")) == {130, 123}


MAIN = [
    c("a3", "fix(proxy): drop stale connections (#3)"),
    c("a2", "feat: reload certificates on change (#2)"),
    c("a1", "chore(deps): bump tokio to 1.3.0 (#1)"),
]
FILES = {
    MAIN[0].sha: fs("proxy/conn.go", "proxy/conn_test.go"),
    MAIN[1].sha: fs("identity/certs.go"),
    MAIN[2].sha: fs("Cargo.lock"),
}


def test_squashed_backport_under_a_new_pr_number_is_matched_with_confidence() -> None:
    line = [c("b1", "backport: drop stale connections (#40)", "Backport of #3 to 2.13.")]
    files = {**FILES, line[0].sha: fs("proxy/conn.go", "proxy/conn_test.go")}
    got = match_lines(line, {}, MAIN, {}, files)
    origin = got.origins[line[0].sha]
    assert (origin.main_commit, origin.how) == (MAIN[0].sha, EQUIVALENCE)
    assert origin.confidence >= CONFIDENT
    assert origin.evidence is not None
    assert origin.evidence.referenced
    assert got.possible == {}


def test_reworded_without_reference_needs_the_same_words_and_files() -> None:
    line = [c("b1", "fix(proxy): drop stale connections (#41)")]
    same = match_lines(line, {}, MAIN, {}, {**FILES, line[0].sha: FILES[MAIN[0].sha]})
    assert same.origins[line[0].sha].how == EQUIVALENCE
    other_files = match_lines(line, {}, MAIN, {}, {**FILES, line[0].sha: fs("proxy/conn.go")})
    assert line[0].sha not in other_files.origins  # half the files: only possible
    assert other_files.possible[line[0].sha].main_commit == MAIN[0].sha
    assert POSSIBLE <= other_files.possible[line[0].sha].confidence < CONFIDENT


def test_the_lines_own_version_bump_is_not_mains() -> None:
    line = [c("b1", "chore(deps): bump tokio to 1.2.9 (#50)")]
    got = match_lines(line, {}, MAIN, {}, {**FILES, line[0].sha: fs("Cargo.lock")})
    assert got.origins == {}
    assert line[0].sha not in got.possible or got.possible[line[0].sha].confidence < CONFIDENT


def test_two_equally_good_main_commits_are_ambiguous_not_counted() -> None:
    main = [
        c("a5", "fix: handle endpoint updates (#5)"),
        c("a4", "fix: handle endpoint updates (#4)"),  # reverted and re-landed
    ]
    line = [c("b1", "fix: handle endpoint updates (#60)")]
    files = {main[0].sha: fs("d/e.go"), main[1].sha: fs("d/e.go"), line[0].sha: fs("d/e.go")}
    got = match_lines(line, {}, main, {}, files)
    assert got.origins == {}
    assert got.possible[line[0].sha].confidence < CONFIDENT


def test_a_squash_of_several_changes_carries_each_of_them() -> None:
    body = "* fix(proxy): drop stale connections (#3)\n* feat: reload certificates on change (#2)"
    line = [c("b1", "Backport 2 fixes to 2.13 (#70)", body)]
    files = {**FILES, line[0].sha: fs("proxy/conn.go", "proxy/conn_test.go", "identity/certs.go")}
    got = match_lines(line, {}, MAIN, {}, files)
    origin = got.origins[line[0].sha]
    assert {origin.main_commit, *origin.also} == {MAIN[0].sha, MAIN[1].sha}
    ledger = LineLedger("2.13", "2.13.x", "r", "base", (LedgerEntry(line[0].sha, "s", origin),))
    assert set(ledger.carried()) == {MAIN[0].sha, MAIN[1].sha}


def test_certain_strategies_come_first_and_release_commits_match_nothing() -> None:
    line = [
        c("b1", "[2.13] fix(proxy): drop stale connections (#3)"),
        c("b2", "Release stable-2.13.4"),
    ]
    files = {**FILES, line[0].sha: FILES[MAIN[0].sha], line[1].sha: fs("CHANGELOG.md")}
    got = match_lines(line, {}, MAIN, {}, files)
    assert got.origins[line[0].sha].how == PR
    assert line[1].sha not in got.origins
    assert line[1].sha not in got.possible


def test_possible_matches_are_not_carried() -> None:
    from release.equivalence import Evidence
    from release.ledger import Origin

    low = Origin(MAIN[0].sha, EQUIVALENCE, Evidence(0.6, False, 0.7, 0.5))
    entry = LedgerEntry("b".ljust(40, "0"), "s", None, possible=low)
    assert LineLedger("2.13", "2.13.x", "r", "base", (entry,)).carried() == {}
    assert entry.to_dict()["possible"] == {
        "main_commit": MAIN[0].sha,
        "how": EQUIVALENCE,
        "confidence": 0.6,
        "evidence": "subject 0.70, files 0.50",
        "also": [],
    }


def test_a_short_subject_without_reference_is_only_possible() -> None:
    main = [c("a1", "fix: five (#5)")]
    line = [c("b1", "line-only: five")]  # a different change to the same file
    got = match_lines(
        line, {}, main, {}, {main[0].sha: fs("five.txt"), line[0].sha: fs("five.txt")}
    )
    assert got.origins == {}
    assert got.possible[line[0].sha].confidence < CONFIDENT
