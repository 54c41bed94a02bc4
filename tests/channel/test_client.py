"""Every attack and fault of the channel-index note, refused by the client."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from release.channel import model
from release.channel.client import Anchor, ChannelClient, Limits, StateFile, load_anchors
from release.channel.fetch import DirectoryFetcher, FetchError, HttpFetcher, check_url, read_capped
from release.channel.store import ChannelStore
from release.config import Identity
from release.errors import ReleaseError, UsageError, VerificationError
from tests.channel.forge import forge, forge_index, read_index, read_pinned
from tests.helpers.channelkit import (
    EDGE,
    EDGE_ID,
    NOW,
    PROJECT,
    STABLE,
    STABLE_ID,
    KeyRoot,
    KeySigner,
    make_release,
    publish,
    serve_directory,
)


class World:
    """A published store with edge and stable channels, and a client factory."""

    def __init__(self, tmp_path: Path) -> None:
        self.keys = KeyRoot()
        self.root = tmp_path / "store"
        self.store = ChannelStore(self.root, durable=False)
        self.state_dir = tmp_path / "state"
        self.edge = self.keys.signer(EDGE_ID)
        self.stable = self.keys.signer(STABLE_ID)
        t = NOW - timedelta(days=10)
        for i, v in enumerate(["2.13.0", "2.14.0", "2.14.1", "2.15.0", "2.15.1"]):
            publish(
                self.store,
                STABLE,
                v,
                self.stable,
                now=t + timedelta(hours=i),
                platforms=(("linux", "amd64"), ("darwin", "arm64")),
            )
        publish(self.store, EDGE, "26.11.1", self.edge, now=t + timedelta(days=1))

    def client(
        self, *, now: datetime = NOW, verify: bool = True, state: bool = True, **kwargs: Any
    ) -> ChannelClient:
        return ChannelClient(
            DirectoryFetcher(self.root),
            now=now,
            verifier=self.keys.verifier() if verify else None,
            state=StateFile(self.state_dir, str(self.root)) if state else None,
            **kwargs,
        )

    def seen(self) -> ChannelClient:
        """A client run that verified everything and saved its state."""
        c = self.client()
        c.verify_all()
        assert c.save_state()
        return c


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def refused(world: World, match: str, **kwargs: Any) -> VerificationError:
    c = world.client(**kwargs)
    with pytest.raises(VerificationError, match=match) as info:
        c.verify_all()
    return info.value


def test_happy_path_answers_and_state(world: World) -> None:
    c = world.client()
    assert c.latest("stable") == "2.15.1"
    assert c.latest("stable", "2.14") == "2.14.1"
    assert c.latest("edge") == "26.11.1"
    assert c.verify_all() == {"channels": 2, "lines": 4, "releases": 6}
    assert c.save_state()
    state = StateFile(world.state_dir, str(world.root)).load()
    assert state["index_version"] == 6
    assert state["channels"]["stable"]["lines"] == {
        "2.13": "2.13.0",
        "2.14": "2.14.1",
        "2.15": "2.15.1",
    }
    assert state["signers"]["stable"]["identity"] == STABLE_ID.identity
    unverified = world.client(verify=False)
    assert unverified.latest("stable") == "2.15.1"
    assert not unverified.save_state()  # unverified runs never write state


def test_rollback_to_an_older_signed_index(world: World) -> None:
    world.seen()
    old = (world.root / "index/v5.json").read_bytes()
    (world.root / "index.json").write_bytes(old)  # a genuine, signed, older index
    world.client(state=False).verify_all()  # without state it looks fine...
    refused(world, r"index version 5 is older than version 6 seen before \(rollback\)")
    refused(world, r"rollback", verify=False)  # the fast path reads state too


def test_same_version_with_different_bytes(world: World) -> None:
    world.seen()
    forge_index(world.root, world.stable, index_mut=lambda d: d.update(extra="x"), bump=0)
    refused(world, r"index version 6 has different bytes than the version seen before")


def test_expired_index_is_a_freeze(world: World) -> None:
    refused(world, r"expired at .* \(freeze\)", now=NOW + timedelta(days=30))


def test_index_generated_in_the_future(world: World) -> None:
    refused(world, r"generated at .*, in the future", now=NOW - timedelta(days=11))


def test_channel_document_not_matching_its_pin(world: World) -> None:
    index = read_index(world.root)
    pin = index["channels"]["stable"]["document"]
    older = world.root / f"channels/stable/v{pin['version'] - 1}.json"
    shutil.copy(older, world.root / pin["path"])  # a genuine, signed, other document
    refused(
        world,
        r"channel document channels/stable/v\d+.json has sha256 .*, its pin says .* "
        r"\(mix-and-match\)",
    )


def test_line_document_not_matching_its_pin(world: World) -> None:
    cdoc = read_pinned(world.root, read_index(world.root)["channels"]["stable"]["document"])
    pin = next(e["document"] for e in cdoc["lines"] if e["line"] == "2.15")
    shutil.copy(world.root / "channels/stable/lines/2.15/v1.json", world.root / pin["path"])
    with pytest.raises(VerificationError, match=r"line document .* its pin says"):
        world.client().latest("stable")


def test_channel_document_version_going_down(world: World) -> None:
    world.seen()
    index = read_index(world.root)
    old_pin = dict(
        index["channels"]["stable"]["document"], version=1, path="channels/stable/v1.json"
    )
    old = read_pinned(world.root, old_pin)
    data = (world.root / old_pin["path"]).read_bytes()
    import hashlib

    old_pin.update(length=len(data), sha256=hashlib.sha256(data).hexdigest())

    def point_back(d: dict[str, Any]) -> None:
        e = d["channels"]["stable"]
        e.update(
            document=old_pin,
            latest=old["latest"],
            lines={
                x["line"]: {k: x[k] for k in ("latest", "support", "document")}
                for x in old["lines"]
            },
        )
        d.update(published_by="edge", signer=EDGE.expected_signer(False).__dict__)

    # the (legitimate) edge publisher tries to roll the stable channel back
    forge_index(world.root, world.edge, index_mut=point_back)
    refused(world, r"channel stable document version 1 is older than version \d+ seen before")


def test_oversized_index_document_and_artifact(world: World, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"index index.json is larger than 1000 bytes"):
        world.client(limits=Limits(index=1000)).index()
    with pytest.raises(VerificationError, match=r"over the 100-byte limit"):
        world.client(limits=Limits(channel=100)).channel("stable")
    with pytest.raises(VerificationError, match=r"line document .* is over the size limit"):
        world.client(limits=Limits(line=100)).latest("stable")
    endless = world.root / "releases/stable-2.15.1/demo-stable-2.15.1-linux-amd64.tar.gz"
    endless.write_bytes(endless.read_bytes() * 50)
    with pytest.raises(FetchError, match=r"larger than its recorded \d+ bytes"):
        world.client().download("stable", "2.15.1", tmp_path / "dl", os_name="linux")
    assert not (tmp_path / "dl" / endless.name).exists()
    assert list((tmp_path / "dl").iterdir()) == []


def test_declared_latest_wrong_or_withdrawn(world: World) -> None:
    def lie(d: dict[str, Any]) -> None:
        d["channels"]["stable"]["latest"] = "2.14.1"

    forge_index(world.root, world.stable, index_mut=lie)
    refused(world, r"channels.stable: latest 2.14.1 is lower than line latest 2.15.1")
    forge_index(
        world.root,
        world.stable,
        index_mut=lambda d: d["channels"]["stable"].update(latest="2.15.9"),
    )
    refused(world, r"index says latest 2.15.9, its document says 2.15.1")


def test_line_latest_pointing_to_a_withdrawn_release(world: World) -> None:
    def withdraw_but_keep_latest(ld: dict[str, Any]) -> None:
        r = ld["releases"][-1]
        r.update(
            status="withdrawn",
            withdrawal={"reason": "x", "withdrawn_at": "2026-11-20T00:00:00Z", "replacement": None},
        )

    forge(world.root, world.stable, "stable", line="2.15", line_mut=withdraw_but_keep_latest)
    refused(world, r"declared latest '2.15.1' is not the highest active release '2.15.0'")


def test_regression_without_withdrawal_then_with(world: World, tmp_path: Path) -> None:
    world.seen()
    v1 = world.root / "channels/stable/lines/2.15/v1.json"  # only 2.15.0
    import hashlib

    data = v1.read_bytes()
    pin = {
        "path": "channels/stable/lines/2.15/v1.json",
        "version": 1,
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    saved = {p: p.read_bytes() for p in (world.root / "index.json",)}
    forge(world.root, world.stable, "stable", line="2.15", line_pin=pin)
    refused(
        world,
        r"line 2.15 of stable: latest went from 2.15.1 down to 2.15.0 without a "
        r"withdrawal record",
    )
    for p, b in saved.items():
        p.write_bytes(b)
    world.store.withdraw(
        STABLE,
        "2.15.1",
        reason="corrupts data",
        replacement="2.15.0",
        project=PROJECT,
        now=NOW,
        signer=world.stable,
    )
    c = world.client()
    assert c.latest("stable") == "2.15.0"  # latest skips the withdrawn release
    assert c.verify_all()["releases"] == 6
    # pinned exactly, a withdrawn release still downloads, with a warning (PEP 592)
    files = c.download("stable", "2.15.1", tmp_path / "dl", os_name="linux", arch="amd64")
    assert [f.name for f in files] == [
        "demo-stable-2.15.1-linux-amd64.tar.gz",
        "demo-stable-2.15.1-linux-amd64.tar.gz.sigstore.json",
    ]
    assert c.warnings == ["2.15.1 is withdrawn: corrupts data"]
    check = c.check("stable", "2.15.1")
    assert (check.status, check.message) == (
        "withdrawn",
        "2.15.1 was withdrawn: corrupts data; use 2.15.0",
    )


def test_edge_release_inside_the_stable_channel(world: World) -> None:
    edge_release = make_release(world.store, EDGE, "26.11.2", world.edge)

    def smuggle(ld: dict[str, Any]) -> None:
        ld["releases"].append(edge_release.to_dict())

    forge(world.root, world.stable, "stable", line="2.15", line_mut=smuggle)
    refused(world, r"release 26.11.2 belongs to line 26.11, not 2.15")


def test_edge_signer_on_the_stable_channel(world: World) -> None:
    def sign_as_edge(cd: dict[str, Any]) -> None:
        cd["signer"] = {"identity": EDGE_ID.identity, "issuer": EDGE_ID.issuer}

    forge(world.root, world.edge, "stable", channel_mut=sign_as_edge, index_signer=world.stable)
    refused(
        world,
        r"channel document .* names signer .*edge\.yml.*the channel is signed by "
        r".*stable\.yml",
    )


def test_bundle_made_by_another_channel_signer(world: World) -> None:
    # the document claims the stable identity, but the edge key made the bundle
    forge(world.root, KeySigner(world.edge.key, STABLE_ID), "stable")
    refused(world, r"signature does not match the data")


def test_index_signed_by_an_untrusted_key(world: World) -> None:
    forge_index(world.root, world.keys.impostor(STABLE_ID))
    refused(world, r"signature does not match the data")


def test_unsigned_index_is_refused_when_verifying(world: World) -> None:
    forge_index(world.root, None)
    refused(world, r"index is not signed")
    assert world.client(verify=False).latest("stable") == "2.15.1"
    check = world.client().check("stable", "2.15.1")
    assert check.status == "unknown"
    assert "index is not signed" in check.message


def test_signer_change_is_refused_after_first_use_and_checked_against_anchors(
    world: World, tmp_path: Path
) -> None:
    world.seen()
    other = Identity("https://ci.example/other.yml@refs/heads/main", STABLE_ID.issuer)
    forge_index(
        world.root,
        world.keys.signer(other),
        index_mut=lambda d: (
            d["channels"]["stable"].update(signer=other.__dict__),
            d.update(signer=other.__dict__),
        ),
    )
    refused(
        world,
        r"channel stable now declares signer .*other\.yml.*this client trusted "
        r".*stable\.yml",
    )
    anchors = {"stable": Anchor("stable", (STABLE_ID,)), "edge": Anchor("edge", (EDGE_ID,))}
    refused(
        world,
        r"channel stable declares signer .*other\.yml.*allows .*stable\.yml",
        state=False,
        anchors=anchors,
    )
    chdir = tmp_path / "channels"
    chdir.mkdir()
    (chdir / "stable.toml").write_text(
        f'name = "stable"\nkind = "stable"\n[signer]\nidentity = "{other.identity}"\n'
        f'issuer = "{other.issuer}"\n'
    )
    loaded = load_anchors(chdir)
    assert loaded["stable"].identities[0] == other
    refused(
        world, r"channel 'edge' is not defined in the trusted channels", state=False, anchors=loaded
    )


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(schema_version="2.0"), r"unsupported schema_version 2.0"),
        (lambda d: d.update(version=2**53), r"outside the safe range"),
    ],
)
def test_unknown_schema_major_and_huge_integers(world: World, mutate: Any, match: str) -> None:
    forge_index(world.root, world.stable, index_mut=mutate)
    refused(world, match)


def test_newer_minor_schema_warns(world: World) -> None:
    forge_index(
        world.root, world.stable, index_mut=lambda d: d.update(schema_version="1.3", hint="new")
    )
    c = world.client()
    assert c.latest("stable") == "2.15.1"
    assert c.warnings == ["index uses schema 1.3, newer than 1.0; unknown fields ignored"]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (lambda b: b"\xef\xbb\xbf" + b, r"byte-order mark"),
        (lambda b: b[:-2] + b',"version":1}\n', r"duplicate key 'version'"),
        (lambda b: b.replace(b'"version":6', b'"version":6.0'), r"not an integer"),
    ],
)
def test_malformed_json(world: World, raw: Any, match: str) -> None:
    p = world.root / "index.json"
    p.write_bytes(raw(p.read_bytes()))
    refused(world, match)


def test_unknown_os_or_arch_and_missing_platform(world: World, tmp_path: Path) -> None:
    c = world.client()
    with pytest.raises(UsageError, match=r"unknown os 'plan9'"):
        c.download("stable", "2.15.1", tmp_path, os_name="plan9")
    with pytest.raises(UsageError, match=r"unknown arch 'vax'"):
        c.download("stable", "2.15.1", tmp_path, arch="vax")
    with pytest.raises(UsageError, match=r"has no artifact for that selection") as info:
        c.download("stable", "2.15.1", tmp_path, os_name="windows")
    assert "linux/amd64" in (info.value.hint or "")


def test_paths_escaping_the_store(world: World) -> None:
    def escape(ld: dict[str, Any]) -> None:
        a = ld["releases"][-1]["artifacts"][0]
        a.update(path="releases/../../../etc/passwd")

    forge(world.root, world.stable, "stable", line="2.15", line_mut=escape)
    refused(world, r"must not contain '\.\.'")
    fetcher = DirectoryFetcher(world.root)
    for bad in ("../x", "/etc/passwd", "https://evil.example/x"):
        with pytest.raises(FetchError, match=r"relative path|must not contain"):
            read_capped(fetcher, bad, 100, "file")
    (world.root / "releases" / "link").symlink_to("/etc")
    with pytest.raises(FetchError, match=r"resolves outside the channel store"):
        read_capped(fetcher, "releases/link/hostname", 10_000, "file")


def test_artifact_digest_mismatch_never_reaches_the_final_name(
    world: World, tmp_path: Path
) -> None:
    art = world.root / "releases/stable-2.15.1/demo-stable-2.15.1-linux-amd64.tar.gz"
    data = bytearray(art.read_bytes())
    data[0] ^= 1
    art.write_bytes(bytes(data))
    with pytest.raises(
        VerificationError, match=r"got 1664 bytes sha256 .*, the channel says 1664"
    ) as info:
        world.client().download("stable", "2.15.1", tmp_path / "dl", os_name="linux")
    assert info.value.hint == "the file was changed after publication; not installing it"
    assert list((tmp_path / "dl").iterdir()) == []


def test_bundle_for_a_different_file(world: World, tmp_path: Path) -> None:
    base = world.root / "releases/stable-2.15.1"
    linux = base / "demo-stable-2.15.1-linux-amd64.tar.gz.sigstore.json"
    shutil.copy(base / "demo-stable-2.15.1-darwin-arm64.tar.gz.sigstore.json", linux)
    with pytest.raises(
        VerificationError, match=r"sigstore.json does not match its recorded size"
    ) as info:
        world.client().download("stable", "2.15.1", tmp_path / "dl", os_name="linux")
    assert "a bundle for a different file" in (info.value.hint or "")

    # an attacker who can also re-pin the bundle's digest still fails the signature
    def repin(ld: dict[str, Any]) -> None:
        import hashlib

        a = ld["releases"][-1]["artifacts"][0]
        data = linux.read_bytes()
        a["sigstore_bundle"].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())

    forge(world.root, world.stable, "stable", line="2.15", line_mut=repin)
    with pytest.raises(VerificationError, match=r"signature does not match the data"):
        world.client().download("stable", "2.15.1", tmp_path / "dl2", os_name="linux")
    assert list((tmp_path / "dl2").iterdir()) == []


def test_artifact_signer_not_the_expected_identity(world: World, tmp_path: Path) -> None:
    def other_signer(ld: dict[str, Any]) -> None:
        ld["releases"][-1]["signer"] = {"identity": EDGE_ID.identity, "issuer": EDGE_ID.issuer}

    forge(world.root, world.stable, "stable", line="2.15", line_mut=other_signer)
    with pytest.raises(VerificationError, match=r"stable-2.15.1 names signer .*edge\.yml"):
        world.client().download("stable", "2.15.1", tmp_path, os_name="linux")


def test_check_statuses(world: World) -> None:
    c = world.client()
    results = {v: c.check("stable", v) for v in ("2.15.1", "2.15.0", "2.14.1", "2.13.0")}
    assert {v: r.status for v, r in results.items()} == {
        "2.15.1": "up-to-date",
        "2.15.0": "patch-available",
        "2.14.1": "newer-line",
        "2.13.0": "eol",
    }
    assert results["2.15.0"].message == "2.15.1 is available in your line 2.15"
    assert results["2.14.1"].message == "2.14.1 is the latest of 2.14; line 2.15 has 2.15.1"
    assert results["2.13.0"].message.startswith("line 2.13 is end-of-life since ")
    unknown = c.check("stable", "2.16.0")
    assert (unknown.status, unknown.message) == (
        "unknown",
        "unknown: 2.16.0 is not a release of channel stable (no line 2.16)",
    )
    assert world.client(verify=False).check("stable", "2.15.1").status == "unknown"
    art = world.root / "releases/stable-2.15.1/demo-stable-2.15.1-linux-amd64.tar.gz"
    assert art.exists()
    forge_index(world.root, world.keys.impostor(STABLE_ID))
    bad = world.client().check("stable", "2.15.1")
    assert bad.status == "unknown"
    assert "signature does not match" in bad.message


def test_http_source_on_loopback(world: World, tmp_path: Path) -> None:
    with serve_directory(world.root) as url:
        c = ChannelClient(HttpFetcher(url), now=NOW, verifier=world.keys.verifier())
        assert c.latest("stable", "2.14") == "2.14.1"
        files = c.download("stable", "2.15.1", tmp_path / "dl", os_name="darwin")
        assert files[0].name == "demo-stable-2.15.1-darwin-arm64.tar.gz"
        with pytest.raises(FetchError, match=r"HTTP 404"):
            read_capped(HttpFetcher(url), "missing.json", 100, "file")
    for bad in ("http://example.com/", "ftp://127.0.0.1/", "file:///tmp/x"):
        with pytest.raises(UsageError, match=r"refusing channel source"):
            check_url(bad)
    assert check_url("https://example.com/channel/").hostname == "example.com"
    assert check_url("http://[::1]:8000/").hostname == "::1"
    for secret in ("https://bob:hunter2@example.com/c", "http://tok3n@127.0.0.1:8000/"):
        with pytest.raises(UsageError) as info:
            check_url(secret)
        assert "credentials" in info.value.message
        assert "hunter2" not in str(info.value) + str(info.value.hint)
        assert "tok3n" not in str(info.value) + str(info.value.hint)


def test_redirect_off_loopback_is_refused() -> None:
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://198.51.100.7/index.json")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with pytest.raises(FetchError, match=r"refusing redirect to 'http://198.51.100.7/"):
            read_capped(HttpFetcher(url), "index.json", 1000, "index")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_errors_are_release_errors_with_one_line_messages(world: World) -> None:
    forge_index(world.root, world.keys.impostor(STABLE_ID))
    err = refused(world, r"signature")
    assert isinstance(err, ReleaseError)
    assert "\n" not in err.message
    assert model.SCHEMA_VERSION == "1.0"


class RecordingFetcher(DirectoryFetcher):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.paths: list[str] = []

    def chunks(self, path: str) -> Any:
        self.paths.append(path)
        return super().chunks(path)


def test_latest_reads_the_index_and_one_line_document_only(world: World) -> None:
    fetcher = RecordingFetcher(world.root)
    c = ChannelClient(fetcher, now=NOW, verifier=world.keys.verifier())
    assert c.latest("stable") == "2.15.1"
    index = read_index(world.root)
    line_pin = index["channels"]["stable"]["lines"]["2.15"]["document"]["path"]
    assert fetcher.paths == [
        "index.json",
        f"index/v{index['version']}.json.sigstore.json",
        line_pin,
        line_pin + ".sigstore.json",
    ]
    assert c.latest("stable", "2.13") == "2.13.0"  # an EOL line: through the channel document
    assert index["channels"]["stable"]["document"]["path"] in fetcher.paths
