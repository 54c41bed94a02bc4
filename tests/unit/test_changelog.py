"""Changelog rendering and CHANGELOG.md updates (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.adapters.git import Commit
from release.changelog import (
    CHANGELOG_HEADER,
    entries,
    insert_release,
    normalize_repository_url,
    parse_conventional,
    render_section,
)

REPO = "https://github.com/o/r"
WHEN = datetime(2026, 11, 20, tzinfo=UTC)


def c(
    subject: str, n: int = 1, *, body: str = "", merge: bool = False, author: str = "Ann"
) -> Commit:
    sha = f"{n:040x}"
    parents = ("a" * 40, "b" * 40) if merge else ("a" * 40,)
    return Commit(sha, author, "ann@x", WHEN, subject, body, parents)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("feat: add retries", ("feat", None, False, "add retries")),
        ("fix(proxy): handle EOF", ("fix", "proxy", False, "handle EOF")),
        ("feat(api)!: drop v1", ("feat", "api", True, "drop v1")),
        ("refactor!: rename", ("refactor", None, True, "rename")),
        ("Feat(CLI):  shout", ("feat", "CLI", False, "shout")),
        ("chore(): empty scope", ("chore", None, False, "empty scope")),
        ("build(deps-dev): bump x", ("build", "deps-dev", False, "bump x")),
        ("Update README", (None, None, False, "Update README")),
        ("feat:missing space", (None, None, False, "feat:missing space")),
        ("feat: ", (None, None, False, "feat:")),
        ("fix(a)(b): nested", (None, None, False, "fix(a)(b): nested")),
        ("Merge pull request #1 from x/y", (None, None, False, "Merge pull request #1 from x/y")),
        ("  fix: padded  ", ("fix", None, False, "padded")),
    ],
)
def test_parse_conventional(subject: str, expected: tuple[object, ...]) -> None:
    assert tuple(parse_conventional(subject)) == expected
    assert parse_conventional(subject).type == expected[0]


@given(st.text(max_size=80))
def test_parse_conventional_never_crashes(subject: str) -> None:
    parsed = parse_conventional(subject)
    assert parsed.type is None or parsed.type == parsed.type.lower()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/o/r", REPO),
        ("https://github.com/o/r/", REPO),
        ("https://github.com/o/r.git", REPO),
        ("http://github.com/o/r.git", REPO),
        ("git@github.com:o/r.git", REPO),
        ("git@github.com:o/r", REPO),
        ("ssh://git@github.com/o/r.git", REPO),
        ("ssh://git@github.com:22/o/r.git", REPO),
        ("git://github.com/o/r.git", REPO),
        ("https://token@github.com/o/r.git", REPO),
        ("https://gitlab.example.com/group/sub/r.git", "https://gitlab.example.com/group/sub/r"),
        ("/tmp/origin.git", None),
        ("file:///tmp/origin.git", None),
        ("../origin", None),
        ("https://github.com/justowner", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_repository_url(url: str | None, expected: str | None) -> None:
    assert normalize_repository_url(url) == expected


def test_section_groups_breaking_first_and_links() -> None:
    commits = [
        c("docs: explain channels (#7)", 1),
        c("fix(proxy): handle EOF (#12)", 2, author="Bob"),
        c("Merge pull request #12 from bob/eof", 3, merge=True),
        c("feat: add retries", 4),
        c("Update README", 5),
        c("refactor(api)!: rename the client (#9)", 6),
        c("feat: new flag", 7, body="Adds --x.\n\nBREAKING CHANGE: --y is gone"),
        c("ci: pin actions", 8),
        c("wip: unknown type", 9),
    ]
    text = render_section(
        "edge-26.11.1", date(2026, 11, 25), commits, repository="git@github.com:o/r.git"
    )
    assert text.startswith("## [edge-26.11.1] - 2026-11-25\n\n### Breaking Changes\n\n")
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    headings = [ln for ln in text.splitlines() if ln.startswith("### ")]
    assert headings == [
        "### Breaking Changes",
        "### Features",
        "### Bug Fixes",
        "### Documentation",
        "### Build and CI",
        "### Other changes",
    ]
    sha2 = f"{2:040x}"
    pr_link = f"([#12]({REPO}/pull/12))"
    assert f"- **proxy:** handle EOF {pr_link} ([{sha2[:7]}]({REPO}/commit/{sha2})) by Bob" in text
    assert "Merge pull request" not in text
    breaking = text.split("### Features")[0]
    assert "rename the client" in breaking
    assert "new flag" in breaking
    other = text.split("### Other changes")[1]
    assert "Update README" in other
    assert "wip: unknown type" in other


def test_section_without_repository_keeps_plain_references() -> None:
    text = render_section("v1", None, [c("fix: x (#5)", 0xABC)], repository=None)
    assert text == "## [v1]\n\n### Bug Fixes\n\n- x (#5) (0000000) by Ann\n"
    local = render_section("v1", None, [c("fix: x (#5)", 0xABC)], repository="/tmp/origin.git")
    assert local == text


def test_section_flat_when_nothing_is_conventional() -> None:
    text = render_section(
        "edge-26.1.1",
        date(2026, 1, 3),
        [c("Update README (#3)", 1), c("Bump deps", 2)],
        repository=REPO,
    )
    assert "###" not in text
    lines = text.splitlines()
    assert lines[0] == "## [edge-26.1.1] - 2026-01-03"
    assert lines[2].startswith("- Update README ([#3](https://github.com/o/r/pull/3))")
    assert lines[3].startswith("- Bump deps ([0000000](")


def test_section_with_no_commits_and_only_merges() -> None:
    empty = render_section("edge-26.1.2", None, [], repository=REPO)
    assert empty == "## [edge-26.1.2]\n\n_No changes._\n"
    assert render_section("x", None, [c("Merge branch 'a'", merge=True)], repository=None) == (
        "## [x]\n\n_No changes._\n"
    )


def test_entries_data() -> None:
    (e,) = entries([c("feat(ui)!: redo (#42)", 3)])
    assert e.to_dict() == {
        "sha": f"{3:040x}",
        "group": "Breaking Changes",
        "type": "feat",
        "scope": "ui",
        "breaking": True,
        "description": "redo",
        "pr": 42,
        "author": "Ann",
    }


def test_breaking_footer_only_counts_for_conventional_commits() -> None:
    (e,) = entries([c("Rewrite everything", body="BREAKING CHANGE: all of it")])
    assert not e.breaking
    assert e.group == "Other changes"


# -- insert_release -----------------------------------------------------------------------

SECTION = render_section(
    "edge-26.11.1", date(2026, 11, 25), [c("feat: retries", 1), c("fix: eof", 2)], repository=None
)
EXISTING = """\
# Changelog

Intro text.

## [Unreleased]

### Added

- A hand-written entry.

## [edge-26.10.1] - 2026-10-02

- old stuff

[edge-26.10.1]: https://github.com/o/r/releases/tag/edge-26.10.1
"""


def test_insert_moves_unreleased_entries_into_the_release() -> None:
    out = insert_release(EXISTING, SECTION)
    assert (
        out
        == """\
# Changelog

Intro text.

## [Unreleased]

## [edge-26.11.1] - 2026-11-25

### Added

- A hand-written entry.

### Commits

#### Features

- retries (0000000) by Ann

#### Bug Fixes

- eof (0000000) by Ann

## [edge-26.10.1] - 2026-10-02

- old stuff

[edge-26.10.1]: https://github.com/o/r/releases/tag/edge-26.10.1
"""
    )


def test_insert_is_idempotent() -> None:
    once = insert_release(EXISTING, SECTION)
    assert insert_release(once, SECTION) == once


def test_insert_into_empty_creates_the_structure() -> None:
    out = insert_release("", SECTION)
    assert out.startswith(CHANGELOG_HEADER)
    assert (
        "\n## [Unreleased]\n\n## [edge-26.11.1] - 2026-11-25\n\n### Commits\n\n#### Features\n"
        in out
    )
    assert out.endswith("by Ann\n")


def test_insert_without_unreleased_heading() -> None:
    text = "# Changelog\n\n## [1.0.0] - 2020-01-01\n\n- first\n"
    out = insert_release(text, SECTION)
    assert out.index("## [Unreleased]") < out.index("## [edge-26.11.1]") < out.index("## [1.0.0]")
    assert out.endswith("## [1.0.0] - 2020-01-01\n\n- first\n")


def test_insert_ignores_headings_in_code_fences_and_keeps_crlf_content() -> None:
    text = "# C\r\n\r\n```\r\n## [Unreleased]\r\n```\r\n\r\n## [Unreleased]\r\n\r\n- note\r\n"
    out = insert_release(text, SECTION)
    assert out.count("## [Unreleased]") == 2
    assert out.index("```\n## [Unreleased]\n```") < out.index("- note") < out.index("### Commits")


def test_insert_rejects_a_section_without_heading() -> None:
    with pytest.raises(ValueError, match="heading"):
        insert_release(EXISTING, "- just a list\n")


@given(st.lists(st.text(alphabet="ab #-\n[]", max_size=30), max_size=6))
def test_insert_always_places_the_section_once(chunks: list[str]) -> None:
    text = "\n".join(chunks)
    out = insert_release(text, SECTION)
    if "## [edge-26.11.1]" in text:
        return
    assert out.count("## [edge-26.11.1] - 2026-11-25") == 1
    assert out.count("#### Features") == 1
    assert insert_release(out, SECTION) == out


def test_unknown_types_alone_render_flat() -> None:
    text = render_section("x", None, [c("wip: a", 1), c("Tidy up", 2)], repository=None)
    assert text == "## [x]\n\n- wip: a (0000000) by Ann\n- Tidy up (0000000) by Ann\n"
