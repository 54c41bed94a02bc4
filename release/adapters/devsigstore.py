"""A local, offline Sigstore instance: Fulcio-style CA with a CT log, and a Rekor v1 log.

Used for ``--sign dev`` releases (a dev channel keeps one root across releases
when given a ``state_dir``) and by the tests. It speaks just enough of the real
wire formats for sigstore-python to sign and verify against it unchanged:

* ``POST /api/v2/signingCert``: a short-lived leaf certificate for the identity in
  the bearer token (unsigned ``alg=none`` JWTs are accepted: this CA trusts its
  caller), with an SCT embedded from the CT log key (RFC 6962 precertificate form).
* ``POST /api/v1/log/entries``: a Rekor v1 entry on an RFC 6962 Merkle tree, with a
  signed entry timestamp, an inclusion proof and a signed checkpoint.
  ``GET /api/v1/log``, ``GET /api/v1/log/entries/{uuid}`` and
  ``GET /api/v1/log/entries?logIndex=N`` serve what a Rekor client asks for.

:meth:`DevSigstore.trust_config` is a ClientTrustConfig JSON. Its trusted root
alone verifies bundles offline, after the server has stopped. Nothing here uses
sigstore-python; only ``cryptography`` and ``rfc8785`` (both sigstore deps).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from release.errors import SigningError
from release.files import create_once, write_atomic

DEV_ISSUER = "https://dev.invalid"
OPERATOR = "release-channels-dev"
CA_NAME = "release-channels dev CA"
CHECKPOINT_NAME = "dev.invalid"
LEAF_VALIDITY = timedelta(minutes=10)

_OID_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OID_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_OID_SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_DER = serialization.Encoding.DER


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    return hashlib.sha256(_spki(key)).digest()


def mint_identity_token(
    identity: str,
    issuer: str = DEV_ISSUER,
    *,
    audience: str = "sigstore",
    lifetime: timedelta = timedelta(minutes=10),
    now: datetime | None = None,
) -> str:
    """An unsigned (``alg=none``) OIDC token for ``identity`` at ``issuer``.

    Only a :class:`DevSigstore` accepts it; Fulcio proper verifies signatures.
    """
    moment = int((now or datetime.now(UTC)).timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": identity,
        "aud": audience,
        "iat": moment,
        "nbf": moment,
        "exp": moment + int(lifetime.total_seconds()),
    }
    if "@" in identity and "://" not in identity:
        claims["email"] = identity
        claims["email_verified"] = True
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."


# --- RFC 6962 Merkle tree -------------------------------------------------------


def _leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """An append-only RFC 6962 tree over leaf hashes (root, inclusion proofs)."""

    def __init__(self) -> None:
        self.leaves: list[bytes] = []
        self._full: dict[tuple[int, int], bytes] = {}  # complete subtrees never change

    def append(self, leaf_hash: bytes) -> int:
        self.leaves.append(leaf_hash)
        return len(self.leaves) - 1

    def _hash(self, start: int, size: int) -> bytes:
        if size == 0:
            return hashlib.sha256(b"").digest()
        if size == 1:
            return self.leaves[start]
        cached = self._full.get((start, size))
        if cached is not None:
            return cached
        k = 1 << ((size - 1).bit_length() - 1)  # largest power of two < size
        digest = _node_hash(self._hash(start, k), self._hash(start + k, size - k))
        if size & (size - 1) == 0:
            self._full[(start, size)] = digest
        return digest

    def root(self, size: int | None = None) -> bytes:
        return self._hash(0, len(self.leaves) if size is None else size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 6962 section 2.1.1, leaf to root."""
        if not 0 <= index < size <= len(self.leaves):
            raise ValueError(f"no leaf {index} in a tree of size {size}")
        path: list[bytes] = []
        start, m, n = 0, index, size
        while n > 1:
            k = 1 << ((n - 1).bit_length() - 1)
            if m < k:
                path.append(self._hash(start + k, n - k))
                n = k
            else:
                path.append(self._hash(start, k))
                start, m, n = start + k, m - k, n - k
        path.reverse()
        return path


# --- keys and certificates -------------------------------------------------------


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SigningError(f"cannot load dev Sigstore key {path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningError(f"{path} is not an EC private key")
    return key


def _load_or_make_key(state_dir: Path | None, name: str) -> ec.EllipticCurvePrivateKey:
    path = None if state_dir is None else state_dir / f"{name}.key.pem"
    if path is not None and path.exists():
        return _load_key(path)
    key = ec.generate_private_key(ec.SECP256R1())
    if path is not None:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if not _publish_once(path, pem, mode=0o600):
            return _load_key(path)  # another process created it first: use theirs
    return key


def _publish_once(path: Path, data: bytes, *, mode: int = 0o644) -> bool:
    """Create ``path`` with ``data`` atomically unless it exists; False if it did."""
    return create_once(path, data, durable=False, mode=mode)


def _atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    write_atomic(path, data, durable=False, mode=mode)


def _make_ca(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, OPERATOR),
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def _load_or_make_ca(state_dir: Path | None, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    path = None if state_dir is None else state_dir / "ca.crt.pem"
    for _ in range(2):
        if path is not None and path.exists():
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            if cert.public_key() == key.public_key():
                return cert
            raise SigningError(f"{path} does not belong to the CA key next to it")
        cert = _make_ca(key, datetime.now(UTC))
        if path is None or _publish_once(path, cert.public_bytes(serialization.Encoding.PEM)):
            return cert
    raise SigningError(f"cannot create the dev CA certificate {path}")


def _sct_signed_data(timestamp_ms: int, issuer_key_hash: bytes, tbs: bytes) -> bytes:
    # RFC 6962 3.2 digitally-signed struct for a precert_entry, no extensions.
    return (
        struct.pack("!BBQH", 0, 0, timestamp_ms, 1)
        + issuer_key_hash
        + len(tbs).to_bytes(3, "big")
        + tbs
        + struct.pack("!H", 0)
    )


def _sct_list_extension(log_id: bytes, timestamp_ms: int, signature: bytes) -> bytes:
    sct = (
        struct.pack("!B", 0)
        + log_id
        + struct.pack("!QH", timestamp_ms, 0)
        + struct.pack("!BBH", 4, 3, len(signature))  # sha256, ecdsa
        + signature
    )
    item = struct.pack("!H", len(sct)) + sct
    return _der(0x04, struct.pack("!H", len(item)) + item)  # OCTET STRING(TLS list)


# --- the instance ----------------------------------------------------------------


class DevSigstore:
    """A Fulcio + CT log + Rekor v1 instance on 127.0.0.1 (ephemeral port).

    Use as a context manager (``with DevSigstore(state_dir) as dev:``) or call
    :meth:`start` / :meth:`stop`. With ``state_dir`` the CA, CT and Rekor keys and
    the log's leaves persist across runs, so one trusted root verifies every
    bundle this instance ever made. Raises :class:`SigningError` on unusable state.
    """

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir
        if state_dir is not None:
            try:
                state_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SigningError(f"cannot create dev Sigstore state {state_dir}: {exc}") from exc
        self.ca_key = _load_or_make_key(state_dir, "ca")
        self.ct_key = _load_or_make_key(state_dir, "ctlog")
        self.rekor_key = _load_or_make_key(state_dir, "rekor")
        self.ca_cert = _load_or_make_ca(state_dir, self.ca_key)
        self.valid_from = self.ca_cert.not_valid_before_utc
        self.ct_log_id = _key_id(self.ct_key.public_key())
        self.rekor_log_id = _key_id(self.rekor_key.public_key())
        self._ca_key_hash = _key_id(self.ca_key.public_key())
        self._ski = x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key())
        self.tree = MerkleTree()
        self.entries: list[tuple[str, int]] = []  # (base64 body, integratedTime)
        self._uuids: dict[str, int] = {}
        self._lock = threading.Lock()
        self._log_offset = 0
        self._load_log()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.cert_requests = 0

    # -- lifecycle --
    def start(self) -> DevSigstore:
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
            self._server.daemon_threads = True
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # a quick stop()
                name="devsigstore",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DevSigstore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise SigningError("the dev Sigstore instance is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- trust material --
    def trusted_root(self) -> dict[str, Any]:
        """The trusted root (keys + CA) as a JSON-ready dict; valid without the server."""
        start = {"start": _rfc3339(self.valid_from)}
        base = self.url if self._server is not None else "http://127.0.0.1"

        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, Any]:
            pub = key.public_key()
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(_spki(pub)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": start,
                },
                "logId": {"keyId": _b64(_key_id(pub))},
            }

        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(self.rekor_key, base)],
            "certificateAuthorities": [
                {
                    "subject": {"organization": OPERATOR, "commonName": CA_NAME},
                    "uri": base,
                    "certChain": {
                        "certificates": [{"rawBytes": _b64(self.ca_cert.public_bytes(_DER))}]
                    },
                    "validFor": {
                        "start": _rfc3339(self.valid_from),
                        "end": _rfc3339(self.ca_cert.not_valid_after_utc),
                    },
                }
            ],
            "ctlogs": [log(self.ct_key, base)],
            "timestampAuthorities": [],
        }

    def signing_config(self) -> dict[str, Any]:
        def service(url: str) -> dict[str, Any]:
            return {
                "url": url,
                "majorApiVersion": 1,
                "validFor": {"start": _rfc3339(self.valid_from)},
                "operator": OPERATOR,
            }

        return {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(self.url)],
            "oidcUrls": [],
            "rekorTlogUrls": [service(self.url)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        }

    def trust_config(self) -> dict[str, Any]:
        """A ClientTrustConfig for this instance (the signing part needs it running)."""
        return {
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": self.trusted_root(),
            "signingConfig": self.signing_config(),
        }

    def write_trust_config(self, path: Path) -> Path:
        """Write :meth:`trust_config` atomically to ``path``."""
        data = json.dumps(self.trust_config(), indent=2).encode() + b"\n"
        _atomic_write(path, data)
        return path

    def mint_token(self, identity: str, issuer: str = DEV_ISSUER) -> str:
        return mint_identity_token(identity, issuer)

    # -- Fulcio --
    def issue_certificate(self, token: str, csr_pem: bytes) -> list[str]:
        """Issue a leaf for the token's identity; returns the PEM chain, leaf first."""
        claims = _token_claims(token)
        identity = str(claims.get("email") or claims["sub"])
        issuer = str(claims["iss"])
        csr = x509.load_pem_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise ValueError("CSR signature is invalid")
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise ValueError("only EC keys are supported")
        now = datetime.now(UTC).replace(microsecond=0)
        if "@" in identity and "://" not in identity:
            san: x509.GeneralName = x509.RFC822Name(identity)
        else:
            san = x509.UniformResourceIdentifier(identity)
        issuer_bytes = issuer.encode()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + LEAF_VALIDITY)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ski), False
            )
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
            .add_extension(x509.UnrecognizedExtension(_OID_ISSUER_V1, issuer_bytes), False)
            .add_extension(
                x509.UnrecognizedExtension(_OID_ISSUER_V2, _der(0x0C, issuer_bytes)), False
            )
        )
        # The SCT signs the TBS without the SCT extension: build it twice, same fields.
        precert = builder.sign(self.ca_key, hashes.SHA256())
        timestamp_ms = int(time.time() * 1000)
        signature = self.ct_key.sign(
            _sct_signed_data(timestamp_ms, self._ca_key_hash, precert.tbs_certificate_bytes),
            ec.ECDSA(hashes.SHA256()),
        )
        leaf = builder.add_extension(
            x509.UnrecognizedExtension(
                _OID_SCT_LIST, _sct_list_extension(self.ct_log_id, timestamp_ms, signature)
            ),
            critical=False,
        ).sign(self.ca_key, hashes.SHA256())
        with self._lock:
            self.cert_requests += 1
        return [c.public_bytes(serialization.Encoding.PEM).decode() for c in (leaf, self.ca_cert)]

    # -- Rekor v1 --
    def add_entry(self, proposed: Mapping[str, Any]) -> dict[str, Any]:
        """Integrate a proposed hashedrekord or dsse entry; the Rekor v1 response."""
        body = _canonical_body(proposed)
        body_b64 = _b64(body)
        leaf = _leaf_hash(body)
        with self._lock, self._shared_log() as append:
            integrated = int(time.time())
            index = self._integrate(leaf, body_b64, integrated)
            append(json.dumps({"body": body_b64, "integratedTime": integrated}) + "\n")
            return self._entry_response(index)

    def entry_by_uuid(self, uuid: str) -> dict[str, Any] | None:
        with self._lock:
            index = self._uuids.get(uuid[-64:])
            return None if index is None else self._entry_response(index)

    def entry_by_index(self, index: int) -> dict[str, Any] | None:
        with self._lock:
            if not 0 <= index < len(self.entries):
                return None
            return self._entry_response(index)

    def log_info(self) -> dict[str, Any]:
        with self._lock:
            size = len(self.tree.leaves)
            root = self.tree.root(size)
            return {
                "rootHash": root.hex(),
                "treeSize": size,
                "signedTreeHead": self._checkpoint(size, root),
                "treeID": str(int.from_bytes(self.rekor_log_id[:8], "big") >> 1),
            }

    def _entry_response(self, index: int) -> dict[str, Any]:
        import rfc8785

        body_b64, integrated = self.entries[index]
        size = len(self.tree.leaves)
        root = self.tree.root(size)
        log_id = self.rekor_log_id.hex()
        set_payload = rfc8785.dumps(
            {"body": body_b64, "integratedTime": integrated, "logID": log_id, "logIndex": index}
        )
        set_sig = self.rekor_key.sign(set_payload, ec.ECDSA(hashes.SHA256()))
        uuid = self.tree.leaves[index].hex()
        return {
            uuid: {
                "body": body_b64,
                "integratedTime": integrated,
                "logID": log_id,
                "logIndex": index,
                "verification": {
                    "signedEntryTimestamp": _b64(set_sig),
                    "inclusionProof": {
                        "logIndex": index,
                        "treeSize": size,
                        "rootHash": root.hex(),
                        "hashes": [h.hex() for h in self.tree.inclusion_proof(index, size)],
                        "checkpoint": self._checkpoint(size, root),
                    },
                },
            }
        }

    def _checkpoint(self, size: int, root: bytes) -> str:
        origin = f"{CHECKPOINT_NAME} - {int.from_bytes(self.rekor_log_id[:8], 'big') >> 1}"
        note = f"{origin}\n{size}\n{_b64(root)}\n"
        sig = self.rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        return f"{note}\n\u2014 {CHECKPOINT_NAME} {_b64(self.rekor_log_id[:4] + sig)}\n"

    def _log_path(self) -> Path | None:
        return None if self.state_dir is None else self.state_dir / "log.jsonl"

    def _integrate(self, leaf: bytes, body_b64: str, integrated: int) -> int:
        index = self.tree.append(leaf)
        self.entries.append((body_b64, integrated))
        self._uuids[leaf.hex()] = index
        return index

    def _ingest(self, data: bytes) -> int:
        """Integrate complete records from ``data``; the number of bytes consumed."""
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            try:
                record = json.loads(line)
                body_b64, integrated = str(record["body"]), int(record["integratedTime"])
                body = base64.b64decode(body_b64, validate=True)
            except (ValueError, KeyError, TypeError):
                continue  # a torn line from an interrupted run
            self._integrate(_leaf_hash(body), body_b64, integrated)
        return end

    def _load_log(self) -> None:
        path = self._log_path()
        if path is not None and path.exists():
            self._log_offset = self._ingest(path.read_bytes())

    @contextmanager
    def _shared_log(self) -> Iterator[Callable[[str], None]]:
        """Lock the persisted log, catch up with other processes' entries, then append.

        Several processes may share one state directory (a release and a
        concurrent verify-and-sign); the file lock keeps one linear log.
        """
        path = self._log_path()
        if path is None:
            yield lambda line: None
            return
        with path.open("a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.seek(self._log_offset)
                rest = fh.read()
                self._log_offset += self._ingest(rest)
                torn = bool(rest) and not rest.endswith(b"\n")

                def append(line: str) -> None:
                    fh.seek(0, os.SEEK_END)
                    fh.write((b"\n" if torn else b"") + line.encode())
                    fh.flush()
                    self._log_offset = fh.tell()

                yield append
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _token_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise ValueError("identity token is not a JWT") from exc
    if not isinstance(claims, dict):
        raise ValueError("identity token claims are not an object")
    now = time.time()
    for claim in ("iss", "sub", "aud", "exp"):
        if claim not in claims:
            raise ValueError(f"identity token lacks the {claim!r} claim")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if "sigstore" not in audiences:
        raise ValueError("identity token audience is not 'sigstore'")
    if float(claims["exp"]) < now:
        raise ValueError("identity token has expired")
    return claims


def _canonical_body(proposed: Mapping[str, Any]) -> bytes:
    """Rekor's canonical form of a hashedrekord/0.0.1 or dsse/0.0.1 proposed entry."""
    import rfc8785

    kind, version = proposed.get("kind"), proposed.get("apiVersion")
    spec = proposed.get("spec")
    if version != "0.0.1" or not isinstance(spec, Mapping):
        raise ValueError(f"unsupported entry {kind}/{version}")
    if kind == "hashedrekord":
        signature = spec["signature"]
        data = spec["data"]["hash"]
        canonical: dict[str, Any] = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": data["algorithm"], "value": data["value"]}},
                "signature": {
                    "content": signature["content"],
                    "publicKey": {"content": signature["publicKey"]["content"]},
                },
            },
        }
    elif kind == "dsse":
        content = spec["proposedContent"]
        envelope_text = content["envelope"]
        envelope = json.loads(envelope_text)
        payload = base64.b64decode(envelope["payload"])
        verifier = content["verifiers"][0]
        canonical = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(envelope_text.encode()).hexdigest(),
                },
                "payloadHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(payload).hexdigest(),
                },
                "signatures": sorted(
                    ({"signature": s["sig"], "verifier": verifier} for s in envelope["signatures"]),
                    key=lambda s: str(s["signature"]),
                ),
            },
        }
    else:
        raise ValueError(f"unsupported entry kind {kind!r}")
    return bytes(rfc8785.dumps(canonical))


def _make_handler(dev: DevSigstore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without TCP_NODELAY the body waits
        # for the client's delayed ACK (~40 ms per request on Linux).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean; tokens never reach a log

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"null")

        def do_POST(self) -> None:
            try:
                payload = self._body()
                if self.path == "/api/v2/signingCert":
                    auth = self.headers.get("Authorization", "")
                    if not auth.startswith("Bearer "):
                        self._send(401, {"code": 401, "message": "missing bearer token"})
                        return
                    csr = base64.b64decode(payload["certificateSigningRequest"])
                    chain = dev.issue_certificate(auth[len("Bearer ") :], csr)
                    self._send(
                        201, {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}
                    )
                elif self.path == "/api/v1/log/entries":
                    self._send(201, dev.add_entry(payload))
                else:
                    self._send(404, {"code": 404, "message": f"no route {self.path}"})
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, {"code": 400, "message": str(exc)})

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == "/api/v1/log":
                self._send(200, dev.log_info())
                return
            found: dict[str, Any] | None = None
            if path == "/api/v1/log/entries" and query.startswith("logIndex="):
                try:
                    found = dev.entry_by_index(int(query.split("=", 1)[1]))
                except ValueError:
                    found = None
            elif path.startswith("/api/v1/log/entries/"):
                found = dev.entry_by_uuid(path.rsplit("/", 1)[1])
            if found is None:
                self._send(404, {"code": 404, "message": "entry not found"})
            else:
                self._send(200, found)

    return Handler
