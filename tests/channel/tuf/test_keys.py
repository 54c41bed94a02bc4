"""The sigstore-oidc Key and Signer: round trips through the real dev Sigstore instance."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from securesystemslib import exceptions as sslib_exceptions
from securesystemslib.signer import KEY_FOR_TYPE_AND_SCHEME, Key, SigstoreKey
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Metadata, Root, Timestamp

from release.adapters.devsigstore import DEV_ISSUER
from release.channel.tuf import keys
from release.channel.tuf.keys import (
    PRODUCTION,
    SigstoreOidcKey,
    SigstoreOidcSigner,
    SigstoreTrust,
    verification_trust,
)
from release.config import Identity
from tests.helpers.sigstore import EDGE_DEV, STABLE_DEV, DevInstance

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def trust(dev_sigstore: DevInstance) -> SigstoreTrust:
    return SigstoreTrust.from_file(dev_sigstore.trust_config)


@pytest.fixture(scope="module")
def edge_signer(dev_sigstore: DevInstance) -> Iterator[SigstoreOidcSigner]:
    with keys.open_signer(dev_sigstore.setup(EDGE_DEV), EDGE_DEV) as signer:
        yield signer


class DictCache:
    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.gets = 0

    def get(self, key: str) -> bool:
        self.gets += 1
        return key in self.keys

    def put(self, key: str) -> None:
        self.keys.add(key)


def _timestamp_md() -> Metadata[Timestamp]:
    return Metadata(Timestamp(expires=NOW + timedelta(days=2)))


def test_registered_and_idempotent() -> None:
    keys.register()
    keys.register()
    assert KEY_FOR_TYPE_AND_SCHEME[("sigstore-oidc", "Fulcio")] is SigstoreOidcKey
    key = Key.from_dict(
        "abc",
        {
            "keytype": "sigstore-oidc",
            "scheme": "Fulcio",
            "keyval": {"identity": "a@b", "issuer": "https://i"},
        },
    )
    assert isinstance(key, SigstoreOidcKey)


def test_round_trip_through_tuf_metadata(
    edge_signer: SigstoreOidcSigner, trust: SigstoreTrust
) -> None:
    md = _timestamp_md()
    signature = md.sign(edge_signer)
    # Standard wire format: the bundle in "bundle", sig = its message signature.
    assert (
        signature.signature
        == signature.unrecognized_fields["bundle"]["messageSignature"]["signature"]
    )
    raw = md.to_bytes()
    parsed = Metadata[Timestamp].from_bytes(raw)
    root = Root(expires=NOW + timedelta(days=365))
    root.add_key(edge_signer.public_key, "timestamp")
    with verification_trust(trust):
        root.verify_delegate("timestamp", parsed.signed_bytes, parsed.signatures)


def test_foreign_identity_refused(dev_sigstore: DevInstance, trust: SigstoreTrust) -> None:
    """A signature by another identity of the same instance does not count for the key."""
    foreign = Identity("mallory@dev.invalid", DEV_ISSUER)
    md = _timestamp_md()
    with keys.open_signer(dev_sigstore.setup(foreign), foreign) as signer:
        sig = md.sign(signer)
    # Relabel the foreign signature with the edge key's id, as an attacker would.
    edge_key = SigstoreOidcKey.from_identity(EDGE_DEV)
    forged = copy.deepcopy(sig)
    forged.keyid = edge_key.keyid
    root = Root(expires=NOW + timedelta(days=365))
    root.add_key(edge_key, "timestamp")
    with verification_trust(trust), pytest.raises(UnsignedMetadataError):
        root.verify_delegate("timestamp", md.signed_bytes, {edge_key.keyid: forged})
    with (
        verification_trust(trust),
        pytest.raises(sslib_exceptions.UnverifiedSignatureError, match="wrong identity"),
    ):
        edge_key.verify_signature(forged, md.signed_bytes)


def test_wrong_trust_refused(
    edge_signer: SigstoreOidcSigner, trust: SigstoreTrust, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A dev-signed signature fails against another dev instance's trust config."""
    from tests.helpers.sigstore import start_dev_instance

    other = start_dev_instance(tmp_path_factory.mktemp("other-sigstore"))
    try:
        other_trust = SigstoreTrust.from_file(other.trust_config)
    finally:
        other.dev.stop()
    assert other_trust != trust
    assert not other_trust.same_keys(trust)
    md = _timestamp_md()
    sig = md.sign(edge_signer)
    with verification_trust(other_trust), pytest.raises(sslib_exceptions.UnverifiedSignatureError):
        edge_signer.public_key.verify_signature(sig, md.signed_bytes)
    with verification_trust(trust):
        edge_signer.public_key.verify_signature(sig, md.signed_bytes)


def test_tampered_payload_and_bundle_refused(
    edge_signer: SigstoreOidcSigner, trust: SigstoreTrust
) -> None:
    md = _timestamp_md()
    sig = md.sign(edge_signer)
    md.signed.version += 1
    with (
        verification_trust(trust),
        pytest.raises(sslib_exceptions.UnverifiedSignatureError, match="digest mismatch"),
    ):
        edge_signer.public_key.verify_signature(sig, md.signed_bytes)
    md.signed.version -= 1
    swapped = copy.deepcopy(sig)
    swapped.signature = "AAAA"
    with (
        verification_trust(trust),
        pytest.raises(sslib_exceptions.UnverifiedSignatureError, match="message signature"),
    ):
        edge_signer.public_key.verify_signature(swapped, md.signed_bytes)
    bare = copy.deepcopy(sig)
    del bare.unrecognized_fields["bundle"]
    with (
        verification_trust(trust),
        pytest.raises(sslib_exceptions.UnverifiedSignatureError, match="no Sigstore bundle"),
    ):
        edge_signer.public_key.verify_signature(bare, md.signed_bytes)


def test_default_trust_is_public_good(
    edge_signer: SigstoreOidcSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a selected trust, keys verify against the public-good root (as stock does)."""
    from release.adapters import sigstore as adapter

    assert keys.current_trust() == PRODUCTION
    md = _timestamp_md()
    sig = md.sign(edge_signer)
    asked: list[str] = []

    def no_network(spec: str) -> object:
        asked.append(spec)
        raise adapter.ConfigError("the public-good root is not reachable offline")

    monkeypatch.setattr(adapter, "trusted_root_for_spec", no_network)
    with pytest.raises(sslib_exceptions.VerificationError, match="cannot verify"):
        edge_signer.public_key.verify_signature(sig, md.signed_bytes)
    assert asked == ["production"]


def test_verdict_cache_skips_sigstore(
    edge_signer: SigstoreOidcSigner, trust: SigstoreTrust, monkeypatch: pytest.MonkeyPatch
) -> None:
    md = _timestamp_md()
    sig = md.sign(edge_signer)
    cache = DictCache()
    with verification_trust(trust, cache):
        edge_signer.public_key.verify_signature(sig, md.signed_bytes)
    assert len(cache.keys) == 1

    from release.adapters import sigstore as adapter

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("sigstore must not be consulted for a cached verdict")

    monkeypatch.setattr(adapter, "verify_bytes_with_spec", boom)
    with verification_trust(trust, cache):
        edge_signer.public_key.verify_signature(sig, md.signed_bytes)
    # The verdict is bound to the bytes, the signature and the trust.
    md.signed.version += 1
    with verification_trust(trust, cache), pytest.raises(AssertionError):
        edge_signer.public_key.verify_signature(sig, md.signed_bytes)
    md.signed.version -= 1
    with verification_trust(PRODUCTION, cache), pytest.raises(AssertionError):
        edge_signer.public_key.verify_signature(sig, md.signed_bytes)


def test_one_certificate_for_every_role(edge_signer: SigstoreOidcSigner) -> None:
    a = _timestamp_md().sign(edge_signer)
    b = Metadata(Root(expires=NOW)).sign(edge_signer)
    cert_a = a.unrecognized_fields["bundle"]["verificationMaterial"]
    cert_b = b.unrecognized_fields["bundle"]["verificationMaterial"]
    assert _cert(cert_a) == _cert(cert_b)


def _cert(material: dict[str, object]) -> object:
    return material.get("certificate") or material.get("x509CertificateChain")


def test_stock_sigstore_key_decodes_ours() -> None:
    """Stock securesystemslib reads our key dict and computes the same keyid."""
    ours = SigstoreOidcKey.from_identity(STABLE_DEV)
    stock = SigstoreKey.from_dict(ours.keyid, copy.deepcopy(ours.to_dict()))
    assert stock.keyval == ours.keyval
    assert stock.to_dict() == ours.to_dict()
    from securesystemslib.signer import SigstoreSigner

    _uri, fresh = SigstoreSigner.import_(STABLE_DEV.identity, STABLE_DEV.issuer)
    assert fresh.keyid == ours.keyid
    assert json.loads(json.dumps(fresh.to_dict())) == ours.to_dict()


def test_key_refuses_malformed_keyval() -> None:
    with pytest.raises(ValueError, match="identity"):
        Key.from_dict(
            "x", {"keytype": "sigstore-oidc", "scheme": "Fulcio", "keyval": {"issuer": "https://i"}}
        )


def test_trust_values_round_trip(trust: SigstoreTrust) -> None:
    assert trust.is_dev
    assert not PRODUCTION.is_dev
    fields = keys.root_fields_for(trust)
    assert keys.trust_of_root(json.loads(json.dumps(fields))) == trust
    assert keys.trust_of_root({}) == PRODUCTION
    assert keys.trust_of_root(keys.root_fields_for(SigstoreTrust("staging"))).spec == "staging"
    from release.errors import ConfigError

    with pytest.raises(ConfigError):
        SigstoreTrust("public-good-please")
    with pytest.raises(ConfigError):
        keys.trust_of_root({keys.ROOT_FIELD: {"sigstore": 3}})


def test_trust_identity_ignores_service_urls(trust: SigstoreTrust) -> None:
    """A restarted local instance listens on new ports: the same keys, the same trust."""
    moved = json.loads(trust.spec)
    moved["trustedRoot"]["tlogs"][0]["baseUrl"] = "http://127.0.0.1:1"
    moved["signingConfig"]["caUrls"][0]["url"] = "http://127.0.0.1:1"
    other = SigstoreTrust.from_value(moved)
    assert other.same_keys(trust)
    assert other.fingerprint == trust.fingerprint
    rekeyed = json.loads(trust.spec)
    rekeyed["trustedRoot"]["tlogs"][0]["logId"]["keyId"] = "AAAA"
    assert not SigstoreTrust.from_value(rekeyed).same_keys(trust)
