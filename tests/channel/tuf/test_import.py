"""`release channel import`: a signed TUF channel store backfilled from a Linkerd-shaped
history (stray tag left out, notes grouped, source commits recorded, no artifacts),
refused over existing releases without --merge, --merge idempotent, and the result
verified by the stock TUF updater and by `release channel verify`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from release import cli
from tests.helpers.linkerd import (
    DEC_EDGES,
    EDGES,
    STABLE_213,
    STABLE_214,
    STRAY_EDGE,
    LinkerdHistory,
    add_stray_edge,
    build_linkerd_history,
)
from tests.helpers.tufcheck import TufReader


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> LinkerdHistory:
    h = build_linkerd_history(tmp_path_factory.mktemp("linkerd"))
    add_stray_edge(h)
    return h


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _import(h: LinkerdHistory, store: Path, *extra: str) -> list[str]:
    return ["--repo", str(h.path), "channel", "import", "--store", str(store), "--sign", "dev",
            *extra]  # fmt: skip


def test_import_builds_a_verified_channel_from_the_tags(
    history: LinkerdHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    code, out, err = run(capsys, *_import(history, store))
    assert code == 0, err
    assert f"edge: {len(EDGES)} release(s) added" in out
    assert f"stable: {len(STABLE_213) + len(STABLE_214)} release(s) added" in out
    assert f"left out: {STRAY_EDGE}" in out

    reader = TufReader(store)
    assert reader.channels() == ["edge", "stable"]
    assert reader.latest("edge") == "26.1.2"
    assert reader.latest("stable") == "2.14.1"
    cuts = {r.tag: r for r in reader.line("stable", "2.13").releases}
    assert cuts["stable-2.13.0"].from_edge == "edge-25.12.2"  # the cut, as the pipeline records
    assert "cut from edge-25.12.2" in (cuts["stable-2.13.0"].notes or "")
    assert cuts["stable-2.13.1"].from_edge is None
    stable = reader.channel("stable")
    assert {ln.line: ln.latest for ln in stable.lines} == {"2.13": "2.13.7", "2.14": "2.14.1"}
    dec = reader.line("edge", "25.12")
    assert [r.tag for r in dec.releases] == list(DEC_EDGES)  # the stray tag is not there
    for r in dec.releases:
        assert r.source.commit == history.sha[r.tag]
        assert r.source.ref == f"refs/tags/{r.tag}"
        assert r.artifacts == ()
        assert r.notes is not None
        assert r.notes.startswith(f"## [{r.tag}]")
    jan = {r.tag: r for r in reader.line("edge", "26.1").releases}
    # the notes of edge-26.1.1 start at edge-25.12.8, not at the stray tag
    notes = jan["edge-26.1.1"].notes or ""
    assert "year rollover fix" in notes
    assert "change 8 for december" not in notes
    assert "### " in (reader.line("edge", "25.12").releases[0].notes or "")  # grouped

    code, out, err = run(
        capsys, "channel", "verify", "--source", str(store), "--root",
        str(store / "metadata" / "1.root.json"), "--channel", "stable",
    )  # fmt: skip
    assert code == 0, err + out


def test_import_refuses_a_store_with_releases_and_merges_only_the_missing(
    history: LinkerdHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    # A store that has the first 2.13 releases only (as if imported long ago).
    newest = [*STABLE_213[3:], *STABLE_214, *EDGES]
    objects = {t: history.repo.git("rev-parse", f"refs/tags/{t}").strip() for t in newest}
    for tag in newest:
        history.repo.git("tag", "-d", tag)
    try:
        code, out, err = run(capsys, *_import(history, store, "--channel", "stable"))
        assert code == 0, err
        assert "stable: 3 release(s) added" in out
    finally:
        for tag, obj in objects.items():  # the same tag objects, back in place
            history.repo.git("update-ref", f"refs/tags/{tag}", obj)
    before = sorted(p.relative_to(store).as_posix() for p in store.rglob("*"))

    code, out, err = run(capsys, *_import(history, store))
    assert code != 0
    assert err.startswith("error: ")
    assert "already has releases (stable: 3)" in err
    assert "--merge" in err
    assert sorted(p.relative_to(store).as_posix() for p in store.rglob("*")) == before

    code, out, err = run(capsys, *_import(history, store, "--merge"))
    assert code == 0, err
    assert "stable: 7 release(s) added, 3 already present" in out
    assert f"edge: {len(EDGES)} release(s) added" in out
    reader = TufReader(store)
    assert reader.latest("stable") == "2.14.1"
    assert [r.tag for r in reader.line("stable", "2.13").releases] == list(STABLE_213)
    ts = json.loads((store / "metadata" / "timestamp.json").read_text())["signed"]["version"]

    code, out, err = run(capsys, *_import(history, store, "--merge"))
    assert code == 0, err
    assert "stable: 0 release(s) added, 10 already present" in out
    assert (
        json.loads((store / "metadata" / "timestamp.json").read_text())["signed"]["version"] == ts
    )


def test_import_honours_ignore_tags(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = build_linkerd_history(tmp_path_factory.mktemp("ignore"))
    (h.path / "release.toml").write_text('[history]\nignore-tags = ["edge-26.1.2"]\n')
    store = tmp_path / "store"
    code, out, err = run(capsys, *_import(h, store, "--channel", "edge"))
    assert code == 0, err
    assert "left out: edge-26.1.2 (listed in [history] ignore-tags)" in out
    assert TufReader(store).latest("edge") == "26.1.1"


def test_import_into_an_empty_history_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers.gitrepo import make_repo

    repo = make_repo(tmp_path / "repo")
    repo.commit("Initial import")
    store = tmp_path / "store"
    code, _, err = run(
        capsys, "--repo", str(repo.path), "channel", "import", "--store", str(store),
        "--sign", "dev",
    )  # fmt: skip
    assert code != 0
    assert "error: no release tags" in err
    assert not store.exists()


def test_import_records_the_assets_of_github_releases(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.helpers.github_server import GitHubStandIn
    from tests.helpers.sigstore import STABLE_DEV, sign_blobs

    h = build_linkerd_history(tmp_path_factory.mktemp("github"))
    (h.path / "release.toml").write_text('repository = "https://github.com/acme/widget"\n')
    store = tmp_path / "store"
    cli_bin = b"\x7fELF" + bytes(range(256)) * 300  # streamed in several chunks
    state = tmp_path / "dev-state"  # the dev instance that signed the assets, and signs here
    signed = sign_blobs(state, STABLE_DEV, {"linkerd2-cli-stable-2.14.1-linux-amd64": cli_bin})
    bundle = signed["linkerd2-cli-stable-2.14.1-linux-amd64.sigstore.json"]
    with GitHubStandIn("tok-import") as gh:
        gh.add_release(
            "stable-2.14.1",
            draft=False,
            assets={
                "linkerd2-cli-stable-2.14.1-linux-amd64": cli_bin,
                "linkerd2-cli-stable-2.14.1-linux-amd64.sigstore.json": bundle,
                "linkerd2-cli-stable-2.14.1-darwin": b"darwin build",
            },
        )
        gh.add_release("stable-2.14.0", draft=False)  # a release without assets
        gh.add_release("stable-2.13.7", draft=True, assets={"draft-only": b"never"})
        monkeypatch.setenv("GITHUB_TOKEN", "tok-import")
        monkeypatch.setenv("GITHUB_API_URL", gh.base_url)
        code, out, err = run(
            capsys, *_import(h, store, "--channel", "stable", "--dev-state", str(state))
        )
        downloads = [e for e in gh.events if e[0] == "download"]
    assert code == 0, err
    assert "tok-import" not in out + err
    assert len(downloads) == 3  # the draft's asset is not fetched

    reader = TufReader(store)
    rel = {r.tag: r for r in reader.line("stable", "2.14").releases}
    art = rel["stable-2.14.1"].artifacts
    assert [a.name for a in art] == ["linkerd2-cli-stable-2.14.1-linux-amd64"]
    assert reader.read(art[0].path) == cli_bin
    assert reader.read(art[0].sigstore_bundle.path) == bundle  # the original bundle, kept
    sums_ref = rel["stable-2.14.1"].checksums
    assert sums_ref is not None
    sums = reader.read(sums_ref.path).decode()
    darwin = hashlib.sha256(b"darwin build").hexdigest()
    assert f"{darwin}  linkerd2-cli-stable-2.14.1-darwin" in sums
    assert rel["stable-2.14.0"].artifacts == ()
    assert rel["stable-2.14.0"].checksums is None
    assert not (store / "releases" / "stable-2.13.7").exists()
    assert not list(store.rglob("*.download"))
    assert not list(tmp_path.glob(".store.import-*"))  # the staging directory is gone


def test_import_at_linkerds_size_gets_every_lines_latest_right(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """371 edges and 56 stable releases in 15 lines (the benchmark's synthetic history)."""
    from benchmarks.bench_import import build_linkerd_sized, check_store, expected_latest

    repo = tmp_path / "linkerd2"
    build_linkerd_sized(repo)
    store = tmp_path / "store"
    code, out, err = run(
        capsys, "--repo", str(repo), "channel", "import", "--store", str(store), "--sign", "dev"
    )
    assert code == 0, err
    assert "edge: 371 release(s) added" in out
    assert "stable: 56 release(s) added" in out
    expected = expected_latest(repo)
    assert len([k for k in expected if k[0] == "stable"]) == 15
    assert check_store(store, expected) == 427
    reader = TufReader(store)
    assert reader.latest("stable") == max(
        (v for (ch, _), v in expected.items() if ch == "stable"),
        key=lambda v: tuple(map(int, v.split("."))),
    )


def test_import_never_replaces_a_file_already_in_the_store(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Someone planted releases/<tag>/<asset> before the import: it is not overwritten,
    not recorded, and no metadata is written."""
    from tests.helpers.github_server import GitHubStandIn

    h = build_linkerd_history(tmp_path_factory.mktemp("planted"))
    (h.path / "release.toml").write_text('repository = "https://github.com/acme/widget"\n')
    store = tmp_path / "store"
    planted = store / "releases" / "stable-2.14.1" / "linkerd2-cli"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"evil")
    with GitHubStandIn("tok-import") as gh:
        gh.add_release("stable-2.14.1", draft=False, assets={"linkerd2-cli": b"the real cli"})
        monkeypatch.setenv("GITHUB_TOKEN", "tok-import")
        monkeypatch.setenv("GITHUB_API_URL", gh.base_url)
        code, _, err = run(capsys, *_import(h, store, "--channel", "stable"))
    assert code != 0
    assert err.startswith("error: ")
    assert "already exists with different content" in err
    assert planted.read_bytes() == b"evil"
    assert not (store / "metadata").exists()
    assert not list(store.rglob("*.download"))
    assert not list(tmp_path.glob(".store.import-*"))  # the staging directory is gone


def test_import_refuses_a_schema_1_store(
    history: LinkerdHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "index.json").write_text('{"schema_version": "1.0"}')
    code, _, err = run(capsys, *_import(history, store))
    assert code != 0
    assert "is a schema 1 channel store" in err
    assert "release channel migrate" in err
    assert sorted(p.name for p in store.iterdir()) == ["index.json"]
