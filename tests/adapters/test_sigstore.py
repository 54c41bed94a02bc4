"""Signing and verification through the real sigstore-python, against a loopback instance."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from release.adapters.devsigstore import DEV_ISSUER, mint_identity_token
from release.adapters.sigstore import (
    ReleaseSigner,
    SigningSetup,
    bundle_path,
    open_signer,
    resolve_identity_token,
    verify_bytes,
    verify_file,
    verify_provenance,
)
from release.cli.exitcodes import exit_code
from release.config import Identity
from release.errors import ConfigError, SigningError, VerificationError
from release.logging import redact
from release.provenance import build_statement
from tests.helpers.sigstore import STABLE_DEV, DevInstance, start_dev_instance


def _files(tmp_path: Path, n: int, size: int = 64) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"artifact-{i}.bin"
        p.write_bytes(bytes([i % 256]) * size + f"#{i}".encode())
        out.append(p)
    return out


@pytest.fixture
def signed(dev_sigstore: DevInstance, dev_identity: Identity, tmp_path: Path) -> tuple[Path, Path]:
    (artifact,) = _files(tmp_path, 1)
    with open_signer(dev_sigstore.setup(dev_identity), dev_identity) as signer:
        (bundle,) = signer.sign_files([artifact])
    return artifact, bundle


def _tlog(bundle: Path) -> dict[str, object]:
    entry: dict[str, object] = json.loads(bundle.read_text())["verificationMaterial"][
        "tlogEntries"
    ][0]
    return entry


def test_many_artifacts_one_certificate_all_verify(
    dev_sigstore: DevInstance, dev_identity: Identity, tmp_path: Path
) -> None:
    files = _files(tmp_path, 12)
    before = dev_sigstore.dev.cert_requests
    with open_signer(dev_sigstore.setup(dev_identity), dev_identity) as signer:
        assert isinstance(signer, ReleaseSigner)
        bundles = signer.sign_files(files)
    assert dev_sigstore.dev.cert_requests == before + 1
    assert bundles == [bundle_path(f) for f in files]
    certs = {
        json.loads(b.read_text())["verificationMaterial"]["certificate"]["rawBytes"]
        for b in bundles
    }
    assert len(certs) == 1
    for f, b in zip(files, bundles, strict=True):
        verify_file(f, b, dev_identity, trust_config=dev_sigstore.trust_config)
    # Multi-leaf Merkle proofs: distinct indices in a tree larger than one leaf.
    indices = {int(str(_tlog(b)["logIndex"])) for b in bundles}
    assert len(indices) == len(files)
    proofs = [_tlog(b)["inclusionProof"] for b in bundles]
    sizes = [int(str(p["treeSize"])) for p in proofs]  # type: ignore[index]
    assert max(sizes) >= len(files)
    assert any(len(p["hashes"]) >= 3 for p in proofs)  # type: ignore[index]
    assert not list(tmp_path.glob(".*.tmp"))


def test_verify_bytes_for_in_memory_documents(
    signed: tuple[Path, Path], dev_sigstore: DevInstance, dev_identity: Identity
) -> None:
    artifact, bundle = signed
    verify_bytes(
        artifact.read_bytes(),
        bundle.read_bytes(),
        dev_identity,
        trust_config=dev_sigstore.trust_config,
    )
    with pytest.raises(VerificationError, match=r"^digest mismatch"):
        verify_bytes(
            b"other", bundle.read_bytes(), dev_identity, trust_config=dev_sigstore.trust_config
        )


def test_provenance_dsse_round_trip(
    dev_sigstore: DevInstance, dev_identity: Identity, tmp_path: Path
) -> None:
    files = _files(tmp_path, 3)
    subjects = [(f.name, hashlib.sha256(f.read_bytes()).hexdigest()) for f in files]
    statement = build_statement(
        subjects=subjects,
        repository="https://example.invalid/r",
        ref="refs/tags/edge-26.11.1",
        commit="a" * 40,
        version="edge-26.11.1",
        channel="edge",
        builder_id="test://builder",
        invocation_id="run-1",
        started=datetime(2026, 11, 25, 10, tzinfo=UTC),
        finished=datetime(2026, 11, 25, 10, 5, tzinfo=UTC),
    )
    out = tmp_path / "provenance.intoto.sigstore.json"
    with open_signer(dev_sigstore.setup(dev_identity), dev_identity) as signer:
        assert signer.sign_statement(statement, out) == out
    verified = verify_provenance(out, files, dev_identity, trust_config=dev_sigstore.trust_config)
    assert verified == statement
    stray = tmp_path / "stray.bin"
    stray.write_bytes(b"not released")
    with pytest.raises(VerificationError, match=r"^digest mismatch: .*stray\.bin"):
        verify_provenance(out, [stray], dev_identity, trust_config=dev_sigstore.trust_config)
    with pytest.raises(VerificationError, match=r"^wrong identity"):
        verify_provenance(out, files, STABLE_DEV, trust_config=dev_sigstore.trust_config)
    # As the stock CLI: a file verifies against a DSSE statement naming it as a subject,
    # never against one that does not; store documents take message signatures only.
    verify_file(files[0], out, dev_identity, trust_config=dev_sigstore.trust_config)
    with pytest.raises(VerificationError, match=r"^digest mismatch: .*stray\.bin .*not a subject"):
        verify_file(stray, out, dev_identity, trust_config=dev_sigstore.trust_config)
    with pytest.raises(VerificationError, match=r"^malformed bundle .*is a DSSE attestation"):
        verify_bytes(
            files[0].read_bytes(),
            out.read_bytes(),
            dev_identity,
            trust_config=dev_sigstore.trust_config,
        )
    # A provenance bundle is not an artifact bundle.
    with open_signer(dev_sigstore.setup(dev_identity), dev_identity) as signer:
        (artifact_bundle,) = signer.sign_files(files[:1])
    with pytest.raises(VerificationError, match=r"^malformed bundle .*not a DSSE provenance"):
        verify_provenance(
            artifact_bundle, files, dev_identity, trust_config=dev_sigstore.trust_config
        )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        ("tamper-artifact", r"^digest mismatch: .*artifact-0\.bin is not the artifact"),
        ("truncate-bundle", r"^malformed bundle"),
        ("non-json-bundle", r"^malformed bundle"),
        ("other-file", r"^digest mismatch"),
        ("wrong-identity", r"^wrong identity: .* signed by 'edge@dev\.invalid', expected 'x@y\.z'"),
        (
            "wrong-issuer",
            r"^wrong issuer: .* via 'https://dev\.invalid', expected 'https://o\.invalid'",
        ),
        ("missing-artifact", r"^cannot read .*missing\.bin"),
        ("missing-bundle", r"^cannot read bundle"),
    ],
)
def test_bad_inputs_are_rejected_with_one_clear_line(
    signed: tuple[Path, Path],
    dev_sigstore: DevInstance,
    dev_identity: Identity,
    tmp_path: Path,
    mutate: str,
    expected: str,
) -> None:
    artifact, bundle = signed
    identity = dev_identity
    if mutate == "tamper-artifact":
        artifact.write_bytes(artifact.read_bytes() + b"!")
    elif mutate == "truncate-bundle":
        bundle.write_bytes(bundle.read_bytes()[: len(bundle.read_bytes()) // 2])
    elif mutate == "non-json-bundle":
        bundle.write_text("<html>not a bundle</html>")
    elif mutate == "other-file":
        artifact = tmp_path / "other.bin"
        artifact.write_bytes(b"another file")
    elif mutate == "wrong-identity":
        identity = Identity("x@y.z", DEV_ISSUER)
    elif mutate == "wrong-issuer":
        identity = Identity(dev_identity.identity, "https://o.invalid")
    elif mutate == "missing-artifact":
        artifact = tmp_path / "missing.bin"
    elif mutate == "missing-bundle":
        bundle = tmp_path / "missing.sigstore.json"
    with pytest.raises(VerificationError, match=expected) as info:
        verify_file(artifact, bundle, identity, trust_config=dev_sigstore.trust_config)
    assert "\n" not in str(info.value)
    assert exit_code(info.value) == 1  # verification failed


def test_foreign_root_is_untrusted(signed: tuple[Path, Path], tmp_path: Path) -> None:
    artifact, bundle = signed
    other = start_dev_instance(tmp_path / "other-instance")
    other.dev.stop()
    with pytest.raises(VerificationError, match=r"^untrusted root"):
        verify_file(
            artifact,
            bundle,
            Identity("edge@dev.invalid", DEV_ISSUER),
            trust_config=other.trust_config,
        )


def test_dev_bundles_fail_against_public_good_root(
    signed: tuple[Path, Path], dev_identity: Identity
) -> None:
    artifact, bundle = signed
    # offline: the public-good trusted root embedded in sigstore-python, no network.
    with pytest.raises(VerificationError, match=r"^untrusted root"):
        verify_file(artifact, bundle, dev_identity, offline=True)
    with pytest.raises(VerificationError, match=r"^untrusted root"):
        verify_file(artifact, bundle, dev_identity, staging=True, offline=True)


def test_malformed_trust_config_is_a_config_error(
    signed: tuple[Path, Path], dev_identity: Identity, tmp_path: Path
) -> None:
    artifact, bundle = signed
    bad = tmp_path / "trust.json"
    bad.write_text('{"mediaType": "nope"}')
    with pytest.raises(ConfigError, match="not a valid Sigstore ClientTrustConfig"):
        verify_file(artifact, bundle, dev_identity, trust_config=bad)
    with pytest.raises(ConfigError, match="cannot read trust config"):
        verify_file(artifact, bundle, dev_identity, trust_config=tmp_path / "absent.json")


def test_verification_survives_the_server_and_keys_persist(
    tmp_path: Path, dev_identity: Identity
) -> None:
    state = tmp_path / "state"
    first = start_dev_instance(state)
    files = _files(tmp_path, 3)
    with open_signer(first.setup(dev_identity), dev_identity) as signer:
        old_bundles = signer.sign_files(files[:2])
    root_before = json.loads(first.trust_config.read_text())["trustedRoot"]
    first.dev.stop()
    # The server is gone; the trusted root alone verifies.
    verify_file(files[0], old_bundles[0], dev_identity, trust_config=first.trust_config)

    second = start_dev_instance(state)
    try:
        root_after = json.loads(second.trust_config.read_text())["trustedRoot"]
        ca_after, ca_before = (r["certificateAuthorities"][0] for r in (root_after, root_before))
        assert ca_after["certChain"] == ca_before["certChain"]
        assert root_after["tlogs"][0]["publicKey"] == root_before["tlogs"][0]["publicKey"]
        with open_signer(second.setup(dev_identity), dev_identity) as signer:
            (new_bundle,) = signer.sign_files(files[2:])
        assert int(str(_tlog(new_bundle)["logIndex"])) == 2  # the log continued
        for f, b in zip(files, [*old_bundles, new_bundle], strict=True):
            verify_file(f, b, dev_identity, trust_config=second.trust_config)
    finally:
        second.dev.stop()


def test_dev_mode_starts_an_instance_and_writes_its_trust_config(
    tmp_path: Path, dev_identity: Identity
) -> None:
    files = _files(tmp_path, 2)
    out = tmp_path / "dev-trust-config.json"
    setup = SigningSetup(mode="dev", dev_state_dir=tmp_path / "dev-state")
    with open_signer(setup, dev_identity, trust_config_out=out) as signer:
        bundles = signer.sign_files(files)
        assert signer.trust_config_path == out
    for f, b in zip(files, bundles, strict=True):
        verify_file(f, b, dev_identity, trust_config=out)
        verify_file(
            f, b, dev_identity, trust_config=tmp_path / "dev-state" / "dev-trust-config.json"
        )


def _try_open(setup: SigningSetup, expected: Identity | None) -> None:
    with open_signer(setup, expected):
        pytest.fail("the signer opened")


def test_token_for_another_identity_writes_nothing(
    dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    files = _files(tmp_path, 2)
    with pytest.raises(VerificationError, match=r"certificate is for 'stable@dev\.invalid'"):
        _try_open(dev_sigstore.setup(STABLE_DEV), Identity("edge@dev.invalid", DEV_ISSUER))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name for f in files]


def test_unreadable_file_signs_nothing(
    dev_sigstore: DevInstance, dev_identity: Identity, tmp_path: Path
) -> None:
    files = _files(tmp_path, 2)
    with open_signer(dev_sigstore.setup(dev_identity), dev_identity) as signer:
        with pytest.raises(SigningError, match=r"^cannot read .*absent\.bin"):
            signer.sign_files([files[0], tmp_path / "absent.bin", files[1]])
        with pytest.raises(SigningError, match="listed twice"):
            signer.sign_files([files[0], files[0]])
    assert not list(tmp_path.glob("*.sigstore.json"))


def test_wrong_audience_token_is_refused(dev_sigstore: DevInstance, tmp_path: Path) -> None:
    token = mint_identity_token("edge@dev.invalid", DEV_ISSUER, audience="not-sigstore")
    setup = SigningSetup(
        mode="trust-config", trust_config=dev_sigstore.trust_config, identity_token=token
    )
    with pytest.raises(SigningError, match="identity token is not usable") as info:
        _try_open(setup, None)
    assert token not in str(info.value)
    assert redact(token) == "***"


def test_without_expected_identity_the_certificate_identity_is_used(
    dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    (f,) = _files(tmp_path, 1)
    with open_signer(dev_sigstore.setup(STABLE_DEV), None) as signer:
        (b,) = signer.sign_files([f])
        assert signer.identity == STABLE_DEV
    verify_file(f, b, STABLE_DEV, trust_config=dev_sigstore.trust_config)


def test_missing_token_names_every_option() -> None:
    with pytest.raises(SigningError, match="no identity token") as info:
        resolve_identity_token(None, {})
    assert info.value.hint is not None
    for option in ("--identity-token", "SIGSTORE_IDENTITY_TOKEN", "id-token: write", "--dev"):
        assert option in info.value.hint


def test_explicit_token_wins_over_environment() -> None:
    assert resolve_identity_token("explicit-token", {"SIGSTORE_IDENTITY_TOKEN": "env"}) == (
        "explicit-token"
    )
    assert resolve_identity_token(None, {"SIGSTORE_IDENTITY_TOKEN": "env-token"}) == "env-token"
    assert redact("x env-token y") == "x *** y"


@pytest.fixture
def github_oidc(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A loopback stand-in for the GitHub Actions OIDC token endpoint."""
    seen: list[str] = []
    token = mint_identity_token(
        "https://github.com/o/r/.github/workflows/edge.yml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = json.dumps({"value": token}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-secret")
    monkeypatch.setenv(
        "ACTIONS_ID_TOKEN_REQUEST_URL", f"http://127.0.0.1:{server.server_address[1]}/token?x=1"
    )
    try:
        yield [token, *seen]
    finally:
        server.shutdown()
        server.server_close()


def test_ambient_github_actions_credential(github_oidc: list[str]) -> None:
    token = resolve_identity_token(None, {})
    assert token == github_oidc[0]
    assert redact(token) == "***"


def test_ambient_credential_without_permission_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(SigningError, match="ambient OIDC credential") as info:
        resolve_identity_token(None, {})
    assert info.value.hint is not None
    assert "id-token: write" in info.value.hint


def test_a_file_changed_after_prehash_is_hashed_again(
    dev_sigstore: DevInstance, dev_identity: Identity, tmp_path: Path
) -> None:
    import os

    from release.adapters.sigstore import prehash

    f = tmp_path / "late.bin"
    f.write_bytes(b"first content")
    prehash([f, tmp_path / "absent.bin"])
    f.write_bytes(b"second, longer content")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    with open_signer(dev_sigstore.setup(dev_identity), dev_identity) as signer:
        (bundle,) = signer.sign_files([f])
    verify_file(f, bundle, dev_identity, trust_config=dev_sigstore.trust_config)


def test_trusted_roots_are_loaded_once_until_the_file_changes(
    dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    from release.adapters.sigstore import load_trusted_root

    path = tmp_path / "trust.json"
    path.write_text(dev_sigstore.trust_config.read_text())
    first = load_trusted_root(trust_config=path)
    assert load_trusted_root(trust_config=path) is first
    path.write_text(dev_sigstore.trust_config.read_text() + "\n\n")
    assert load_trusted_root(trust_config=path) is not first
