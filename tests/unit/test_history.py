"""Release history (pure): channel membership, lines, previous releases, assign_commits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.adapters.git import Commit, TagInfo
from release.config import LineSupport, SupportPolicy, default_channels
from release.history import (
    assign_commits,
    build_history,
    classify_tag,
    releases_by_channel,
    stable_lines,
    support_phases,
)
from release.versions import EdgeVersion, Line, StableVersion

T0 = datetime(2025, 12, 1, tzinfo=UTC)


def tag(name: str, day: int, commit: str | None = None) -> TagInfo:
    return TagInfo(name, commit or f"c-{name}", T0 + timedelta(days=day), True)


TAGS = [
    tag("edge-25.12.2", 3),
    tag("stable-2.14.1", 40),
    tag("v18.7.1", 0),
    tag("edge-25.12.1", 1),
    tag("stable-2.13.7", 44),
    tag("edge-26.1.1", 33),
    tag("stable-2.14.0", 20),
    tag("git-1a18ca8f", 2),
    tag("stable-2.13.0", 4),
    tag("edge-1.2.3", 5),
    tag("version-2.15", 6),
]


def test_releases_by_channel_skips_junk_and_sorts(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="release.history")
    result = releases_by_channel(TAGS, default_channels())
    assert [r.name for r in result["edge"]] == ["edge-25.12.1", "edge-25.12.2", "edge-26.1.1"]
    assert [r.name for r in result["stable"]] == [
        "stable-2.13.0",
        "stable-2.13.7",
        "stable-2.14.0",
        "stable-2.14.1",
    ]
    assert result["edge"][2].version == EdgeVersion(2026, 1, 1)
    assert result["edge"][2].channel == "edge"
    assert result["stable"][0].day == date(2025, 12, 5)
    assert "tag v18.7.1 is not a release" in caplog.text
    assert "edge-1.2.3" in caplog.text


def test_every_channel_has_a_key() -> None:
    assert releases_by_channel([], default_channels()) == {"edge": [], "stable": []}


def test_classify_tag() -> None:
    assert classify_tag("stable-2.15.0", default_channels()) == ("stable", StableVersion(2, 15, 0))
    assert classify_tag("edge-26.11.1", default_channels()) == ("edge", EdgeVersion(2026, 11, 1))
    assert classify_tag("v2.15.0", default_channels()) is None


def test_duplicate_version_keeps_the_older_tag() -> None:
    from release.config import ChannelConfig
    from release.versions import TagFormat

    channels = {
        "stable": ChannelConfig("stable", "stable", TagFormat("v{version}")),
        "other": ChannelConfig("other", "stable", TagFormat("{version}")),
    }
    one = releases_by_channel([tag("v1.0.0", 5), tag("v1.0.0", 1, "x")], channels)
    assert [(r.name, r.commit) for r in one["stable"]] == [("v1.0.0", "x")]


def test_lines_previous_and_order() -> None:
    history = build_history(TAGS, default_channels())
    lines = history.lines("stable")
    assert [(str(s.line), s.count, s.latest.name, s.first.name) for s in lines] == [
        ("2.14", 2, "stable-2.14.1", "stable-2.14.0"),
        ("2.13", 2, "stable-2.13.7", "stable-2.13.0"),
    ]
    assert lines[1].first_date == T0 + timedelta(days=4)
    assert lines[1].last_date == T0 + timedelta(days=44)
    assert history.line("stable", Line(2, 13)) == lines[1]
    assert history.line("stable", Line(9, 9)) is None

    def prev(name: str) -> str | None:
        r = history.find(name)
        assert r is not None
        p = history.previous(r)
        return p.name if p else None

    assert prev("edge-26.1.1") == "edge-25.12.2"
    assert prev("edge-25.12.1") is None
    assert prev("stable-2.13.7") == "stable-2.13.0"
    assert prev("stable-2.14.0") == "stable-2.13.7"  # a .0 starts after the line below
    assert prev("stable-2.13.0") is None
    assert [r.name for r in history.all_releases()][:3] == [
        "stable-2.13.7",
        "stable-2.14.1",
        "edge-26.1.1",
    ]
    assert history.latest("edge").name == "edge-26.1.1"  # type: ignore[union-attr]
    assert history.latest("nope") is None
    assert history.releases("nope") == ()
    assert stable_lines([]) == []


def test_support_phases_by_count_and_dates() -> None:
    lines = [Line(2, 12), Line(2, 15), Line(2, 14), Line(2, 13)]
    by_count = support_phases(lines, SupportPolicy(maintained_lines=2), date(2026, 1, 1))
    assert {str(k): v[0] for k, v in by_count.items()} == {
        "2.15": "active",
        "2.14": "maintenance",
        "2.13": "eol",
        "2.12": "eol",
    }
    policy = SupportPolicy(
        2,
        MappingProxyType(
            {
                "2.13": LineSupport(eol=date(2026, 6, 1)),
                "2.14": LineSupport(eol=date(2026, 1, 1)),
            }
        ),
    )
    dated = support_phases(lines, policy, date(2026, 1, 1))
    assert dated[Line(2, 14)] == ("eol", date(2026, 1, 1))
    assert dated[Line(2, 13)] == ("maintenance", date(2026, 6, 1))
    assert dated[Line(2, 12)] == ("eol", None)


# -- assign_commits against brute force on random DAGs --------------------------------


def _commit(sha: str, parents: tuple[str, ...]) -> Commit:
    return Commit(sha, "a", "a@x", T0, f"fix: {sha}", "", parents)


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[Commit], dict[str, str], dict[str, str | None]]:
    n = draw(st.integers(1, 40))
    parents: list[tuple[str, ...]] = []
    for i in range(n):
        if i == 0:
            parents.append(())
            continue
        k = draw(st.integers(0, min(2, i)))
        ps = draw(st.lists(st.integers(0, i - 1), min_size=k, max_size=k, unique=True))
        parents.append(tuple(f"c{p}" for p in ps))
    # c{i} only has parents with smaller index: reversed order is topological
    commits = [_commit(f"c{i}", parents[i]) for i in reversed(range(n))]
    k = draw(st.integers(1, 8))
    heads = {f"r{j}": f"c{draw(st.integers(0, n - 1))}" for j in range(k)}
    previous: dict[str, str | None] = {
        f"r{j}": draw(st.sampled_from([None, *heads])) for j in range(k)
    }
    return commits, heads, previous


def _ancestors(sha: str, by_sha: dict[str, Commit]) -> set[str]:
    seen, todo = set(), [sha]
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(by_sha[s].parents)
    return seen


@settings(max_examples=300, deadline=None)
@given(dags())
def test_assign_commits_equals_set_difference(
    case: tuple[list[Commit], dict[str, str], dict[str, str | None]],
) -> None:
    commits, heads, previous = case
    by_sha = {c.sha: c for c in commits}
    got = assign_commits(commits, heads, previous)
    order = [c.sha for c in commits]
    for k, head in heads.items():
        want = _ancestors(head, by_sha)
        p = previous[k]
        if p is not None:
            want -= _ancestors(heads[p], by_sha)
        shas = [c.sha for c in got[k]]
        assert set(shas) == want
        assert shas == [s for s in order if s in want]  # input order kept


def test_assign_commits_unknown_head() -> None:
    with pytest.raises(KeyError):
        assign_commits([_commit("a", ())], {"r": "zz"}, {"r": None})
