"""The persisted release journal: which steps finished, with what results.

One JSON file per in-flight release, rewritten atomically after every step, so a
crashed run resumes at the first unfinished step and a finished step is a no-op.

A journal is checked against its schema when it is read. A corrupt one is never
trusted and never silently reset: it is renamed aside (``journal.corrupt-N.json``)
and the run stops with an error saying so (see ``docs/failures.md``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release.errors import JournalError
from release.files import write_atomic

FORMAT = 1

# The shape of each step's recorded result: the keys later steps read, with their types.
STEP_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "prepare": {"release_commit": str},
    "build": {"artifacts": list},
    "checksums": {"digests": list},
    "sign": {"bundles": dict},
    "tag": {"tag": str, "commit": str},
    "publish": {},
    "push": {"pushed": list},
    "github": {},
}


class CorruptJournal(JournalError):
    """A journal failed its schema; it was renamed aside (``moved_to``) unless a dry run."""

    def __init__(self, path: Path, reason: str, moved_to: Path | None) -> None:
        where = f"; moved aside to {moved_to.name}" if moved_to else ""
        super().__init__(
            f"release journal {path} is corrupt ({reason}){where}",
            hint="nothing in it was trusted; check `git tag` and the channel for a half-done "
            "release of its tag, then run again (docs/failures.md#corrupt-journal)",
        )
        self.path = path
        self.moved_to = moved_to


def check_schema(data: object, check_plan: Callable[[dict[str, Any]], object] | None) -> None:
    """Raise ``ValueError`` naming the first thing wrong with a journal document."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown journal format {data.get('format')!r}")
    for key, kind in (("inputs", dict), ("steps", dict), ("done", bool)):
        if key not in data:
            raise ValueError(f"missing key {key!r}")
        if not isinstance(data[key], kind):
            raise ValueError(f"{key!r} must be {kind.__name__}, got {type(data[key]).__name__}")
    for step, result in data["steps"].items():
        if step not in STEP_SCHEMA:
            raise ValueError(f"unknown step {step!r}")
        if not isinstance(result, dict):
            raise ValueError(f"step {step!r} must be an object")
        for key, expected in STEP_SCHEMA[step].items():
            if not isinstance(result.get(key), expected):
                raise ValueError(f"step {step!r}: {key!r} is missing or of the wrong type")
    if check_plan is not None:
        plan = data["inputs"].get("plan")
        if not isinstance(plan, dict):
            raise ValueError("inputs.plan is missing")
        try:
            check_plan(plan)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"inputs.plan is invalid: {type(exc).__name__} {exc}") from exc


def set_aside(path: Path) -> Path:
    """Rename ``path`` to the first free ``<stem>.corrupt-N<suffix>``; the new path."""
    n = 1
    while True:
        target = path.with_name(f"{path.stem}.corrupt-{n}{path.suffix}")
        if not target.exists():
            os.replace(path, target)
            return target
        n += 1


@dataclass
class Journal:
    path: Path
    inputs: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: bool = False

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        check_plan: Callable[[dict[str, Any]], object] | None = None,
        move_aside: bool = False,
    ) -> Journal | None:
        """The journal at ``path``, ``None`` if absent.

        Raises :class:`CorruptJournal` if it fails the schema (``check_plan`` also
        validates the recorded plan); with ``move_aside`` it is renamed aside first.
        Raises :class:`JournalError` if it cannot be read.
        """
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise JournalError(
                f"cannot read journal {path}: {exc.strerror}",
                hint="check the permissions of the output directory",
            ) from exc
        try:
            data = json.loads(raw)
            check_schema(data, check_plan)
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError included
            moved = None
            if move_aside:
                try:
                    moved = set_aside(path)
                except OSError:
                    moved = None
            raise CorruptJournal(path, str(exc), moved) from None
        return cls(path, dict(data["inputs"]), dict(data["steps"]), bool(data["done"]))

    def to_bytes(self) -> bytes:
        payload = {"format": FORMAT, "inputs": self.inputs, "steps": self.steps, "done": self.done}
        return (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode()

    def save(self) -> None:
        write_atomic(self.path, self.to_bytes())

    def finished(self, step: str) -> bool:
        return step in self.steps

    def result(self, step: str) -> dict[str, Any]:
        return self.steps[step]

    def record(self, step: str, result: Mapping[str, Any]) -> None:
        self.steps[step] = dict(result)
        self.save()
