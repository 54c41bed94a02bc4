"""Inferring channels from tags and branches (pure): calendar vs semantic series,
branch formats, vendor channels, tags that are not releases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from release.adapters.git import TagInfo
from release.adopt import LineFacts, defaults_inference, infer, infer_branch_format, infer_support
from release.versions import Line


def tag(name: str, when: str, annotated: bool = True) -> TagInfo:
    return TagInfo(name, "0" * 40, datetime.fromisoformat(when).replace(tzinfo=UTC), annotated)


LINKERDISH = [
    tag("edge-25.11.1", "2025-11-04"),
    tag("edge-25.11.2", "2025-11-20"),
    tag("edge-25.12.1", "2025-12-01"),  # tagged on the first: still its month
    tag("edge-26.1.1", "2025-12-31"),  # a day early: one month of slack
    tag("edge-1.2.3", "2025-12-05"),
    tag("stable-2.13.0", "2025-11-05"),
    tag("stable-2.13.1", "2025-12-02"),
    tag("stable-2.14.0", "2025-12-03"),
    tag("v18.7.1", "2025-11-01"),
    tag("git-1a18ca8f", "2025-11-01", annotated=False),
]


def test_linkerd_like_tags() -> None:
    inf = infer(LINKERDISH, ["main", "release/stable-2.13", "release/stable-2.14", "dependabot/x"])
    assert inf.branch == "main"
    assert inf.edge is not None
    assert inf.edge.tag_format == "edge-{yy}.{m}.{n}"
    assert inf.edge.latest == "edge-26.1.1"
    (stable,) = inf.stable_channels()
    assert (stable.name, stable.tag_format) == ("stable", "stable-{version}")
    assert stable.branch_format == "release/stable-{major}.{minor}"
    assert [(str(f.line), f.latest, f.count) for f in stable.lines] == [
        ("2.14", "stable-2.14.0", 1),
        ("2.13", "stable-2.13.1", 2),
    ]
    assert inf.ignored == {
        "edge-1.2.3": "its version is not the month it was tagged in (edge-…)",
        "v18.7.1": "a lone tag of its form",
        "git-1a18ca8f": "not a version",
    }


def test_calendar_versions_must_match_their_tag_dates() -> None:
    # X.Y.Z tags whose X.Y happens to look like a date but were not tagged then
    tags = [tag(f"v25.{m}.0", f"2026-0{m}-01") for m in range(1, 5)]
    inf = infer(tags, ["main"])
    assert inf.edge is not None
    assert inf.edge.tags == ()  # the default edge, no tags
    (stable,) = inf.stable_channels()
    assert stable.tag_format == "v{version}"


@pytest.mark.parametrize(
    ("branches", "expected"),
    [
        (["2.13.x", "2.14.x", "main"], "{major}.{minor}.x"),
        (["release/stable-2.13", "release/stable-2.14"], "release/stable-{major}.{minor}"),
        (
            ["release-2.14", "release/stable-2.13", "release/stable-2.14"],
            "release/stable-{major}.{minor}",
        ),
        (["2.130.x", "12.13.x", "main"], "{major}.{minor}.x"),  # no line named: default
    ],
)
def test_branch_formats(branches: list[str], expected: str) -> None:
    fmt, found, why = infer_branch_format([Line(2, 14), Line(2, 13)], branches)
    assert fmt == expected
    if branches[0] == "2.130.x":
        assert found == {}
        assert why.startswith("no branch names a line")


def test_vendor_channels_get_their_own_names() -> None:
    tags = [
        tag("stable-2.14.0", "2026-01-01"),
        tag("stable-2.14.1", "2026-01-02"),
        tag("enterprise-2.14.0", "2026-01-03"),
        tag("enterprise-2.14.1", "2026-01-04"),
        tag("enterprise-2.15.0", "2026-01-05"),
    ]
    inf = infer(tags, ["main", "release/stable-2.14", "release/enterprise-2.14"])
    names = [(c.name, c.tag_format, c.branch_format) for c in inf.stable_channels()]
    assert names == [
        ("stable", "stable-{version}", "release/stable-{major}.{minor}"),
        ("enterprise", "enterprise-{version}", "release/enterprise-{major}.{minor}"),
    ]


def test_development_branch() -> None:
    assert infer([], ["master", "dev"]).branch == "master"
    assert infer([], ["trunk"], current="trunk").branch == "trunk"
    assert defaults_inference([], None).branch == "main"


def _line(x: str, first: str, last: str) -> LineFacts:
    major, minor = x.split(".")
    line = Line(int(major), int(minor))
    return LineFacts(
        line, f"stable-{x}.9", 2, None, date.fromisoformat(first), date.fromisoformat(last)
    )


def test_support_keeps_the_count_rule_when_the_history_fits_it() -> None:
    facts = [
        _line("2.14", "2025-12-17", "2026-01-10"),
        _line("2.13", "2025-12-05", "2026-01-14"),  # after 2.14.0: maintenance is fine
    ]
    months, why = infer_support(facts)
    assert months is None
    assert why.startswith("no line shipped after the default rule")


def test_support_by_dates_when_an_old_line_shipped_after_the_count_rule_ended_it() -> None:
    facts = [
        _line("2.14", "2026-02-01", "2026-02-20"),
        _line("2.13", "2026-01-01", "2026-02-15"),
        _line("2.12", "2025-06-01", "2026-03-01"),  # 2.12.9 a month after 2.14.0
    ]
    months, why = infer_support(facts)
    assert months == 3  # 2.13.0 + 2 months is 2026-03-01: EOL on the day it shipped
    assert why.startswith("stable-2.12.9 shipped on 2026-03-01 when two newer lines existed")
    tags = [
        tag("stable-2.12.0", "2025-06-01"),
        tag("stable-2.12.9", "2026-03-01"),
        tag("stable-2.13.0", "2026-01-01"),
        tag("stable-2.14.0", "2026-02-01"),
    ]
    (stable,) = infer(tags, ["main"]).stable_channels()
    assert stable.eol_months == 3
