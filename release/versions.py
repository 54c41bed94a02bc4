"""Version model (pure): edge ``YY.M.N`` and stable ``X.Y.Z`` versions, lines, tag formats.

Nothing here reads git, the clock or the environment: callers pass tag names and
dates in, and get values back. Tags that are not releases parse to ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import total_ordering

import semver
from packaging.version import InvalidVersion as _PkgInvalidVersion
from packaging.version import Version as _PkgVersion

from release.errors import InvalidVersion, UsageError

__all__ = [
    "EdgeVersion",
    "Line",
    "StableVersion",
    "TagFormat",
    "next_backport",
    "next_edge",
    "next_line_release",
    "next_minor",
    "next_point",
    "parse_line",
    "pep440",
]


@dataclass(frozen=True, order=True)
class EdgeVersion:
    """``edge-YY.M.N``: year, month (1-12) and the Nth edge release of that month."""

    year: int  # full year, 2000-2099
    month: int
    n: int

    def __post_init__(self) -> None:
        if not 2000 <= self.year <= 2099:
            raise InvalidVersion(f"edge year {self.year} is outside 2000-2099")
        if not 1 <= self.month <= 12:
            raise InvalidVersion(f"edge month {self.month} is not 1-12")
        if self.n < 1:
            raise InvalidVersion(f"edge number {self.n} must be 1 or more")

    @property
    def yy(self) -> int:
        return self.year % 100

    @property
    def line(self) -> Line:
        """Edge lines are months: ``26.11``."""
        return Line(self.yy, self.month)

    @property
    def pep440(self) -> str:
        return f"{self.year}.{self.month}.{self.n}"

    @classmethod
    def parse(cls, text: str) -> EdgeVersion:
        """Parse ``YY.M.N`` (no tag prefix). Raises :class:`InvalidVersion`."""
        m = _EDGE_RE.fullmatch(text)
        if not m:
            raise InvalidVersion(f"{text!r} is not an edge version (YY.M.N, month without zero)")
        return cls(2000 + int(m["yy"]), int(m["m"]), int(m["n"]))

    def __str__(self) -> str:
        return f"{self.yy:02d}.{self.month}.{self.n}"


@total_ordering
@dataclass(frozen=True)
class Line:
    """A release line ``X.Y`` (stable ``2.15``; edge month ``26.11``)."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Line):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)


def parse_line(text: str) -> Line:
    """Parse ``X.Y``. Raises :class:`UsageError` for anything else."""
    m = re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)", text.strip(), re.ASCII)
    if not m:
        raise UsageError(f"{text!r} is not a release line", hint="lines look like 2.15")
    return Line(int(m[1]), int(m[2]))


@total_ordering
@dataclass(frozen=True)
class StableVersion:
    """``X.Y.Z`` without pre-release or build metadata (those never enter stable lines)."""

    major: int
    minor: int
    patch: int

    def __post_init__(self) -> None:
        if min(self.major, self.minor, self.patch) < 0:
            raise InvalidVersion("stable version parts must not be negative")

    @classmethod
    def parse(cls, text: str) -> StableVersion:
        """Parse ``X.Y.Z`` with semver rules. Raises :class:`InvalidVersion`."""
        try:
            v = semver.Version.parse(text)
        except (ValueError, TypeError) as exc:
            raise InvalidVersion(f"{text!r} is not a semantic version X.Y.Z") from exc
        if v.prerelease or v.build:
            raise InvalidVersion(f"{text!r} is a pre-release or build; stable lines take X.Y.Z")
        return cls(v.major, v.minor, v.patch)

    @property
    def line(self) -> Line:
        return Line(self.major, self.minor)

    @property
    def pep440(self) -> str:
        return str(self)

    def bump_patch(self) -> StableVersion:
        return StableVersion(self.major, self.minor, self.patch + 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, StableVersion):
            return NotImplemented
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)


# re.ASCII: \d must not match other scripts' digits (int("٢٦") == 26).
_EDGE_RE = re.compile(r"(?P<yy>\d{2})\.(?P<m>[1-9]|1[0-2])\.(?P<n>[1-9]\d{0,5})", re.ASCII)
_NUM = r"(?:0|[1-9]\d{0,8})"
_PLACEHOLDERS = {
    "yy": r"(?P<yy>\d{2})",
    "m": r"(?P<m>[1-9]|1[0-2])",
    "n": r"(?P<n>[1-9]\d{0,5})",
    "version": rf"(?P<version>{_NUM}\.{_NUM}\.{_NUM})",
    "major": rf"(?P<major>{_NUM})",
    "minor": rf"(?P<minor>{_NUM})",
    "patch": rf"(?P<patch>{_NUM})",
}
_EDGE_KEYS = frozenset({"yy", "m", "n"})
_STABLE_KEYS = (frozenset({"version"}), frozenset({"major", "minor", "patch"}))


@dataclass(frozen=True)
class TagFormat:
    """A tag template such as ``edge-{yy}.{m}.{n}`` or ``stable-{version}``.

    Edge formats use ``{yy}``, ``{m}``, ``{n}``; stable formats use ``{version}`` or
    ``{major}``, ``{minor}``, ``{patch}``. Raises :class:`InvalidVersion` (also a
    ``ValueError``) for any other template.
    """

    template: str

    def __post_init__(self) -> None:
        keys = frozenset(re.findall(r"\{(\w+)\}", self.template))
        if keys != _EDGE_KEYS and keys not in _STABLE_KEYS:
            raise InvalidVersion(
                f"tag format {self.template!r} must use {{yy}}.{{m}}.{{n}} (edge) or "
                "{version} / {major}.{minor}.{patch} (stable)"
            )
        if re.search(r"[\s~^:?*\[\\]", self.template.replace("{", "").replace("}", "")):
            raise InvalidVersion(f"tag format {self.template!r} contains characters git forbids")

    @property
    def kind(self) -> str:
        return "edge" if "{yy}" in self.template else "stable"

    @property
    def _regex(self) -> re.Pattern[str]:
        parts = re.split(r"(\{\w+\})", self.template)
        pattern = "".join(
            _PLACEHOLDERS[p[1:-1]] if p.startswith("{") else re.escape(p) for p in parts
        )
        return re.compile(pattern, re.ASCII)

    def parse(self, tag: str) -> EdgeVersion | StableVersion | None:
        """The version a tag names, or ``None`` when the tag is not of this format."""
        m = self._regex.fullmatch(tag)
        if not m:
            return None
        g = m.groupdict()
        try:
            if self.kind == "edge":
                return EdgeVersion(2000 + int(g["yy"]), int(g["m"]), int(g["n"]))
            if g.get("version"):
                return StableVersion.parse(g["version"])
            return StableVersion(int(g["major"]), int(g["minor"]), int(g["patch"]))
        except InvalidVersion:
            return None

    def format(self, version: EdgeVersion | StableVersion) -> str:
        """The tag of ``version``. Raises :class:`InvalidVersion` on a kind mismatch."""
        if isinstance(version, EdgeVersion):
            if self.kind != "edge":
                raise InvalidVersion(f"{version} is an edge version; {self.template!r} is stable")
            values = {"yy": f"{version.yy:02d}", "m": str(version.month), "n": str(version.n)}
        else:
            if self.kind != "stable":
                raise InvalidVersion(f"{version} is a stable version; {self.template!r} is edge")
            values = {
                "version": str(version),
                "major": str(version.major),
                "minor": str(version.minor),
                "patch": str(version.patch),
            }
        return re.sub(r"\{(\w+)\}", lambda m: values[m[1]], self.template)


def next_edge(existing: Iterable[EdgeVersion], today: date) -> EdgeVersion:
    """The next edge for the UTC date ``today``: N+1 within the month, 1 in a new month.

    Raises :class:`UsageError` when ``today`` lies before the month of the newest edge
    (the result would not be greater than every existing edge).
    """
    versions = list(existing)
    latest = max(versions, default=None)
    year, month = today.year, today.month
    if latest is not None and (year, month) < (latest.year, latest.month):
        raise UsageError(
            f"date {today.isoformat()} is before the newest edge release edge-{latest}",
            hint="edge numbers only move forward; use a date in or after that month",
        )
    same_month = [v.n for v in versions if (v.year, v.month) == (year, month)]
    return EdgeVersion(year, month, max(same_month, default=0) + 1)


def _latest_in_line(existing: Iterable[StableVersion], line: Line) -> StableVersion | None:
    return max((v for v in existing if v.line == line), default=None)


def next_minor(existing: Iterable[StableVersion], first: Line = Line(1, 0)) -> StableVersion:
    """The ``.0`` of a new line after the highest existing line (``first`` if none)."""
    highest = max((v.line for v in existing), default=None)
    if highest is None:
        return StableVersion(first.major, first.minor, 0)
    return StableVersion(highest.major, highest.minor + 1, 0)


def next_point(existing: Iterable[StableVersion], line: Line) -> StableVersion:
    """The next patch release of ``line``. Raises :class:`UsageError` for an unknown line."""
    versions = list(existing)
    latest = _latest_in_line(versions, line)
    if latest is None:
        known = ", ".join(str(ln) for ln in sorted({v.line for v in versions}, reverse=True))
        raise UsageError(
            f"line {line} has no stable release",
            hint=f"known lines: {known}" if known else "cut a line first: release stable cut",
        )
    return latest.bump_patch()


def next_backport(existing: Iterable[StableVersion], line: Line) -> StableVersion:
    """A point release on a line that is not the newest. Raises :class:`UsageError`."""
    versions = list(existing)
    result = next_point(versions, line)
    newest = max(v.line for v in versions)
    if line == newest:
        raise UsageError(
            f"line {line} is the newest line; a release on it is a point release",
            hint=f"use: release stable point {line}",
        )
    return result


def next_line_release(existing: Iterable[StableVersion], line: Line, kind: str) -> StableVersion:
    """The one rule of ``release next point|backport`` and ``release stable
    point|backport``: a ``point`` release is on the newest line, a ``backport`` on an
    older one. Raises :class:`UsageError` (unknown line, or the other kind's line)."""
    versions = list(existing)
    if kind == "backport":
        return next_backport(versions, line)
    result = next_point(versions, line)
    newest = max(v.line for v in versions)
    if line != newest:
        raise UsageError(
            f"line {line} is not the newest line ({newest}); a release on it is a backport",
            hint=f"use: release stable backport {line}",
        )
    return result


def pep440(version: EdgeVersion | StableVersion) -> str:
    """The PEP 440 form for Python artifacts (``edge-26.11.1`` -> ``2026.11.1``), validated."""
    text = version.pep440
    try:
        normalized = str(_PkgVersion(text))
    except _PkgInvalidVersion as exc:  # pragma: no cover - our forms are always valid
        raise InvalidVersion(f"{text!r} is not a valid PEP 440 version") from exc
    if normalized != text:  # pragma: no cover - guards future formats
        raise InvalidVersion(f"{text!r} is not in PEP 440 normal form ({normalized})")
    return text


def parse_date(text: str) -> date:
    """Parse ``YYYY-MM-DD`` for ``--date``. Raises :class:`UsageError`."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{text!r} is not a date", hint="use YYYY-MM-DD, e.g. 2026-11-25"
        ) from None
