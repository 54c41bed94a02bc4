"""Tags that break their channel's order are reported and left out of the chains."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from release.adapters.git import TagInfo
from release.config import HistorySettings, ProjectConfig, default_channels
from release.history import build_history, releases_by_channel, tag_anomalies

T0 = datetime(2019, 5, 1, tzinfo=UTC)


def tag(name: str, day: int, *, annotated: bool = True) -> TagInfo:
    return TagInfo(name, f"c-{name}", T0 + timedelta(days=day), annotated)


EDGES = [tag(f"edge-19.6.{n}", 30 + 5 * n) for n in range(1, 5)] + [
    tag("edge-19.7.1", 62),
    tag("edge-19.7.2", 70),
]


def project(**kw: tuple[str, ...]) -> ProjectConfig:
    return ProjectConfig(channels=default_channels(), history=HistorySettings(**kw))


def names(tags: list[TagInfo], config: object = None) -> list[str]:
    rels = releases_by_channel(tags, config or default_channels())  # type: ignore[arg-type]
    return [r.name for r in rels["edge"]]


def test_a_clean_history_has_no_anomalies() -> None:
    assert tag_anomalies(EDGES, default_channels()) == []
    assert names(EDGES) == [t.name for t in EDGES]


def test_a_stray_lightweight_tag_out_of_date_order_is_left_out() -> None:
    stray = tag("edge-19.6.13", 2, annotated=False)  # on an old commit
    found = tag_anomalies([*EDGES, stray], default_channels())
    assert [a.tag for a in found] == ["edge-19.6.13"]
    assert "lightweight" in found[0].reason
    assert not found[0].explicit
    history = build_history([*EDGES, stray], default_channels())
    assert history.find("edge-19.6.13") is None
    seven = history.find("edge-19.7.1")
    assert seven is not None
    prev = history.previous(seven)
    assert prev is not None
    assert prev.name == "edge-19.6.4"
    assert [a.tag for a in history.anomalies] == ["edge-19.6.13"]


def test_an_annotated_tag_out_of_date_order_is_left_out_with_its_neighbours() -> None:
    late = tag("edge-19.6.9", 400)  # tagged a year later: newer than edge-19.7.x
    found = tag_anomalies([*EDGES, late], default_channels())
    assert [a.tag for a in found] == ["edge-19.6.9"]
    assert found[0].reason.startswith("dated 2020-06-04, out of order with edge-19.6.4")
    assert "edge-19.7.1" in found[0].reason


def test_a_lightweight_tag_is_fine_among_lightweight_ones() -> None:
    light = [replace(t, annotated=False) for t in EDGES]
    assert tag_anomalies(light, default_channels()) == []
    # a lightweight tag at the end of the annotated ones is not "amid" them
    assert (
        tag_anomalies([*EDGES, tag("edge-19.7.3", 80, annotated=False)], default_channels()) == []
    )


def test_backports_to_old_lines_interleave_without_being_anomalies() -> None:
    stable = [
        tag("stable-2.13.0", 0),
        tag("stable-2.14.0", 10),
        tag("stable-2.13.1", 20),  # a backport after the next line's .0
        tag("stable-2.14.1", 25),
        tag("stable-2.13.2", 30),
    ]
    assert tag_anomalies(stable, default_channels()) == []
    bad = tag("stable-2.13.3", 5)  # dated before 2.13.1 and 2.13.2
    found = tag_anomalies([*stable, bad], default_channels())
    assert [a.tag for a in found] == ["stable-2.13.3"]


def test_ignore_tags_and_keep_tags_make_the_choice_explicit() -> None:
    stray = tag("edge-19.6.13", 2, annotated=False)
    tags = [*EDGES, stray]
    ignored = tag_anomalies(tags, project(ignore_tags=("edge-19.6.13", "edge-19.7.2")))
    assert [(a.tag, a.explicit) for a in ignored] == [("edge-19.6.13", True), ("edge-19.7.2", True)]
    assert "edge-19.7.2" not in names(tags, project(ignore_tags=("edge-19.7.2",)))
    kept = project(keep_tags=("edge-19.6.13",))
    assert tag_anomalies(tags, kept) == []
    assert "edge-19.6.13" in names(tags, kept)
