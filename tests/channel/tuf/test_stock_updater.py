"""Other TUF clients can read our channels: the STOCK python-tuf Updater, given our root
and our Key class registered, refreshes a pipeline-published store and downloads a
release artifact; and it follows our key rotations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tuf.api.exceptions import BadVersionNumberError, UnsignedMetadataError
from tuf.ngclient import Updater, UpdaterConfig

from release.channel.backends.directory import DirectoryBackend
from release.channel.store import ChannelStore
from release.channel.tuf import keys
from release.channel.tuf import metadata as tm
from release.channel.tuf import trust as tt
from release.channel.tuf.keys import SigstoreTrust, verification_trust
from release.channel.tuf.repo import TufStore
from release.trust_config import DEV_ROOT, RootHolders, TrustConfig
from tests.helpers.channelkit import EDGE, KeyRoot, make_release, serve_directory
from tests.helpers.sigstore import EDGE_DEV, DevInstance
from tests.helpers.tufrepo import Ed25519Store, new_key


@pytest.fixture(scope="module")
def sigstore_store(
    dev_sigstore: DevInstance, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, SigstoreTrust]:
    """A store published with real dev Sigstore signatures: root and targets by the dev
    root identity, everything else by the edge identity with one certificate."""
    root = tmp_path_factory.mktemp("sigstore-store")
    trust = SigstoreTrust.from_file(dev_sigstore.trust_config)
    store = TufStore(DirectoryBackend(root, durable=False))
    channel = EDGE.__class__(**{**EDGE.__dict__, "dev_signer": EDGE_DEV})
    trust_cfg = TrustConfig(RootHolders((), 1), RootHolders((DEV_ROOT,), 1), tm.Expiry())
    want = tt.desired([channel], trust_cfg, dev=True, trust=trust)
    start = datetime.now(UTC).replace(microsecond=0)
    with tt.dev_maintainers(dev_sigstore.trust_config) as maintainers:
        assert tt.ensure_dev_trust(store, want, [DEV_ROOT], maintainers, start)
    files = ChannelStore(root, durable=False)
    signer_setup = dev_sigstore.setup(EDGE_DEV)
    with keys.open_signer(signer_setup, EDGE_DEV) as signer:
        for i, version in enumerate(["26.11.1", "26.11.2"]):
            now = start + timedelta(minutes=i)
            release = make_release(
                files, channel, version, KeyRoot().signer(EDGE_DEV), published_at=now
            )
            store.publish(
                channel, release, project="demo", now=now, signer=signer, identity=EDGE_DEV
            )
        certs = {
            str(sig.unrecognized_fields["bundle"]["verificationMaterial"]["certificate"])
            for name in ("2.edge.json", "2.edge.26.11.json", "2.snapshot.json")
            for sig in store._required(f"metadata/{name}").signatures.values()
        }
    assert len(certs) == 1, "one certificate for every role of a publication"
    return root, trust


def test_stock_updater_refreshes_and_downloads(
    sigstore_store: tuple[Path, SigstoreTrust], tmp_path: Path
) -> None:
    root, trust = sigstore_store
    keys.register()
    bootstrap = (root / "metadata/1.root.json").read_bytes()
    # The root names its Sigstore trust; the client takes it from the root it trusts.
    assert keys.trust_of_root(tt.parse_root(bootstrap, "root").signed.unrecognized_fields) == trust
    meta_dir = tmp_path / "meta"
    meta_dir.mkdir()
    with serve_directory(root) as url, verification_trust(trust):
        updater = Updater(
            str(meta_dir),
            url + "metadata/",
            str(tmp_path / "dl"),
            url,
            config=UpdaterConfig(prefix_targets_with_hash=False),
            bootstrap=bootstrap,
        )
        (tmp_path / "dl").mkdir()
        updater.refresh()
        path = "releases/edge-26.11.2/demo-edge-26.11.2-linux-amd64.tar.gz"
        info = updater.get_targetinfo(path)
        assert info is not None
        got = updater.download_target(info)
        assert Path(got).read_bytes() == (root / path).read_bytes()
        doc = updater.get_targetinfo("channels/edge/v2.json")
        assert doc is not None
    # Against another trust (the public-good root), the same metadata does not verify.
    fresh = tmp_path / "meta2"
    fresh.mkdir()
    other = SigstoreTrust.from_value({"trustedRoot": {}, "mediaType": "x"})
    with (
        serve_directory(root) as url,
        verification_trust(other),
        pytest.raises(UnsignedMetadataError, match="root was signed by 0/1 keys"),
    ):
        Updater(str(fresh), url + "metadata/", bootstrap=bootstrap).refresh()


def test_huge_timestamp_version_recovered_by_rotation(tmp_path: Path) -> None:
    """A stolen timestamp key signs version 2^31: clients that saw it refuse every honest
    timestamp. Rotating the publishers' keys in a new root (signed by the old and the new
    maintainers) lets them recover: python-tuf drops the trusted timestamp on rotation."""
    s = Ed25519Store(tmp_path / "store", now=datetime.now(UTC).replace(microsecond=0))
    s.publish("edge", "26.11.1")
    bootstrap = (s.root / "metadata/1.root.json").read_bytes()
    honest_ts = (s.root / tm.TIMESTAMP_KEY).read_bytes()

    # The attacker (holding the timestamp key) serves a huge version to a client.
    from tuf.api.metadata import Metadata

    evil = Metadata.from_bytes(honest_ts)
    evil.signed.version = 2**31
    evil.signatures.clear()
    evil.sign(s.keys["edge"])
    (s.root / tm.TIMESTAMP_KEY).write_bytes(tm.serialize(evil))
    meta = tmp_path / "client"
    with serve_directory(s.root) as url:
        Updater(str(_mk(meta)), url + "metadata/", bootstrap=bootstrap).refresh()
    # The server is honest again: the client is stuck.
    (s.root / tm.TIMESTAMP_KEY).write_bytes(honest_ts)
    s.publish("edge", "26.11.2", now=s.later(0))
    with serve_directory(s.root) as url, pytest.raises(BadVersionNumberError):
        Updater(str(meta), url + "metadata/", bootstrap=None).refresh()

    # Recovery: the maintainers rotate the edge publisher key (root v2, targets v2).
    old_edge = s.keys["edge"]
    s.keys["edge"] = new_key()
    want = tt.Desired(
        root_keys=(s.maintainer.public_key,),
        threshold=1,
        publisher_keys=tuple(k.public_key for k in s.keys.values()),
        channels=tuple(
            tm.ChannelDelegation(c.name, c.tag_format.template, (s.keys[c.name].public_key,))
            for c in s.channels.values()
        ),
        trust=keys.PRODUCTION,
        expiry=tm.Expiry(),
    )
    root2 = tt.next_root(s.store.root().signed, want, s.later(2))  # type: ignore[union-attr]
    root2.signed.unrecognized_fields.clear()
    targets2 = tt.next_targets(s.targets_md.signed, want, s.later(2))
    s.store.install([tt.sign_with(root2, [s.maintainer])], tt.sign_with(targets2, [s.maintainer]))
    assert old_edge.public_key.keyid not in root2.signed.roles["timestamp"].keyids
    s.publish("edge", "26.11.3", now=s.later(3))
    with serve_directory(s.root) as url:
        updater = Updater(str(meta), url + "metadata/", bootstrap=None)
        updater.refresh()
        assert updater.get_targetinfo("channels/edge/lines/26.11/v3.json") is not None


def _mk(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path
