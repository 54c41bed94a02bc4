"""The persisted release journal: which steps finished, with what results.

One JSON file per in-flight release, rewritten atomically after every step, so a
crashed run resumes at the first unfinished step and a finished step is a no-op.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release.checksums import atomic_write
from release.errors import JournalError

FORMAT = 1


@dataclass
class Journal:
    path: Path
    inputs: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: bool = False

    @classmethod
    def load(cls, path: Path) -> Journal | None:
        """The journal at ``path``, ``None`` if absent. Raises :class:`JournalError` if corrupt."""
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise JournalError(f"cannot read journal {path}: {exc.strerror}") from exc
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise ValueError("unknown journal format")
            return cls(path, dict(data["inputs"]), dict(data["steps"]), bool(data["done"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise JournalError(
                f"journal {path} is corrupt ({exc})",
                hint="inspect it; remove it only if nothing of that release was published",
            ) from exc

    def save(self) -> None:
        payload = {"format": FORMAT, "inputs": self.inputs, "steps": self.steps, "done": self.done}
        atomic_write(self.path, (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode())

    def finished(self, step: str) -> bool:
        return step in self.steps

    def result(self, step: str) -> dict[str, Any]:
        return self.steps[step]

    def record(self, step: str, result: dict[str, Any]) -> None:
        self.steps[step] = result
        self.save()
