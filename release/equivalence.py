"""Equivalence (pure): the ledger's fourth strategy, for squashed or hand-resolved backports.

A backport squashed under a new PR number with a hand-resolved diff has no
``-x`` trailer, a different patch-id and a different PR number in its subject.
What is left to recognise it by:

- the **PR numbers it references** anywhere in its message (``Backport of #11255``,
  a squash body listing ``* fix: thing (#11255)``);
- its **subject** (or a line of its body) saying the same thing as the main commit's,
  once PR numbers, ``[2.13]`` / ``backport:`` markers and the conventional prefix are
  removed; numbers must agree (``bump tokio to 1.3`` is not ``bump tokio to 1.4``);
- the **files** both commits touch.

:func:`score` combines them into a confidence in ``[0, 1]``. A match at or above
:data:`CONFIDENT` is counted like the other strategies; one between :data:`POSSIBLE`
and :data:`CONFIDENT` is shown as a possible match and never counted. A main commit
two line commits match almost equally well (or the reverse) is ambiguous, and a
match without a PR reference on a subject of fewer than three words says too little:
both are demoted below :data:`CONFIDENT`. The goal is zero false matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from release.adapters.git import Commit

CONFIDENT = 0.8
POSSIBLE = 0.55
_AMBIGUOUS_GAP = 0.1
_SPECIFIC_WORDS = 3  # words a subject needs to be matched without a PR reference

_REF_RE = re.compile(r"(?<![\w/])#(\d{1,9})\b")
_PR_SUFFIX_RE = re.compile(r"\s*\(#\d+\)")
_MARKER_RE = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*|(?:backport|cherry[- ]pick(?:ed)?)(?:\s+of)?\s*[:\-]?\s*)+",
    re.IGNORECASE,
)
_PREFIX_RE = re.compile(r"^[A-Za-z][\w-]*(?:\([^()]*\))?!?:\s+")
_BULLET_RE = re.compile(r"^\s*[*\-]\s+")
_DIGITS_RE = re.compile(r"\d+(?:\.\d+)*")


def references(commit: Commit) -> set[int]:
    """Every ``#N`` in the subject and body of ``commit``."""
    return {int(n) for n in _REF_RE.findall(f"{commit.subject}\n{commit.body}")}


@lru_cache(maxsize=1 << 14)
def normalize(subject: str) -> str:
    """A subject without PR numbers, backport markers and conventional prefix, lower case."""
    text = _BULLET_RE.sub("", subject)
    text = _PR_SUFFIX_RE.sub("", text)
    for _ in range(2):  # "[2.13] backport: fix: x" has two layers
        text = _MARKER_RE.sub("", text)
        text = _PREFIX_RE.sub("", text)
    return " ".join(text.lower().split())


def similarity(a: str, b: str) -> float:
    """How alike two normalized subjects are, ``0..1``; ``0.5`` at most when the numbers
    in them differ (version bumps say different things in alike words)."""
    if not a or not b:
        return 0.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    if _DIGITS_RE.findall(a) != _DIGITS_RE.findall(b):
        ratio = min(ratio, 0.5)
    return ratio


def _texts(commit: Commit) -> list[str]:
    """The subject and the bullet lines of the body (a squash lists its commits there)."""
    texts = [normalize(commit.subject)]
    for line in commit.body.splitlines():
        if _BULLET_RE.match(line) and len(line) < 300:
            texts.append(normalize(line))
    return [t for t in texts if t]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Evidence:
    """Why a line commit was matched to a main commit, and how sure that is."""

    confidence: float
    referenced: bool  # the line commit names the main commit's PR
    subject: float
    files: float

    def describe(self) -> str:
        parts = [f"subject {self.subject:.2f}", f"files {self.files:.2f}"]
        if self.referenced:
            parts.insert(0, "references its PR")
        return ", ".join(parts)


def score(
    line: Commit,
    line_files: frozenset[str],
    main: Commit,
    main_files: frozenset[str],
    main_pr: int | None,
) -> Evidence:
    """The evidence that ``line`` carries the change of ``main`` (see the module doc)."""
    referenced = main_pr is not None and main_pr in references(line)
    target = normalize(main.subject)
    subject = max((similarity(t, target) for t in _texts(line)), default=0.0)
    files = _jaccard(line_files, main_files)
    if referenced:
        confidence = 0.5 + 0.25 * subject + 0.25 * files
    else:
        confidence = 0.55 * subject + 0.35 * files
        if len(target.split()) < _SPECIFIC_WORDS:
            # "fix: five" says too little to tell one change from another without a
            # reference: at most a possible match
            confidence = min(confidence, CONFIDENT - 0.01)
    return Evidence(round(confidence, 3), referenced, round(subject, 3), round(files, 3))


@dataclass(frozen=True)
class Match:
    line_commit: str
    main_commit: str
    evidence: Evidence

    @property
    def confident(self) -> bool:
        return self.evidence.confidence >= CONFIDENT


def match_equivalent(
    line_commits: Sequence[Commit],
    main_commits: Sequence[Commit],
    files: Mapping[str, frozenset[str]],
    pr_of: Mapping[str, int | None],
) -> list[Match]:
    """For every main commit: the line commit most likely to carry it, when the
    confidence reaches :data:`POSSIBLE`. A line commit may carry several main commits
    (a squash); a main commit is carried by one line commit at most. Pure.

    Candidates are found through the PR numbers a line commit references and the
    files it touches, so the cost stays near linear in the size of main.
    """
    by_pr: dict[int, list[Commit]] = {}
    by_file: dict[str, list[Commit]] = {}
    for m in main_commits:
        n = pr_of.get(m.sha)
        if n is not None:
            by_pr.setdefault(n, []).append(m)
        for f in files.get(m.sha, frozenset()):
            by_file.setdefault(f, []).append(m)
    scored: dict[str, list[tuple[Evidence, str]]] = {}  # main sha -> [(evidence, line sha)]
    best_of_line: dict[str, list[float]] = {}
    for lc in line_commits:
        lfiles = files.get(lc.sha, frozenset())
        seen: dict[str, Commit] = {}
        for n in references(lc):
            for m in by_pr.get(n, ()):
                seen[m.sha] = m
        for f in lfiles:
            hits = by_file.get(f, ())
            if len(hits) > 200:  # a file every change touches says nothing
                continue
            for m in hits:
                seen[m.sha] = m
        for m in seen.values():
            ev = score(lc, lfiles, m, files.get(m.sha, frozenset()), pr_of.get(m.sha))
            if ev.confidence >= POSSIBLE:
                scored.setdefault(m.sha, []).append((ev, lc.sha))
                best_of_line.setdefault(lc.sha, []).append(ev.confidence)
    out = []
    for main_sha, options in scored.items():
        options.sort(key=lambda o: o[0].confidence, reverse=True)
        ev, line_sha = options[0]
        ambiguous = len(options) > 1 and options[1][0].confidence > ev.confidence - _AMBIGUOUS_GAP
        if not ev.referenced:
            # the same line commit fits other main commits about as well: not one change
            rivals = sorted(best_of_line[line_sha], reverse=True)
            ambiguous |= len(rivals) > 1 and rivals[1] > rivals[0] - _AMBIGUOUS_GAP
        if ambiguous and ev.confidence >= CONFIDENT:
            ev = Evidence(round(CONFIDENT - 0.01, 3), ev.referenced, ev.subject, ev.files)
        out.append(Match(line_sha, main_sha, ev))
    out.sort(key=lambda m: (m.line_commit, -m.evidence.confidence))
    return out


def best_per_line(matches: Iterable[Match]) -> dict[str, list[Match]]:
    """``{line commit: its matches, most confident first}``."""
    grouped: dict[str, list[Match]] = {}
    for m in matches:
        grouped.setdefault(m.line_commit, []).append(m)
    for ms in grouped.values():
        ms.sort(key=lambda m: -m.evidence.confidence)
    return grouped
