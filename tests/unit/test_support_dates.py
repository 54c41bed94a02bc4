"""Support phases by dates: "maintenance from the next line's .0, EOL N months later"."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from release.config import LineSupport, SupportPolicy
from release.history import add_months, line_support, phase_on
from release.versions import Line

RELEASED = {
    Line(2, 12): date(2022, 1, 10),
    Line(2, 13): date(2022, 6, 1),
    Line(2, 14): date(2023, 1, 31),
}


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2022, 6, 1), 12) == date(2023, 6, 1)
    assert add_months(date(2022, 11, 15), 3) == date(2023, 2, 15)


def test_the_date_rule_keeps_an_old_line_maintained_until_its_months_are_over() -> None:
    rule = SupportPolicy(maintained_lines=2, eol_months=12)
    table = line_support(RELEASED, rule, date(2023, 3, 1))
    assert table[Line(2, 14)] == ("active", date(2023, 1, 31), None)
    assert table[Line(2, 13)] == ("maintenance", date(2022, 6, 1), date(2024, 1, 31))
    # the count rule would call 2.12 EOL since 2.14.0; by dates it has until June
    assert table[Line(2, 12)] == ("maintenance", date(2022, 1, 10), date(2023, 6, 1))
    count = line_support(RELEASED, SupportPolicy(maintained_lines=2), date(2023, 3, 1))
    assert count[Line(2, 12)][0] == "eol"
    later = line_support(RELEASED, rule, date(2023, 6, 1))
    assert later[Line(2, 12)][0] == "eol"
    assert later[Line(2, 13)][0] == "maintenance"


def test_explicit_dates_win_over_the_rule() -> None:
    rule = SupportPolicy(
        eol_months=12, lines=MappingProxyType({"2.13": LineSupport(eol=date(2023, 2, 1))})
    )
    table = line_support(RELEASED, rule, date(2023, 3, 1))
    assert table[Line(2, 13)] == ("eol", date(2022, 6, 1), date(2023, 2, 1))


def test_a_recorded_phase_read_on_a_later_day() -> None:
    assert phase_on("maintenance", date(2023, 6, 1), date(2023, 5, 31)) == "maintenance"
    assert phase_on("maintenance", date(2023, 6, 1), date(2023, 6, 1)) == "eol"
    assert phase_on("active", None, date(2099, 1, 1)) == "active"
