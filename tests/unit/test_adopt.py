"""Inferring channels from tags and branches (pure): calendar vs semantic series,
branch formats, vendor channels, tags that are not releases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from release.adapters.git import TagInfo
from release.adopt import defaults_inference, infer, infer_branch_format
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
