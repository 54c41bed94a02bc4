"""Support phases of stable lines (pure): active, maintenance, eol.

The policy comes from ``[support]`` in ``channels/<stable>.toml``: the newest line
is ``active``, the next ``maintained-lines - 1`` lines are in ``maintenance``, older
lines are ``eol``. Explicit dates (``[support.lines."2.15"] released/eol``) win over
the count. Nothing here reads git or the clock: callers pass the lines and ``today``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from release.config import SupportPolicy
from release.history import support_phases  # one implementation for status and releases
from release.versions import Line, StableVersion

ACTIVE = "active"
MAINTENANCE = "maintenance"
EOL = "eol"
PHASES = (ACTIVE, MAINTENANCE, EOL)


def line_phase(
    line: Line,
    all_lines: Iterable[Line],
    policy: SupportPolicy,
    today: date,
    *,
    released: Mapping[Line, date | None] | None = None,
) -> tuple[str, date | None]:
    """The support phase of ``line`` on ``today`` and its EOL date (``None`` when the
    policy gives no date: a count-based policy ends a line when newer lines push it out).

    An explicit ``eol`` date wins: on and after that day the line is ``eol``, before
    it the line is ``active`` when it is the newest line, else ``maintenance``.
    Without a date the line's rank among ``all_lines`` (newest first) decides.
    """
    return support_phases({*all_lines, line}, policy, today, released=released)[line]


@dataclass(frozen=True)
class LineStatus:
    """One stable line as ``release status`` and the channel index show it."""

    line: Line
    latest: StableVersion
    latest_tag: str
    released: date | None  # the day of the line's first release (or the configured date)
    phase: str
    eol: date | None
    branch: str

    def to_dict(self) -> dict[str, object]:
        return {
            "line": str(self.line),
            "latest": str(self.latest),
            "latest_tag": self.latest_tag,
            "released": self.released.isoformat() if self.released else None,
            "phase": self.phase,
            "eol": self.eol.isoformat() if self.eol else None,
            "branch": self.branch,
        }


def line_statuses(
    releases: Sequence[tuple[str, StableVersion, date]],
    policy: SupportPolicy,
    today: date,
    *,
    branch_for: Callable[[Line], str] | None = None,
) -> list[LineStatus]:
    """Every line of a stable channel, newest first, with its latest release and phase.

    ``releases`` are ``(tag, version, tag date)`` of one channel, in any order (a
    backport to an old line may be newer by date than a release of a newer line: the
    latest of a line is its highest version, never the most recent tag).
    ``branch_for`` maps a :class:`Line` to its branch name (``ChannelConfig.branch_for``).
    """
    by_line: dict[Line, list[tuple[str, StableVersion, date]]] = {}
    for tag, version, day in releases:
        by_line.setdefault(version.line, []).append((tag, version, day))
    all_lines = list(by_line)
    first_days = {ln: min(day for _, _, day in entries) for ln, entries in by_line.items()}
    out = []
    for line in sorted(by_line, reverse=True):
        entries = by_line[line]
        tag, latest, _ = max(entries, key=lambda e: e[1])
        explicit = policy.lines.get(str(line))
        released = explicit.released if explicit and explicit.released else first_days[line]
        phase, eol = line_phase(line, all_lines, policy, today, released=first_days)
        branch = branch_for(line) if branch_for else f"{line.major}.{line.minor}.x"
        out.append(LineStatus(line, latest, tag, released, phase, eol, branch))
    return out
