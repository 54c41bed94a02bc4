"""Client state: canonical sources, the remembered answers and when they are not used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from release.channel.fetch import DirectoryFetcher
from release.channel.tuf.state import ClientState, answer_key, canonical_source, fast_answer
from release.errors import UsageError
from tests.helpers.tufstore import TufWorld


@pytest.fixture
def world(tmp_path: Path) -> TufWorld:
    return TufWorld(tmp_path)


def test_canonical_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert canonical_source("HTTPS://Example.ORG:443//chan") == "https://example.org/chan/"
    assert canonical_source("https://example.org:8443/a/b/") == "https://example.org:8443/a/b/"
    assert canonical_source("http://127.0.0.1:80/x") == "http://127.0.0.1/x/"
    with pytest.raises(UsageError, match=r"credentials"):
        canonical_source("https://u:p@example.org/")
    (tmp_path / "a" / "dist").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a")
    assert canonical_source("dist") == canonical_source(str(tmp_path / "a" / "dist"))
    assert canonical_source("./dist/") == str((tmp_path / "a" / "dist").resolve())
    # Two unrelated dist/ directories never share state.
    (tmp_path / "b" / "dist").mkdir(parents=True)
    one = ClientState(tmp_path / "s", canonical_source("dist"))
    monkeypatch.chdir(tmp_path / "b")
    two = ClientState(tmp_path / "s", canonical_source("dist"))
    assert one.path != two.path


def _remembered(world: TufWorld) -> tuple[ClientState, str]:
    c = world.client()
    key = answer_key("latest", "stable", None)
    c.remember(key, {"version": c.latest("stable")})
    assert c.save()
    return c.state, key


def test_the_remembered_answer_only_while_nothing_changed(world: TufWorld) -> None:
    state, key = _remembered(world)
    fetcher = DirectoryFetcher(world.root)
    now = datetime.now(UTC)
    fresh = ClientState(world.state_dir, state.canonical)
    assert fast_answer(fresh, fetcher, key, now, None) == {"version": "2.15.1"}
    assert fast_answer(fresh, fetcher, "other", now, None) is None
    assert fast_answer(fresh, fetcher, key, now, "0" * 64) is None  # another anchor
    assert fast_answer(fresh, fetcher, key, now + timedelta(days=3), None) is None  # expired
    world.repo.rotate()  # a newer root: the full workflow has to walk to it
    assert fast_answer(fresh, fetcher, key, now, None) is None


def test_a_new_timestamp_invalidates_the_answers(world: TufWorld) -> None:
    state, key = _remembered(world)
    world.repo.publish()
    fresh = ClientState(world.state_dir, state.canonical)
    assert fast_answer(fresh, DirectoryFetcher(world.root), key, datetime.now(UTC), None) is None
    c = world.client()
    assert c.latest("stable") == "2.15.1"
    assert c.save()
    assert ClientState(world.state_dir, state.canonical).load()["answers"] == {}
