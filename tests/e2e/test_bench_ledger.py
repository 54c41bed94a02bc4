"""The ledger benchmark's synthetic history: every backport matched by patch-id."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_ledger import build
from release.adapters.git import Git
from release.ledger import PATCH_ID, line_ledger


def test_synthetic_backports_match_by_patch_id(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    build(repo, commits=200, backports=30)
    ledger = line_ledger(Git(repo), "2.1", "2.1.x", "main")
    assert len(ledger.entries) == 30
    assert all(e.origin is not None and e.origin.how == PATCH_ID for e in ledger.entries)
    subjects = {e.subject for e in ledger.entries}
    assert len(subjects) == 30
