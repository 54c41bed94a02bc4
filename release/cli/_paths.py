"""Checks of the directories a command writes to, before it writes anything."""

from __future__ import annotations

import os
from pathlib import Path

from release.errors import UsageError


def output_dir(value: str | Path, option: str) -> Path:
    """``value`` of ``option`` as an absolute directory path that may be created.

    Raises :class:`UsageError` for an empty value (``--out ""`` would otherwise mean
    the current directory) or a path that exists and is not a directory.
    """
    text = os.fspath(value)
    if not str(text).strip():
        raise UsageError(
            f"{option} is empty", hint=f"pass {option} DIR (a directory to create or reuse)"
        )
    path = Path(text).resolve()
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is" if probe == path else "is under"
        raise UsageError(
            f"{option} {path} {what} an existing file, not a directory",
            hint=f"choose a directory for {option}",
        )
    return path
