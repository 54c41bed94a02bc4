"""The local Sigstore instance on its own: Merkle tree, Rekor/Fulcio endpoints, tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sigstore._internal.merkle import _chain_border_right, _chain_inner, _decomp_inclusion_proof

from release.adapters.devsigstore import MerkleTree, mint_identity_token
from release.adapters.sigstore import open_signer
from tests.helpers.sigstore import EDGE_DEV, DevInstance


def _leaf(i: int) -> bytes:
    return hashlib.sha256(b"\x00" + f"leaf {i}".encode()).digest()


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH written the obvious recursive way."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    left, right = _reference_root(leaves[:k]), _reference_root(leaves[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_merkle_root_and_every_inclusion_proof_verify_with_sigstores_code() -> None:
    tree = MerkleTree()
    for n in range(1, 34):
        tree.append(_leaf(n - 1))
        root = tree.root()
        assert root == _reference_root(tree.leaves)
        for index in range(n):
            proof = tree.inclusion_proof(index, n)
            inner, border = _decomp_inclusion_proof(index, n)
            assert len(proof) == inner + border
            seed = _chain_inner(tree.leaves[index], proof[:inner], index)
            assert _chain_border_right(seed, proof[inner:]) == root
    # Proofs against an older tree size stay valid (a log only grows).
    old_root = _reference_root(tree.leaves[:5])
    proof = tree.inclusion_proof(3, 5)
    inner, _ = _decomp_inclusion_proof(3, 5)
    assert _chain_border_right(_chain_inner(tree.leaves[3], proof[:inner], 3), proof[inner:]) == (
        old_root
    )
    with pytest.raises(ValueError, match="no leaf"):
        tree.inclusion_proof(40, 33)


def _http(url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def _status(url: str, body: Any = None, headers: dict[str, str] | None = None) -> int:
    try:
        _http(url, body, headers)
    except urllib.error.HTTPError as err:
        return err.code
    return 200


def _csr_pem() -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def test_fulcio_refuses_bad_tokens(dev_sigstore: DevInstance) -> None:
    url = f"{dev_sigstore.dev.url}/api/v2/signingCert"
    body = {"certificateSigningRequest": base64.b64encode(_csr_pem()).decode()}
    assert _status(url, body) == 401
    wrong_aud = mint_identity_token("a@b.invalid", audience="other")
    assert _status(url, body, {"Authorization": f"Bearer {wrong_aud}"}) == 400
    assert _status(url, body, {"Authorization": "Bearer not-a-jwt"}) == 400
    good = mint_identity_token("a@b.invalid")
    chain = _http(url, body, {"Authorization": f"Bearer {good}"})
    pems = chain["signedCertificateEmbeddedSct"]["chain"]["certificates"]
    assert len(pems) == 2
    assert pems[0].startswith("-----BEGIN CERTIFICATE-----")


def test_rekor_get_endpoints_serve_what_was_logged(
    dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    artifact = tmp_path / "a.txt"
    artifact.write_text("logged")
    with open_signer(dev_sigstore.setup(EDGE_DEV), EDGE_DEV) as signer:
        (bundle,) = signer.sign_files([artifact])
    entry = json.loads(bundle.read_text())["verificationMaterial"]["tlogEntries"][0]
    index = int(entry["logIndex"])
    base = f"{dev_sigstore.dev.url}/api/v1/log"
    info = _http(base)
    assert info["treeSize"] == len(dev_sigstore.dev.entries) > index
    assert info["signedTreeHead"].count("\n\n") == 1
    by_index = _http(f"{base}/entries?logIndex={index}")
    (uuid,) = by_index
    by_uuid = _http(f"{base}/entries/{uuid}")
    fields = ("body", "integratedTime", "logID", "logIndex")
    assert {k: by_uuid[uuid][k] for k in fields} == {k: by_index[uuid][k] for k in fields}
    assert by_index[uuid]["logIndex"] == index
    assert by_index[uuid]["body"] == entry["canonicalizedBody"]
    assert _status(f"{base}/entries/{'0' * 64}") == 404
    assert _status(f"{base}/entries?logIndex=999999") == 404
    assert _status(f"{base}/entries", {"kind": "rekord", "apiVersion": "0.0.1", "spec": {}}) == 400


def test_minted_token_has_the_claims_sigstore_requires() -> None:
    from sigstore.oidc import IdentityToken

    token = IdentityToken(mint_identity_token("edge@dev.invalid"))
    assert token.identity == "edge@dev.invalid"
    assert token.issuer == "https://dev.invalid"
    assert token.in_validity_period()


def test_instances_sharing_state_keep_one_linear_log(tmp_path: Path) -> None:
    from release.adapters.sigstore import verify_file
    from tests.helpers.sigstore import start_dev_instance

    state = tmp_path / "shared"
    a = start_dev_instance(state, tmp_path / "a.json")
    b = start_dev_instance(state, tmp_path / "b.json")  # e.g. another process, same channel
    try:
        assert b.dev.ca_cert == a.dev.ca_cert
        assert a.dev.url != b.dev.url
        bundles = []
        for i, instance in enumerate((a, b, a)):
            f = tmp_path / f"f{i}.txt"
            f.write_text(f"file {i}")
            with open_signer(instance.setup(EDGE_DEV), EDGE_DEV) as signer:
                (bundle,) = signer.sign_files([f])
            entry = json.loads(bundle.read_text())["verificationMaterial"]["tlogEntries"][0]
            assert int(entry["logIndex"]) == i
            assert int(entry["inclusionProof"]["treeSize"]) == i + 1
            bundles.append((f, bundle))
    finally:
        a.dev.stop()
        b.dev.stop()
    c = start_dev_instance(state)
    c.dev.stop()
    assert len(a.dev.entries) == len(c.dev.entries) == 3
    assert c.dev.tree.root() == a.dev.tree.root()
    for f, bundle in bundles:
        verify_file(f, bundle, EDGE_DEV, trust_config=c.trust_config)


def test_a_torn_log_line_is_skipped(tmp_path: Path) -> None:
    from tests.helpers.sigstore import start_dev_instance

    state = tmp_path / "torn"
    first = start_dev_instance(state)
    first.dev.add_entry(_hashedrekord())
    first.dev.stop()
    with (state / "log.jsonl").open("a") as fh:
        fh.write('{"body": "eyJ')  # a crash mid-write
    second = start_dev_instance(state)
    try:
        second.dev.add_entry(_hashedrekord())
        assert len(second.dev.entries) == 2
    finally:
        second.dev.stop()
    third = start_dev_instance(state)
    third.dev.stop()
    assert [e[0] for e in third.dev.entries] == [e[0] for e in second.dev.entries]


def _hashedrekord() -> dict[str, Any]:
    import os

    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": os.urandom(32).hex()}},
            "signature": {"content": "c2ln", "publicKey": {"content": "cGs="}},
        },
    }
