"""Sign and verify with sigstore-python: artifacts, DSSE statements, ambient OIDC.

Everything sigstore raises is translated into :class:`SigningError` (could not
sign) or :class:`VerificationError` (a bundle does not prove what it should),
each with one line that says which check failed: digest mismatch, wrong
identity, wrong issuer, untrusted root, malformed bundle or unreadable file.

Signing always verifies: :func:`open_signer` yields a :class:`ReleaseSigner`
whose bundles are checked against the expected identity and the trusted root
before anything is written; a failed check writes nothing.

sigstore-python is imported inside functions so read paths stay light.
``SigningContext.from_trust_config`` is marked ``@api private`` upstream and a few
private attributes are used below; sigstore is pinned ``>=4.5,<4.6`` for that.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from release.checksums import sha256_stream
from release.config import Identity
from release.errors import ConfigError, SigningError, VerificationError
from release.files import write_atomic
from release.logging import register_secret

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

SigningMode = Literal["sigstore", "staging", "dev", "trust-config"]
MODES: tuple[str, ...] = ("sigstore", "staging", "dev", "trust-config")
BUNDLE_SUFFIX = ".sigstore.json"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
DEV_TRUST_CONFIG_NAME = "dev-trust-config.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SigningSetup:
    """How to sign: which Sigstore instance, which token, where dev state lives.

    ``mode``: ``sigstore`` (public good), ``staging``, ``trust-config`` (the
    instance a ClientTrustConfig file describes) or ``dev`` (a local
    :class:`~release.adapters.devsigstore.DevSigstore` keeping its keys in
    ``dev_state_dir``). Raises :class:`SigningError` on inconsistent fields.
    """

    mode: str = "sigstore"  # one of MODES, checked in __post_init__
    trust_config: Path | None = None
    identity_token: str | None = None
    dev_state_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SigningError(f"unknown signing mode {self.mode!r}", hint=f"one of {MODES}")
        if self.mode == "trust-config" and self.trust_config is None:
            raise SigningError("signing mode trust-config needs a trust config file")
        register_secret(self.identity_token)


def preload() -> None:
    """Import the sigstore modules signing needs, with the cyclic GC paused.

    A CLI calls this once before signing: importing sigstore builds thousands of
    pydantic objects, and collections during the import only re-scan them (about
    6% of a 50-file ``release sign``). Afterwards they are frozen out of future
    collections and the GC runs normally again.
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        import sigstore.dsse
        import sigstore.models
        import sigstore.sign
        import sigstore.verify  # noqa: F401
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def bundle_path(artifact: Path) -> Path:
    """Where the bundle of ``artifact`` lives: ``<artifact>.sigstore.json``."""
    return artifact.with_name(artifact.name + BUNDLE_SUFFIX)


def default_dev_state_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_STATE_HOME/release-channels/dev-sigstore`` (``~/.local/state`` by default)."""
    home = Path(env.get("HOME", "~")).expanduser()
    base = env.get("XDG_STATE_HOME") or str(home / ".local" / "state")
    return Path(base) / "release-channels" / "dev-sigstore"


def is_dev_trust_config(path: Path) -> bool:
    """Whether ``path`` is a trust config written for a local dev instance."""
    from release.adapters.devsigstore import OPERATOR

    try:
        data = json.loads(path.read_text())
        cas = data["trustedRoot"]["certificateAuthorities"]
        return any(ca.get("subject", {}).get("organization") == OPERATOR for ca in cas)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def resolve_identity_token(explicit: str | None, env: Mapping[str, str]) -> str:
    """The OIDC token to sign with, never asking interactively.

    Order: ``explicit`` (``--identity-token``), ``SIGSTORE_IDENTITY_TOKEN``, then an
    ambient CI credential (GitHub Actions with ``id-token: write``, GitLab, …) via
    ``id.detect_credential``. Raises :class:`SigningError` when none is available.
    """
    token = explicit or env.get("SIGSTORE_IDENTITY_TOKEN")
    if not token:
        import id as oidc_id

        try:
            token = oidc_id.detect_credential(audience="sigstore")
        except oidc_id.IdentityError as exc:
            raise SigningError(
                f"ambient OIDC credential could not be retrieved: {exc}",
                hint="in GitHub Actions grant `permissions: id-token: write`",
            ) from exc
    if not token:
        raise SigningError(
            "no identity token for signing",
            hint="pass --identity-token, set SIGSTORE_IDENTITY_TOKEN, run in CI with "
            "id-token: write, or sign with --dev",
        )
    register_secret(token)
    return token


# --- trust material ---------------------------------------------------------------


TRUST_CONFIG = "trust-config"
TRUSTED_ROOT = "trusted-root"


def trust_file_kind(raw: str | bytes) -> str | None:
    """``"trust-config"`` (a ClientTrustConfig), ``"trusted-root"`` or None (neither).

    Decided by the media type, else by the top-level keys each format requires.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    media = str(data.get("mediaType", ""))
    if media.startswith("application/vnd.dev.sigstore.clienttrustconfig"):
        return TRUST_CONFIG
    if media.startswith("application/vnd.dev.sigstore.trustedroot"):
        return TRUSTED_ROOT
    if "trustedRoot" in data and "signingConfig" in data:
        return TRUST_CONFIG
    if "certificateAuthorities" in data or "tlogs" in data:
        return TRUSTED_ROOT
    return None


def _wrong_format(path: Path, raw: str, wanted: str) -> None:
    """Raise ConfigError when ``raw`` is the other trust format than ``wanted``."""
    kind = trust_file_kind(raw)
    if kind == TRUSTED_ROOT and wanted == TRUST_CONFIG:
        raise ConfigError(
            f"{path} is a Sigstore trusted root, not a ClientTrustConfig",
            hint=f"pass it with --trusted-root {path}",
        )
    if kind == TRUST_CONFIG and wanted == TRUSTED_ROOT:
        raise ConfigError(
            f"{path} is a Sigstore ClientTrustConfig, not a trusted root",
            hint=f"pass it with --trust-config {path}",
        )


def _load_trust_config(path: Path) -> Any:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig

    try:
        raw = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read trust config {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not a valid Sigstore ClientTrustConfig: not text") from exc
    _wrong_format(path, raw, TRUST_CONFIG)
    try:
        return ClientTrustConfig.from_json(raw)
    except (SigstoreError, ValueError) as exc:
        raise ConfigError(
            f"{path} is not a valid Sigstore ClientTrustConfig: {_first(exc)}"
        ) from exc


def _signing_trust_config(setup: SigningSetup) -> Any:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig

    if setup.mode == "trust-config":
        assert setup.trust_config is not None
        return _load_trust_config(setup.trust_config)
    try:
        if setup.mode == "staging":
            return ClientTrustConfig.staging()
        return ClientTrustConfig.production()
    except SigstoreError as exc:
        raise SigningError(f"cannot load the Sigstore {setup.mode} trust root: {exc}") from exc


_ROOTS: dict[tuple[object, ...], Any] = {}
_ROOTS_LOCK = threading.Lock()


def load_trusted_root(
    *,
    trust_config: Path | None = None,
    trusted_root: Path | None = None,
    staging: bool = False,
    offline: bool = False,
) -> Any:
    """The ``TrustedRoot`` to verify with; public good unless told otherwise.

    Loaded once per process (files: until they change), so verifying many
    documents does not refresh the public-good TUF repository each time.
    Raises :class:`ConfigError` when the given file is unreadable or malformed.
    """
    source = trusted_root or trust_config
    try:
        stamp = (source.stat().st_mtime_ns, source.stat().st_size) if source else ()
    except OSError:
        stamp = ()  # reported by the loader below
    key = (trusted_root, trust_config, staging, offline, *stamp)
    with _ROOTS_LOCK:
        cached = _ROOTS.get(key)
    if cached is None:
        cached = _load_trusted_root(trust_config, trusted_root, staging, offline)
        if stamp or source is None:
            with _ROOTS_LOCK:
                _ROOTS[key] = cached
    return cached


_SPECS: dict[str, Any] = {}


def trusted_root_for_spec(spec: str) -> Any:
    """The ``TrustedRoot`` a trust spec names: ``production``, ``staging`` or the
    JSON text of a ClientTrustConfig (a private or dev instance).

    Loaded once per process and spec. Raises :class:`ConfigError` when the spec is
    neither name nor a valid ClientTrustConfig.
    """
    with _ROOTS_LOCK:
        cached = _SPECS.get(spec)
    if cached is not None:
        return cached
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig

    try:
        if spec == "production":
            cached = ClientTrustConfig.production().trusted_root
        elif spec == "staging":
            cached = ClientTrustConfig.staging().trusted_root
        else:
            cached = ClientTrustConfig.from_json(spec).trusted_root
    except (SigstoreError, ValueError) as exc:
        raise ConfigError(f"unusable Sigstore trust {_describe_spec(spec)}: {_first(exc)}") from exc
    with _ROOTS_LOCK:
        _SPECS[spec] = cached
    return cached


def _describe_spec(spec: str) -> str:
    return spec if spec in ("production", "staging") else "(a ClientTrustConfig)"


def _load_trusted_root(
    trust_config: Path | None, trusted_root: Path | None, staging: bool, offline: bool
) -> Any:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig, TrustedRoot
    from sigstore_models.trustroot import v1 as trustroot_v1

    if trusted_root is not None:
        try:
            raw = trusted_root.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read trusted root {trusted_root}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{trusted_root} is not a valid trusted root: not text") from exc
        _wrong_format(trusted_root, raw, TRUSTED_ROOT)
        try:
            return TrustedRoot(trustroot_v1.TrustedRoot.from_json(raw))
        except (SigstoreError, ValueError) as exc:
            raise ConfigError(f"{trusted_root} is not a valid trusted root: {_first(exc)}") from exc
    if trust_config is not None:
        return _load_trust_config(trust_config).trusted_root
    try:
        config = (
            ClientTrustConfig.staging(offline=offline)
            if staging
            else ClientTrustConfig.production(offline=offline)
        )
    except SigstoreError as exc:
        which = "staging" if staging else "public-good"
        raise ConfigError(
            f"cannot load the Sigstore {which} trusted root: {exc}",
            hint="pass --offline to use the embedded root, or --trusted-root FILE",
        ) from exc
    return config.trusted_root


# --- verification -----------------------------------------------------------------


def _first(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def certificate_identity(cert: Certificate) -> Identity:
    """The (SAN, OIDC issuer) a Fulcio certificate was issued for."""
    from cryptography import x509
    from cryptography.x509.oid import ObjectIdentifier

    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names: list[str] = []
    else:
        names = [
            *sans.get_values_for_type(x509.RFC822Name),
            *sans.get_values_for_type(x509.UniformResourceIdentifier),
        ]
    issuer = ""
    for oid, v2 in (("1.3.6.1.4.1.57264.1.8", True), ("1.3.6.1.4.1.57264.1.1", False)):
        try:
            ext = cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value
        except x509.ExtensionNotFound:
            continue
        raw: bytes = getattr(ext, "value", b"")
        issuer = (_der_string(raw) if v2 else raw).decode(errors="replace")
        break
    return Identity(names[0] if names else "", issuer)


def _der_string(raw: bytes) -> bytes:
    """The content of a DER UTF8String (the v2 Fulcio extensions)."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return raw
    if raw[1] < 0x80:
        return raw[2 : 2 + raw[1]]
    width = raw[1] & 0x7F
    length = int.from_bytes(raw[2 : 2 + width], "big")
    return raw[2 + width : 2 + width + length]


def _parse_bundle(bundle_bytes: bytes, label: str) -> Any:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle

    try:
        return Bundle.from_json(bundle_bytes)
    except (SigstoreError, ValueError, KeyError, TypeError) as exc:
        raise VerificationError(
            f"malformed bundle {label}: {_first(exc)}",
            hint="expected a Sigstore bundle (*.sigstore.json) as written by `release sign`",
        ) from exc


def _explain(exc: BaseException, bundle: Any, expected: Identity, name: str, label: str) -> str:
    """One line naming the check that failed."""
    text = _first(exc)
    actual = certificate_identity(bundle.signing_certificate)
    if "OIDCIssuer" in text:
        return (
            f"wrong issuer: {label} was signed via {actual.issuer!r}, expected {expected.issuer!r}"
        )
    if "SANs do not match" in text:
        return (
            f"wrong identity: {label} was signed by {actual.identity!r}, "
            f"expected {expected.identity!r}"
        )
    if any(
        marker in text
        for marker in ("digest mismatch", "Signature is invalid for input", "inconsistent with")
    ):
        return f"digest mismatch: {name} is not the artifact {label} signs"
    if "DSSE: invalid signature" in text:
        return f"invalid signature: the DSSE envelope in {label} was altered after signing"
    if any(
        marker in text
        for marker in ("certificate chain", "SCT", "invalid log entry", "keyring", "checkpoint")
    ):
        return f"untrusted root: {label} does not chain to the trusted root ({text})"
    return f"{label} does not verify: {text}"


def _policy(expected: Identity) -> Any:
    from sigstore.verify import policy

    return policy.Identity(identity=expected.identity, issuer=expected.issuer)


def _verify_artifact_with(
    verifier: Any,
    data: Any,
    bundle: Any,
    expected: Identity,
    name: str,
    label: str,
    *,
    allow_dsse: bool = False,
) -> None:
    """Verify a message-signature bundle over ``data`` (raw bytes or ``Hashed``).

    With ``allow_dsse`` a DSSE bundle is accepted as the stock ``sigstore verify``
    CLI accepts it: its signature, certificate and log entry verify for ``expected``,
    its payload is an in-toto statement, and one of its subjects has ``data``'s
    sha256. Documents of the channel store keep ``allow_dsse=False``.
    """
    from sigstore.errors import Error as SigstoreError

    if bundle._dsse_envelope is not None:
        if not allow_dsse:
            raise VerificationError(
                f"malformed bundle {label}: it is a DSSE attestation, not a signature over a file",
                hint="verify provenance with `release verify --provenance BUNDLE FILE…`",
            )
        _verify_dsse_subject(verifier, data, bundle, expected, name, label)
        return
    try:
        verifier.verify_artifact(data, bundle, _policy(expected))
    except (SigstoreError, ValueError) as exc:
        raise VerificationError(_explain(exc, bundle, expected, name, label)) from exc


def _verify_dsse_subject(
    verifier: Any, data: Any, bundle: Any, expected: Identity, name: str, label: str
) -> None:
    """A DSSE bundle proves ``data`` when an in-toto subject carries its sha256."""
    from sigstore import dsse
    from sigstore.errors import Error as SigstoreError
    from sigstore.hashes import Hashed

    try:
        payload_type, payload = verifier.verify_dsse(bundle, _policy(expected))
    except (SigstoreError, ValueError, AttributeError) as exc:
        raise VerificationError(_explain(exc, bundle, expected, name, label)) from exc
    if payload_type != INTOTO_PAYLOAD_TYPE:
        raise VerificationError(
            f"{label} is a DSSE envelope carrying {payload_type!r}, not an in-toto statement"
        )
    try:
        statement = dsse.Statement(payload)
    except (SigstoreError, ValueError) as exc:
        raise VerificationError(
            f"{label}: the signed statement is malformed: {_first(exc)}"
        ) from exc
    digest = data.digest if isinstance(data, Hashed) else hashlib.sha256(data).digest()
    hashed = data if isinstance(data, Hashed) else _hashed(digest)
    if not statement._matches_digest(hashed):
        raise VerificationError(
            f"digest mismatch: {name} (sha256 {digest.hex()[:12]}…) is not a subject of "
            f"the in-toto statement {label} signs"
        )


def _verify_dsse_with(verifier: Any, bundle: Any, expected: Identity, label: str) -> dict[str, Any]:
    from sigstore.errors import Error as SigstoreError

    if bundle._dsse_envelope is None:
        raise VerificationError(
            f"malformed bundle {label}: it signs a file, it is not a DSSE provenance attestation",
            hint="verify an artifact with `release verify FILE --bundle BUNDLE`",
        )
    try:
        payload_type, payload = verifier.verify_dsse(bundle, _policy(expected))
    except (SigstoreError, ValueError, AttributeError) as exc:
        raise VerificationError(_explain(exc, bundle, expected, "statement", label)) from exc
    if payload_type != INTOTO_PAYLOAD_TYPE:
        raise VerificationError(f"{label} carries {payload_type!r}, not an in-toto statement")
    try:
        statement = json.loads(payload)
    except ValueError as exc:
        raise VerificationError(f"{label}: the signed statement is not JSON") from exc
    if not isinstance(statement, dict):
        raise VerificationError(f"{label}: the signed statement is not a JSON object")
    return statement


def _verifier(trusted_root: Any) -> Any:
    from sigstore.errors import Error as SigstoreError
    from sigstore.verify import Verifier

    try:
        return Verifier(trusted_root=trusted_root)
    except SigstoreError as exc:
        raise ConfigError(f"unusable trusted root: {exc}") from exc


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerificationError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def _sha256_file(path: Path) -> bytes:
    """Raw SHA-256 of ``path`` (the pipeline's streaming hasher). Raises OSError."""
    return bytes.fromhex(sha256_stream(path)[1])


_PREHASH_LOCK = threading.Lock()
_PREHASHED: dict[tuple[str, int, int, int], Future[bytes]] = {}


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def prehash(paths: Sequence[Path], *, max_workers: int = 4) -> None:
    """Start hashing ``paths`` in background threads (hashlib releases the GIL).

    Call it before :func:`open_signer` so digests are ready while sigstore is
    imported and the certificate is fetched. Signing uses a digest only if the
    file's size, mtime and inode are unchanged; otherwise it hashes again.
    Unreadable files are skipped here and reported by the signer.
    """
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="prehash")
    for path in paths:
        try:
            key = _stat_key(Path(path))
        except OSError:
            continue
        with _PREHASH_LOCK:
            _PREHASHED[key] = pool.submit(_sha256_file, Path(path))
    pool.shutdown(wait=False)


def _file_digest(path: Path) -> bytes:
    """sha256 of ``path``, from :func:`prehash` when still valid. Raises OSError."""
    key = _stat_key(path)
    with _PREHASH_LOCK:
        pending = _PREHASHED.pop(key, None)
    if pending is not None:
        try:
            return pending.result()
        except OSError:
            pass
    return _sha256_file(path)


def _hashed(digest: bytes) -> Any:
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest)


def verify_bytes(
    data: bytes,
    bundle_bytes: bytes,
    expected: Identity,
    *,
    trust_config: Path | None = None,
    trusted_root: Path | None = None,
    staging: bool = False,
    offline: bool = False,
    name: str = "artifact",
    label: str = "bundle",
) -> None:
    """Verify in-memory ``data`` against an in-memory bundle for exactly ``expected``.

    Raises :class:`VerificationError` (one line) or :class:`ConfigError` (trust material).
    """
    root = load_trusted_root(
        trust_config=trust_config, trusted_root=trusted_root, staging=staging, offline=offline
    )
    bundle = _parse_bundle(bundle_bytes, label)
    _verify_artifact_with(_verifier(root), data, bundle, expected, name, label)


def verify_bytes_with_spec(
    data: bytes,
    bundle_bytes: bytes,
    expected: Identity,
    spec: str,
    *,
    name: str = "data",
    label: str = "bundle",
) -> None:
    """:func:`verify_bytes` with the trust named by a spec (see :func:`trusted_root_for_spec`).

    Raises :class:`VerificationError` (one line) or :class:`ConfigError` (trust material).
    """
    root = trusted_root_for_spec(spec)
    bundle = _parse_bundle(bundle_bytes, label)
    _verify_artifact_with(_verifier(root), data, bundle, expected, name, label)


def verify_digest_with_spec(
    sha256: str,
    bundle_bytes: bytes,
    expected: Identity,
    spec: str,
    *,
    name: str = "artifact",
    label: str = "bundle",
) -> None:
    """Verify a file known by its (streamed) hex ``sha256`` against an in-memory bundle that
    signs it, for exactly ``expected``, with the trust a spec names (as signing verifies:
    a message signature over the file, not a DSSE attestation).

    Raises :class:`VerificationError` (one line naming the failed check) or
    :class:`ConfigError` (trust material).
    """
    root = trusted_root_for_spec(spec)
    bundle = _parse_bundle(bundle_bytes, label)
    _verify_artifact_with(
        _verifier(root), _hashed(bytes.fromhex(sha256)), bundle, expected, name, label
    )


def bundle_identity(bundle_bytes: bytes) -> Identity | None:
    """The (identity, issuer) a bundle's certificate names, UNVERIFIED (for messages);
    None when the bundle cannot be read."""
    try:
        bundle = _parse_bundle(bundle_bytes, "bundle")
        return certificate_identity(bundle.signing_certificate)
    except (VerificationError, ValueError, AttributeError):
        return None


def verify_file(
    path: Path,
    bundle: Path,
    expected: Identity,
    *,
    trust_config: Path | None = None,
    trusted_root: Path | None = None,
    staging: bool = False,
    offline: bool = False,
) -> None:
    """Verify ``path`` against the Sigstore ``bundle`` for exactly ``expected``.

    ``bundle`` signs the file itself, or (as the stock ``sigstore verify`` accepts)
    is a DSSE in-toto statement with the file's sha256 among its subjects.
    Raises :class:`VerificationError` naming the failed check (digest mismatch,
    wrong identity, wrong issuer, untrusted root, malformed bundle, unreadable
    file) or :class:`ConfigError` when the trust material cannot be loaded.
    """
    bundle_bytes = _read(bundle, "bundle")
    try:
        digest = _sha256_file(path)
    except OSError as exc:
        raise VerificationError(f"cannot read {path}: {exc.strerror or exc}") from exc
    root = load_trusted_root(
        trust_config=trust_config, trusted_root=trusted_root, staging=staging, offline=offline
    )
    parsed = _parse_bundle(bundle_bytes, str(bundle))
    verifier = _verifier(root)
    _verify_artifact_with(
        verifier, _hashed(digest), parsed, expected, str(path), str(bundle), allow_dsse=True
    )


def verify_provenance(
    bundle: Path,
    files: Sequence[Path],
    expected: Identity,
    *,
    trust_config: Path | None = None,
    trusted_root: Path | None = None,
    staging: bool = False,
    offline: bool = False,
) -> dict[str, Any]:
    """Verify a DSSE provenance bundle and that every file's sha256 is a subject.

    Returns the verified in-toto statement. Raises :class:`VerificationError`.
    """
    bundle_bytes = _read(bundle, "provenance bundle")
    root = load_trusted_root(
        trust_config=trust_config, trusted_root=trusted_root, staging=staging, offline=offline
    )
    parsed = _parse_bundle(bundle_bytes, str(bundle))
    statement = _verify_dsse_with(_verifier(root), parsed, expected, str(bundle))
    subjects = statement.get("subject")
    digests: set[str] = set()
    if isinstance(subjects, list):
        for subject in subjects:
            if isinstance(subject, dict) and isinstance(subject.get("digest"), dict):
                digests.add(str(subject["digest"].get("sha256", "")).lower())
    for path in files:
        try:
            digest = _sha256_file(path).hex()
        except OSError as exc:
            raise VerificationError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if digest not in digests:
            raise VerificationError(
                f"digest mismatch: {path} (sha256 {digest[:12]}…) is not a subject of {bundle}"
            )
    return statement


# --- signing ----------------------------------------------------------------------


def _atomic_write_text(path: Path, text: str) -> None:
    try:
        write_atomic(path, text.encode(), durable=False)
    except OSError as exc:
        raise SigningError(f"cannot write {path}: {exc.strerror or exc}") from exc


class ReleaseSigner:
    """One short-lived certificate; signs many files, verifying each bundle before writing.

    Attributes: ``identity`` (what bundles are verified against),
    ``trust_config_path`` (the dev trust config written, else the one given, else None).
    """

    def __init__(
        self,
        signer: Any,
        trusted_root: Any,
        identity: Identity,
        *,
        trust_config_path: Path | None,
        max_workers: int,
    ) -> None:
        self._signer = signer
        self._verifier = _verifier(trusted_root)
        self.identity = identity
        self.trust_config_path = trust_config_path
        self._max_workers = max(1, max_workers)

    def _sign_one(self, path: Path) -> str:
        try:
            digest = _file_digest(path)
        except OSError as exc:
            raise SigningError(f"cannot read {path}: {exc.strerror or exc}") from exc
        hashed = _hashed(digest)
        try:
            bundle = self._signer.sign_artifact(hashed)
        except _sigstore_errors() as exc:
            raise SigningError(f"signing {path.name} failed: {_first(exc)}") from exc
        label = f"the new bundle of {path.name}"
        _verify_artifact_with(self._verifier, hashed, bundle, self.identity, str(path), label)
        text: str = bundle.to_json()
        return text

    def sign_bytes(self, data: bytes, label: str = "data") -> str:
        """Sign in-memory ``data`` with this certificate, verify, return the bundle JSON.

        Raises :class:`SigningError` or :class:`VerificationError`.
        """
        try:
            bundle = self._signer.sign_artifact(data)
        except _sigstore_errors() as exc:
            raise SigningError(f"signing {label} failed: {_first(exc)}") from exc
        what = f"the new bundle of {label}"
        _verify_artifact_with(self._verifier, data, bundle, self.identity, label, what)
        text: str = bundle.to_json()
        return text

    def sign_files(self, paths: Sequence[Path]) -> list[Path]:
        """Sign every file, verify every bundle, then write ``<file>.sigstore.json``.

        Log submissions run concurrently. Nothing is written unless every bundle
        verified. Raises :class:`SigningError` or :class:`VerificationError`.
        """
        paths = [Path(p) for p in paths]
        if len({p.resolve() for p in paths}) != len(paths):
            raise SigningError("the same file is listed twice")
        for path in paths:
            if not path.is_file():
                raise SigningError(f"cannot read {path}: not a file")
        workers = min(self._max_workers, len(paths)) or 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sign") as pool:
            bundles = list(pool.map(self._sign_one, paths))
        outs = []
        for path, text in zip(paths, bundles, strict=True):
            out = bundle_path(path)
            _atomic_write_text(out, text)
            outs.append(out)
        return outs

    def sign_statement(self, statement: Mapping[str, Any], out: Path) -> Path:
        """Sign an in-toto statement as DSSE, verify it, write the bundle to ``out``."""
        from sigstore import dsse

        payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
        try:
            bundle = self._signer.sign_dsse(dsse.Statement(payload))
        except _sigstore_errors() as exc:
            raise SigningError(f"signing the statement failed: {_first(exc)}") from exc
        verified = _verify_dsse_with(self._verifier, bundle, self.identity, "the new DSSE bundle")
        if verified != json.loads(payload):
            raise VerificationError("the DSSE bundle does not carry the statement that was signed")
        _atomic_write_text(out, bundle.to_json())
        return out


def _sigstore_errors() -> tuple[type[BaseException], ...]:
    """What signing can raise: sigstore's errors plus its clients' (which share no base)."""
    from sigstore._internal.fulcio.client import ExpiredCertificate, FulcioClientError
    from sigstore._internal.rekor import RekorClientError
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import ExpiredIdentity

    # requests' exceptions derive from OSError.
    return (
        SigstoreError,
        FulcioClientError,
        RekorClientError,
        ExpiredIdentity,
        ExpiredCertificate,
        ValueError,
        OSError,
    )


def _open_sigstore_signer(token: str, trust: Any) -> tuple[Any, Any]:
    """(an entered sigstore ``Signer``, its certificate)."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import ExpiredIdentity, IdentityToken
    from sigstore.sign import SigningContext

    try:
        identity_token = IdentityToken(token)
    except SigstoreError as exc:
        cause = f" ({_first(exc.__cause__)})" if exc.__cause__ else ""
        raise SigningError(
            f"identity token is not usable: {_first(exc)}{cause}",
            hint="Sigstore needs an OIDC token with aud=sigstore that has not expired",
        ) from exc
    try:
        context = SigningContext.from_trust_config(trust)
        signer = context.signer(identity_token).__enter__()
        cert = signer._signing_cert()
    except ExpiredIdentity as exc:
        raise SigningError("identity token has expired") from exc
    except _sigstore_errors() as exc:
        raise SigningError(
            f"cannot get a signing certificate: {type(exc).__name__}: {_first(exc)}"
        ) from exc
    return signer, cert


@contextmanager
def open_signer(
    setup: SigningSetup,
    expected: Identity | None,
    *,
    trust_config_out: Path | None = None,
    env: Mapping[str, str] | None = None,
    max_workers: int = 8,
) -> Iterator[ReleaseSigner]:
    """A :class:`ReleaseSigner` for ``setup`` whose bundles must prove ``expected``.

    ``expected=None`` accepts whatever identity the certificate names for the
    token's issuer (still verifying chain, SCT and log). In ``dev`` mode a local
    instance runs for the duration (keys in ``setup.dev_state_dir``), a token is
    minted for ``expected`` unless one is given, and its trust config is written
    to ``<dev_state_dir>/dev-trust-config.json`` and, if given, ``trust_config_out``
    (``ReleaseSigner.trust_config_path`` names the latter, else the former).
    Raises :class:`SigningError` or :class:`VerificationError`.
    """
    environ = os.environ if env is None else env
    dev = None
    trust_config_path = setup.trust_config
    try:
        if setup.mode == "dev":
            from release.adapters.devsigstore import DEV_ISSUER, DevSigstore

            ident = expected or Identity("release@dev.invalid", DEV_ISSUER)
            state = setup.dev_state_dir or default_dev_state_dir(environ)
            dev = DevSigstore(state).start()
            # The state dir always holds the current trust config (`release verify --dev`).
            trust_config_path = dev.write_trust_config(state / DEV_TRUST_CONFIG_NAME)
            if trust_config_out is not None:
                trust_config_path = dev.write_trust_config(trust_config_out)
            token = setup.identity_token or dev.mint_token(ident.identity, ident.issuer)
            register_secret(token)
            trust = _load_trust_config(trust_config_path)
        else:
            token = resolve_identity_token(setup.identity_token, environ)
            trust = _signing_trust_config(setup)
        signer, cert = _open_sigstore_signer(token, trust)
        actual = certificate_identity(cert)
        if expected is not None and actual != expected:
            raise VerificationError(
                f"the signing certificate is for {actual.identity!r} via {actual.issuer!r}, "
                f"expected {expected.identity!r} via {expected.issuer!r}",
                hint="sign with the identity the channel declares in [signer] / [dev-signer]",
            )
        yield ReleaseSigner(
            signer,
            trust.trusted_root,
            expected or actual,
            trust_config_path=trust_config_path,
            max_workers=max_workers,
        )
    finally:
        if dev is not None:
            dev.stop()
