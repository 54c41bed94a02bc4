"""The version model: an ordered table compared pairwise, properties, next_* rules."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.errors import InvalidVersion, UsageError
from release.versions import (
    EdgeVersion,
    Line,
    StableVersion,
    TagFormat,
    next_backport,
    next_edge,
    next_minor,
    next_point,
    parse_date,
    parse_line,
    pep440,
)

EDGE = TagFormat("edge-{yy}.{m}.{n}")
STABLE = TagFormat("stable-{version}")

# Each table is strictly increasing; every pair is compared both ways.
EDGE_ORDER = [
    "edge-24.1.1",
    "edge-24.1.2",
    "edge-24.1.10",
    "edge-24.2.1",
    "edge-24.9.3",
    "edge-24.10.1",
    "edge-24.12.8",
    "edge-25.1.1",
    "edge-25.11.2",
    "edge-26.1.1",
]
STABLE_ORDER = [
    "stable-0.9.9",
    "stable-1.0.0",
    "stable-2.9.0",
    "stable-2.9.10",
    "stable-2.10.0",
    "stable-2.10.1",
    "stable-2.14.10",
    "stable-2.15.0",
    "stable-10.0.0",
]


@pytest.mark.parametrize(("fmt", "table"), [(EDGE, EDGE_ORDER), (STABLE, STABLE_ORDER)])
def test_ordered_table_pairwise(fmt: TagFormat, table: list[str]) -> None:
    parsed = [fmt.parse(t) for t in table]
    assert all(p is not None for p in parsed)
    for (i, a), (j, b) in itertools.product(enumerate(parsed), repeat=2):
        assert (a < b) == (i < j), (table[i], table[j])  # type: ignore[operator]
        assert (a == b) == (i == j)
        assert (a > b) == (i > j)  # type: ignore[operator]
    assert [fmt.format(p) for p in parsed] == table  # type: ignore[arg-type]


def test_strings_would_sort_wrong_but_versions_do_not() -> None:
    assert "2.10.0" < "2.9.0"
    assert StableVersion.parse("2.10.0") > StableVersion.parse("2.9.0")


@pytest.mark.parametrize(
    "tag",
    [
        "v18.7.1",
        "edge-1.2.3",
        "git-1a18ca8f",
        "version-2.15",
        "edge-24.0.1",
        "edge-24.13.1",
        "edge-24.01.1",
        "edge-24.1.0",
        "edge-24.1.01",
        "edge-24.1",
        "stable-2.15",
        "stable-2.15.0-rc.1",
        "stable-2.15.0+build",
        "stable-02.15.0",
        "stable-2.15.0 ",
        "",
    ],
)
def test_junk_tags_are_not_releases(tag: str) -> None:
    assert EDGE.parse(tag) is None
    assert STABLE.parse(tag) is None


def test_edge_fields_and_forms() -> None:
    v = EDGE.parse("edge-26.11.3")
    assert v == EdgeVersion(2026, 11, 3)
    assert isinstance(v, EdgeVersion)
    assert (str(v), v.yy, str(v.line), pep440(v)) == ("26.11.3", 26, "26.11", "2026.11.3")
    assert EdgeVersion.parse("05.1.2") == EdgeVersion(2005, 1, 2)
    assert EDGE.format(EdgeVersion(2005, 1, 2)) == "edge-05.1.2"


def test_stable_fields_and_forms() -> None:
    v = StableVersion.parse("2.15.3")
    assert (v.line, v.bump_patch(), pep440(v)) == (Line(2, 15), StableVersion(2, 15, 4), "2.15.3")
    with pytest.raises(InvalidVersion):
        StableVersion.parse("2.15.3-rc.1")
    with pytest.raises(ValueError, match="not a semantic version"):
        StableVersion.parse("2.15")


@pytest.mark.parametrize(
    ("year", "month", "n"), [(1999, 1, 1), (2100, 1, 1), (2026, 0, 1), (2026, 13, 1), (2026, 1, 0)]
)
def test_edge_bounds(year: int, month: int, n: int) -> None:
    with pytest.raises(InvalidVersion):
        EdgeVersion(year, month, n)


def test_tag_format_templates() -> None:
    assert TagFormat("{major}.{minor}.{patch}").parse("2.15.1") == StableVersion(2, 15, 1)
    assert TagFormat("release/v{version}").format(StableVersion(1, 2, 3)) == "release/v1.2.3"
    assert TagFormat("edge/{yy}.{m}.{n}").kind == "edge"
    for bad in ("edge-{yy}.{m}", "v{version}.{n}", "x-{foo}", "v {version}", "a:{version}"):
        with pytest.raises(InvalidVersion):
            TagFormat(bad)
    with pytest.raises(InvalidVersion, match="edge version"):
        STABLE.format(EdgeVersion(2026, 1, 1))
    with pytest.raises(InvalidVersion, match="stable version"):
        EDGE.format(StableVersion(1, 0, 0))


# -- next edge -------------------------------------------------------------------------


def _edges(*tags: str) -> list[EdgeVersion]:
    return [v for t in tags if isinstance(v := EDGE.parse(t), EdgeVersion)]


def test_next_edge_counts_within_the_month() -> None:
    existing = _edges(*(f"edge-25.12.{n}" for n in range(1, 9)))
    assert next_edge(existing, date(2025, 12, 31)) == EdgeVersion(2025, 12, 9)


def test_next_edge_year_rollover() -> None:
    existing = _edges("edge-25.12.7", "edge-25.12.8")
    assert next_edge(existing, date(2026, 1, 1)) == EdgeVersion(2026, 1, 1)
    assert EDGE.format(next_edge(existing, date(2026, 1, 1))) == "edge-26.1.1"


def test_next_edge_first_ever_and_new_month() -> None:
    assert next_edge([], date(2026, 11, 25)) == EdgeVersion(2026, 11, 1)
    assert next_edge(_edges("edge-26.10.4"), date(2026, 11, 2)) == EdgeVersion(2026, 11, 1)


def test_next_edge_refuses_a_date_before_the_newest_month() -> None:
    with pytest.raises(UsageError, match="before the newest edge") as info:
        next_edge(_edges("edge-26.1.1"), date(2025, 12, 31))
    assert info.value.hint


def test_next_edge_ignores_an_older_gap() -> None:
    # 26.11.2 missing: numbers continue after the highest, never fill holes
    assert next_edge(_edges("edge-26.11.1", "edge-26.11.3"), date(2026, 11, 30)).n == 4


# -- next stable -----------------------------------------------------------------------


STABLES = [StableVersion.parse(v) for v in ("2.13.7", "2.14.0", "2.14.1", "2.13.0", "2.12.3")]


def test_next_minor_point_backport() -> None:
    assert next_minor(STABLES) == StableVersion(2, 15, 0)
    assert next_minor([]) == StableVersion(1, 0, 0)
    assert next_minor([], Line(2, 0)) == StableVersion(2, 0, 0)
    assert next_point(STABLES, Line(2, 14)) == StableVersion(2, 14, 2)
    assert next_point(STABLES, Line(2, 13)) == StableVersion(2, 13, 8)
    assert next_backport(STABLES, Line(2, 12)) == StableVersion(2, 12, 4)


def test_unknown_line_and_backport_to_newest() -> None:
    with pytest.raises(UsageError, match=r"line 2\.16 has no stable release") as info:
        next_point(STABLES, Line(2, 16))
    assert info.value.hint == "known lines: 2.14, 2.13, 2.12"
    with pytest.raises(UsageError, match="newest line"):
        next_backport(STABLES, Line(2, 14))
    with pytest.raises(UsageError, match=r"cut a line first|has no stable release"):
        next_point([], Line(1, 0))


def test_parse_line_and_date() -> None:
    assert parse_line(" 2.15 ") == Line(2, 15)
    assert Line(2, 9) < Line(2, 10)
    for bad in ("2", "2.15.1", "02.1", "x.y", ""):
        with pytest.raises(UsageError):
            parse_line(bad)
    assert parse_date("2026-02-28") == date(2026, 2, 28)
    for bad in ("2026-02-30", "26-02-01", "2026-2-1", "today", "2026-02-01T00:00"):
        with pytest.raises(UsageError, match="is not a date"):
            parse_date(bad)


# -- properties ------------------------------------------------------------------------

edges = st.builds(
    EdgeVersion,
    year=st.integers(2000, 2099),
    month=st.integers(1, 12),
    n=st.integers(1, 999),
)
stables = st.builds(
    StableVersion,
    major=st.integers(0, 10**6),
    minor=st.integers(0, 10**6),
    patch=st.integers(0, 10**6),
)
formats = st.sampled_from(
    ["stable-{version}", "v{version}", "{major}.{minor}.{patch}", "release/{version}"]
)


@given(edges)
def test_edge_format_parse_identity(v: EdgeVersion) -> None:
    assert EDGE.parse(EDGE.format(v)) == v
    assert EdgeVersion.parse(str(v)) == v


@given(stables, formats)
def test_stable_format_parse_identity(v: StableVersion, template: str) -> None:
    fmt = TagFormat(template)
    assert fmt.parse(fmt.format(v)) == v
    assert StableVersion.parse(str(v)) == v


@given(st.lists(edges, max_size=30), st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_next_edge_is_greater_than_every_existing_edge(
    existing: list[EdgeVersion], today: date
) -> None:
    newest = max(existing, default=None)
    if newest is not None and (today.year, today.month) < (newest.year, newest.month):
        with pytest.raises(UsageError):
            next_edge(existing, today)
        return
    nxt = next_edge(existing, today)
    assert all(nxt > v for v in existing)
    assert (nxt.year, nxt.month) == (today.year, today.month)


@given(st.lists(stables, min_size=1, max_size=30), st.data())
def test_next_point_stays_in_its_line(existing: list[StableVersion], data: st.DataObject) -> None:
    line = data.draw(st.sampled_from(existing)).line
    nxt = next_point(existing, line)
    assert nxt.line == line
    assert all(nxt > v for v in existing if v.line == line)
    assert nxt not in existing


@given(st.text(max_size=40))
def test_junk_never_crashes(text: str) -> None:
    for fmt in (EDGE, STABLE, TagFormat("{major}.{minor}.{patch}")):
        parsed = fmt.parse(text)
        assert parsed is None or fmt.format(parsed) == text


@pytest.mark.parametrize("tag", ["edge-\u0662\u0666.1.1", "edge-26.1.\u0663", "stable-1.\u0662.0"])
def test_other_scripts_digits_are_not_versions(tag: str) -> None:
    # int() accepts Arabic-Indic digits; a tag made of them is still junk
    assert EDGE.parse(tag) is None
    assert STABLE.parse(tag) is None


def test_other_scripts_digits_are_not_lines_or_dates() -> None:
    with pytest.raises(UsageError):
        parse_line("1\u0662.1")
    with pytest.raises(UsageError):
        parse_date("\u0662026-01-01")


@given(st.text(alphabet=st.sampled_from("0123456789.-edgstabl\u0662\u0666\u00b2v{}"), max_size=20))
def test_tag_like_junk_never_crashes(text: str) -> None:
    for fmt in (EDGE, STABLE):
        parsed = fmt.parse(text)
        assert parsed is None or fmt.format(parsed) == text
