"""The ledger on a synthetic history with every backport failure mode, and its cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import synth_backports
from release.adapters.commitcache import CommitCache, cache_path
from release.adapters.git import Git
from release.ledger import line_ledgers


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, synth_backports.Truth]:
    path = tmp_path_factory.mktemp("synth") / "repo"
    truth = synth_backports.build(path, main_commits=900, lines=4, backports=160, seed=3)
    return path, truth


def test_every_failure_mode_is_found_with_zero_false_matches(
    synth: tuple[Path, synth_backports.Truth],
) -> None:
    path, truth = synth
    assert set(truth.kinds.values()) == set(synth_backports.KINDS)
    assert sum(len(d) for d in truth.decoys.values()) > 20
    result = synth_backports.score(path, truth)
    assert result["false_matches"] == 0
    assert float(str(result["found_pct"])) >= 99.5, result


def test_decoys_match_nothing(synth: tuple[Path, synth_backports.Truth]) -> None:
    path, truth = synth
    ledgers = line_ledgers(Git(path), truth.specs(), "main")
    for ledger in ledgers:
        for entry in ledger.entries:
            if entry.commit in truth.decoys[ledger.branch]:
                assert entry.origin is None, entry


def test_patch_ids_and_files_are_computed_once(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    truth = synth_backports.build(path, main_commits=300, lines=2, backports=40, seed=5)
    git = Git(path)
    specs = truth.specs()
    assert not cache_path(git).exists()
    first = CommitCache(git)
    cold = line_ledgers(git, specs, "main", cache=first)
    assert first.computed > 200
    assert cache_path(git).is_file()
    second = CommitCache(git)
    warm = line_ledgers(git, specs, "main", cache=second)
    assert second.computed == 0
    assert warm == cold
    off = CommitCache(git, enabled=False)
    assert line_ledgers(git, specs, "main", cache=off) == cold
    assert off.computed == first.computed


def test_a_torn_cache_line_is_recomputed(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    synth_backports.build(path, main_commits=60, lines=1, backports=5, seed=1)
    git = Git(path)
    ids = CommitCache(git).patch_ids(["main"])
    with cache_path(git).open("a") as fh:
        fh.write("P 12ab")  # a crash mid-write
    again = CommitCache(git)
    assert again.patch_ids(["main"]) == ids
    assert again.computed == 0
