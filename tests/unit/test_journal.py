from __future__ import annotations

from pathlib import Path

import pytest

from release.errors import JournalError
from release.journal import Journal


def test_journal_round_trip_and_resume_points(tmp_path: Path) -> None:
    path = tmp_path / "j" / "journal.json"
    j = Journal(path, {"plan": {"tag": "edge-26.11.1"}})
    j.save()
    j.record("prepare", {"release_commit": "abc"})
    loaded = Journal.load(path)
    assert loaded is not None
    assert loaded.inputs == {"plan": {"tag": "edge-26.11.1"}}
    assert loaded.finished("prepare")
    assert not loaded.finished("build")
    assert loaded.result("prepare") == {"release_commit": "abc"}
    assert not loaded.done


def test_missing_journal_is_none_and_corrupt_is_refused(tmp_path: Path) -> None:
    assert Journal.load(tmp_path / "none.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(JournalError, match="corrupt"):
        Journal.load(bad)
    bad.write_text('{"format": 99, "inputs": {}, "steps": {}, "done": false}')
    with pytest.raises(JournalError, match="corrupt"):
        Journal.load(bad)
