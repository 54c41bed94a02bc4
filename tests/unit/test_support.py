"""Support phases (pure): count policy, explicit dates, edge cases."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

import pytest

from release.config import LineSupport, SupportPolicy
from release.support import line_phase, line_statuses
from release.versions import Line, StableVersion

LINES = [Line(2, 12), Line(2, 13), Line(2, 14), Line(2, 15)]
TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("maintained", "line", "phase"),
    [
        (2, Line(2, 15), "active"),
        (2, Line(2, 14), "maintenance"),
        (2, Line(2, 13), "eol"),
        (2, Line(2, 12), "eol"),
        (1, Line(2, 15), "active"),
        (1, Line(2, 14), "eol"),
        (3, Line(2, 13), "maintenance"),
        (10, Line(2, 12), "maintenance"),
    ],
)
def test_count_policy(maintained: int, line: Line, phase: str) -> None:
    assert line_phase(line, LINES, SupportPolicy(maintained), TODAY) == (phase, None)


def test_unlisted_line_is_ranked_with_the_others() -> None:
    # a line not in all_lines (about to be cut) is the newest
    assert line_phase(Line(2, 16), LINES, SupportPolicy(2), TODAY) == ("active", None)
    assert line_phase(Line(2, 15), [*LINES, Line(2, 16)], SupportPolicy(2), TODAY)[0] == (
        "maintenance"
    )


def test_explicit_dates_win_over_the_count() -> None:
    policy = SupportPolicy(
        1,
        MappingProxyType(
            {
                "2.13": LineSupport(date(2025, 1, 1), date(2027, 1, 1)),
                "2.15": LineSupport(date(2026, 2, 1), date(2026, 11, 25)),
            }
        ),
    )
    # 2.13 would be EOL by count (1 maintained line) but its date says supported
    assert line_phase(Line(2, 13), LINES, policy, TODAY) == ("maintenance", date(2027, 1, 1))
    # EOL on the day itself
    assert line_phase(Line(2, 15), LINES, policy, TODAY) == ("eol", date(2026, 11, 25))
    assert line_phase(Line(2, 15), LINES, policy, date(2026, 11, 24)) == (
        "active",
        date(2026, 11, 25),
    )
    assert line_phase(Line(2, 13), LINES, policy, date(2027, 1, 1)) == ("eol", date(2027, 1, 1))


def test_line_statuses_latest_is_the_highest_version_not_the_newest_tag() -> None:
    v = StableVersion.parse
    releases = [
        ("stable-2.14.0", v("2.14.0"), date(2026, 1, 1)),
        ("stable-2.15.0", v("2.15.0"), date(2026, 3, 1)),
        ("stable-2.14.10", v("2.14.10"), date(2026, 4, 1)),  # backport, newest by date
        ("stable-2.14.9", v("2.14.9"), date(2026, 2, 1)),
        ("stable-2.15.1", v("2.15.1"), date(2026, 3, 15)),
    ]
    rows = line_statuses(releases, SupportPolicy(1), TODAY)
    assert [(str(r.line), r.latest_tag, r.phase) for r in rows] == [
        ("2.15", "stable-2.15.1", "active"),
        ("2.14", "stable-2.14.10", "eol"),
    ]
    assert rows[1].released == date(2026, 1, 1)
    assert rows[0].to_dict()["branch"] == "2.15.x"


def test_status_and_index_share_one_support_rule() -> None:
    from datetime import date

    from release.channel.model import compute_support
    from release.config import LineSupport, SupportPolicy
    from release.history import support_phases
    from release.versions import Line

    released = {
        Line(2, 12): date(2024, 6, 1),
        Line(2, 13): date(2025, 1, 1),
        Line(2, 14): date(2025, 6, 1),
        Line(2, 15): date(2026, 1, 1),
    }
    policy = SupportPolicy(2, {"2.12": LineSupport(eol=date(2027, 1, 1))})
    today = date(2026, 11, 25)
    phases = support_phases(released, policy, today, released=released)
    assert phases[Line(2, 15)] == ("active", None)
    assert phases[Line(2, 14)] == ("maintenance", None)
    # Pushed out by the count on the day 2.15 shipped: the EOL date says so.
    assert phases[Line(2, 13)] == ("eol", date(2026, 1, 1))
    # An explicit EOL date wins over the count: 2.12 is still supported until then.
    assert phases[Line(2, 12)] == ("maintenance", date(2027, 1, 1))
    index = compute_support("stable", {str(k): v for k, v in released.items()}, policy, today)
    assert {ln: (index[str(ln)].phase, index[str(ln)].eol) for ln in released} == phases
