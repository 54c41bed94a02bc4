"""Offline bundle conformance: our ``verify_file`` against sigstore-python's own verdicts.

The cases mirror the offline bundle cases of Sigstore's conformance suite, built with
the local dev instance: message signatures and DSSE in-toto statements, each valid and
each broken the way an attacker or a broken client would break it. For each case the
expected verdict is fixed here; ours must match it on every case (never a false
accept), and must be right at least as often as sigstore-python's ``Verifier`` API
and its CLI's dispatch (``sigstore verify identity``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from release.adapters.devsigstore import DEV_ISSUER
from release.adapters.sigstore import bundle_path, open_signer, verify_file
from release.config import Identity
from release.errors import ConfigError, VerificationError
from tests.helpers.sigstore import EDGE_DEV, STABLE_DEV, DevInstance

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


@dataclass(frozen=True)
class Case:
    file: Path
    bundle: Path
    identity: Identity
    accept: bool


def _statement(*digests: str) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"f{i}", "digest": {"sha256": d}} for i, d in enumerate(digests)],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "test://conformance"}},
    }


def _edit(src: Path, dst: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(src.read_text())
    change(data)
    dst.write_text(json.dumps(data))
    return dst


def _flip_b64(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _set_subject(digest: str) -> Callable[[dict[str, Any]], None]:
    def change(b: dict[str, Any]) -> None:
        env = b["dsseEnvelope"]
        statement = json.loads(base64.b64decode(env["payload"]))
        statement["subject"][0]["digest"]["sha256"] = digest
        env["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()

    return change


@pytest.fixture(scope="module")
def cases(dev_sigstore: DevInstance, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    d = tmp_path_factory.mktemp("conformance")
    target = d / "app.tar.gz"
    target.write_bytes(b"the released file\n" * 64)
    other = d / "other.tar.gz"
    other.write_bytes(b"a different file\n" * 64)
    sha = hashlib.sha256(target.read_bytes()).hexdigest()
    other_sha = hashlib.sha256(other.read_bytes()).hexdigest()
    stable_file = d / "stable.tar.gz"
    stable_file.write_bytes(target.read_bytes())

    with open_signer(dev_sigstore.setup(EDGE_DEV), EDGE_DEV) as signer:
        signed, signed_other = signer.sign_files([target, other])
        dsse = signer.sign_statement(_statement(other_sha, sha), d / "dsse.sigstore.json")
        dsse_other = signer.sign_statement(_statement(other_sha), d / "dsse-other.sigstore.json")
    with open_signer(dev_sigstore.setup(STABLE_DEV), STABLE_DEV) as signer:
        (stable_bundle,) = signer.sign_files([stable_file])

    def swap_cert(b: dict[str, Any]) -> None:
        foreign = json.loads(stable_bundle.read_text())
        b["verificationMaterial"]["certificate"] = foreign["verificationMaterial"]["certificate"]

    def swap_tlog(b: dict[str, Any]) -> None:
        foreign = json.loads(signed_other.read_text())
        b["verificationMaterial"]["tlogEntries"] = foreign["verificationMaterial"]["tlogEntries"]

    def message_sig(b: dict[str, Any]) -> None:
        sig = b["messageSignature"]
        sig["signature"] = _flip_b64(sig["signature"])

    def message_digest(b: dict[str, Any]) -> None:
        b["messageSignature"]["messageDigest"]["digest"] = base64.b64encode(
            bytes.fromhex(other_sha)
        ).decode()

    def dsse_sig(b: dict[str, Any]) -> None:
        env = b["dsseEnvelope"]
        env["signatures"][0]["sig"] = _flip_b64(env["signatures"][0]["sig"])

    def dsse_type(b: dict[str, Any]) -> None:
        b["dsseEnvelope"]["payloadType"] = "application/json"

    def media(value: str) -> Callable[[dict[str, Any]], None]:
        def change(b: dict[str, Any]) -> None:
            b["mediaType"] = value

        return change

    def drop_inclusion(b: dict[str, Any]) -> None:
        for entry in b["verificationMaterial"]["tlogEntries"]:
            entry.pop("inclusionProof", None)

    e = EDGE_DEV
    return {
        "message-signature-valid": Case(target, signed, e, True),
        "dsse-subject-valid": Case(target, dsse, e, True),
        "dsse-wrong-subject": Case(target, dsse_other, e, False),
        "dsse-subject-edited-to-file": Case(
            target, _edit(dsse_other, d / "edited.json", _set_subject(sha)), e, False
        ),
        "dsse-tampered-signature": Case(target, _edit(dsse, d / "dsig.json", dsse_sig), e, False),
        "dsse-payload-type-changed": Case(
            target, _edit(dsse, d / "dtype.json", dsse_type), e, False
        ),
        "dsse-wrong-identity": Case(target, dsse, STABLE_DEV, False),
        "wrong-identity": Case(target, signed, STABLE_DEV, False),
        "wrong-issuer": Case(target, signed, Identity(e.identity, "https://other.invalid"), False),
        "issuer-prefix": Case(target, signed, Identity(e.identity, DEV_ISSUER + "/x"), False),
        "tampered-signature": Case(target, _edit(signed, d / "sig.json", message_sig), e, False),
        "tampered-message-digest": Case(
            target, _edit(signed, d / "digest.json", message_digest), e, False
        ),
        "tampered-artifact": Case(other, signed, e, False),
        "bundle-for-a-different-file": Case(target, signed_other, e, False),
        "certificate-of-another-signing": Case(
            target, _edit(signed, d / "cert.json", swap_cert), e, False
        ),
        "log-entry-of-another-signing": Case(
            target, _edit(signed, d / "tlog.json", swap_tlog), e, False
        ),
        "log-entry-without-inclusion-proof": Case(
            target, _edit(signed, d / "noproof.json", drop_inclusion), e, False
        ),
        "media-type-unknown": Case(
            target,
            _edit(signed, d / "media.json", media("application/vnd.dev.sigstore.bundle.v9+json")),
            e,
            False,
        ),
        "media-type-v0.1-for-a-v0.3-bundle": Case(
            target,
            _edit(
                signed,
                d / "media01.json",
                media("application/vnd.dev.sigstore.bundle+json;version=0.1"),
            ),
            e,
            False,
        ),
        "dsse-media-type-unknown": Case(
            target,
            _edit(dsse, d / "dmedia.json", media("application/vnd.dev.sigstore.bundle.v9+json")),
            e,
            False,
        ),
    }


def _ours(case: Case, trust_config: Path) -> bool:
    try:
        verify_file(case.file, case.bundle, case.identity, trust_config=trust_config)
    except VerificationError as exc:
        return "\n" in exc.message  # a multi-line refusal counts as a wrong verdict
    return True


def _stock(case: Case, trust_config: Path, *, cli: bool) -> bool:
    """sigstore-python's verdict: its Verifier API, or its CLI's dispatch (DSSE too)."""
    from sigstore._cli import _verify_common
    from sigstore.errors import Error
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, ClientTrustConfig
    from sigstore.verify import Verifier, policy
    from sigstore_models.common.v1 import HashAlgorithm

    trust = ClientTrustConfig.from_json(trust_config.read_text())
    verifier = Verifier(trusted_root=trust.trusted_root)
    hashed = Hashed(
        algorithm=HashAlgorithm.SHA2_256,
        digest=hashlib.sha256(case.file.read_bytes()).digest(),
    )
    rule = policy.Identity(identity=case.identity.identity, issuer=case.identity.issuer)
    try:
        bundle = Bundle.from_json(case.bundle.read_bytes())
        if cli:
            _verify_common(verifier, hashed, bundle, rule)
        else:
            verifier.verify_artifact(hashed, bundle, rule)
    except (Error, ValueError, AttributeError):
        return False
    return True


def test_our_verdicts_match_every_case_and_sigstore_pythons(
    cases: dict[str, Case], dev_sigstore: DevInstance
) -> None:
    tc = dev_sigstore.trust_config
    ours = {name: _ours(c, tc) for name, c in cases.items()}
    api = {name: _stock(c, tc, cli=False) for name, c in cases.items()}
    stock_cli = {name: _stock(c, tc, cli=True) for name, c in cases.items()}
    truth = {name: c.accept for name, c in cases.items()}
    false_accepts = [n for n in cases if ours[n] and not truth[n]]
    assert false_accepts == []
    assert ours == truth
    # sigstore-python never falsely accepts either; its Verifier API alone refuses DSSE.
    assert [n for n in cases if stock_cli[n] and not truth[n]] == []
    assert stock_cli == truth
    assert {n for n in cases if api[n] != truth[n]} == {"dsse-subject-valid"}
    right = sum(ours[n] == truth[n] for n in cases)
    assert right >= max(
        sum(api[n] == truth[n] for n in cases), sum(stock_cli[n] == truth[n] for n in cases)
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("dsse-wrong-subject", r"^digest mismatch: .*app\.tar\.gz .* is not a subject of"),
        ("dsse-subject-edited-to-file", r"^invalid signature: the DSSE envelope in .* was altered"),
        ("dsse-payload-type-changed", r"^invalid signature: the DSSE envelope"),
        ("dsse-wrong-identity", r"^wrong identity: .*'edge@dev\.invalid'"),
        ("wrong-issuer", r"^wrong issuer"),
        ("media-type-unknown", r"^malformed bundle"),
    ],
)
def test_refusals_name_the_check(
    cases: dict[str, Case], dev_sigstore: DevInstance, name: str, message: str
) -> None:
    case = cases[name]
    with pytest.raises(VerificationError, match=message):
        verify_file(case.file, case.bundle, case.identity, trust_config=dev_sigstore.trust_config)


def test_trust_formats_are_told_apart(
    cases: dict[str, Case], dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    case = cases["message-signature-valid"]
    tc = dev_sigstore.trust_config
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(json.loads(tc.read_text())["trustedRoot"]))
    verify_file(case.file, case.bundle, case.identity, trusted_root=root)
    with pytest.raises(ConfigError, match=r"is a Sigstore ClientTrustConfig, not a trusted root"):
        verify_file(case.file, case.bundle, case.identity, trusted_root=tc)
    with pytest.raises(ConfigError, match=r"is a Sigstore trusted root, not a ClientTrustConfig"):
        verify_file(case.file, case.bundle, case.identity, trust_config=root)


def test_a_dsse_bundle_with_the_default_name_is_found(
    cases: dict[str, Case], dev_sigstore: DevInstance
) -> None:
    case = cases["dsse-subject-valid"]
    default = bundle_path(case.file)
    default.write_bytes(case.bundle.read_bytes())
    try:
        verify_file(case.file, default, EDGE_DEV, trust_config=dev_sigstore.trust_config)
    finally:
        default.unlink()
