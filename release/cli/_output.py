"""Rendering of results and errors for the CLI (text or ``--json``)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from release.errors import PreflightError, ReleaseError
from release.logging import redact


class Output:
    """Where command handlers send results. Text by default, one JSON document with --json."""

    def __init__(
        self, *, json_mode: bool, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.json_mode = json_mode
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    def result(self, text: str, data: Any = None) -> None:
        """Print the command's result: ``text`` normally, ``data`` as JSON with --json."""
        if self.json_mode:
            json.dump(
                data if data is not None else {"result": text},
                self.stdout,
                indent=2,
                sort_keys=False,
                default=str,
            )
            self.stdout.write("\n")
        else:
            self.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        self.stdout.flush()

    def info(self, text: str) -> None:
        """A progress or status line: stderr in JSON mode so stdout stays one document."""
        stream = self.stderr if self.json_mode else self.stdout
        stream.write(redact(text) + "\n")
        stream.flush()

    def warn(self, text: str) -> None:
        self.stderr.write(f"warning: {redact(text)}\n")
        self.stderr.flush()

    def error(self, err: ReleaseError) -> None:
        if self.json_mode:
            payload: dict[str, Any] = {
                "error": redact(err.message),
                "hint": err.hint,
                "kind": type(err).__name__,
            }
            if isinstance(err, PreflightError):
                payload["problems"] = [redact(p) for p in err.problems]
            json.dump(payload, self.stdout, indent=2)
            self.stdout.write("\n")
            self.stdout.flush()
        if isinstance(err, PreflightError) and len(err.problems) > 1:
            self.stderr.write(f"error: {len(err.problems)} preflight problems:\n")
            for p in err.problems:
                self.stderr.write(f"  - {redact(p)}\n")
        else:
            self.stderr.write(f"error: {redact(err.message)}\n")
        if err.hint:
            self.stderr.write(f"hint: {redact(err.hint)}\n")
        self.stderr.flush()
