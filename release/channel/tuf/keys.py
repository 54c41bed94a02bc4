"""Sigstore keys for TUF metadata: keytype ``sigstore-oidc``, scheme ``Fulcio``.

securesystemslib ships a ``SigstoreKey`` whose verification is hard-wired to the
public-good instance, and does not register it. :class:`SigstoreOidcKey` keeps its
wire format (keyval ``{identity, issuer}``; the Sigstore bundle JSON in the
signature's ``bundle`` field, ``sig`` = the bundle's message signature) so metadata
stays readable by stock tooling, but verifies through :mod:`release.adapters.sigstore`
with the trust the caller selects (:func:`verification_trust`): public good,
staging, a private instance or the local dev instance. :func:`register` installs it
in ``securesystemslib.signer.KEY_FOR_TYPE_AND_SCHEME``, so ``tuf.api.metadata`` and
``tuf.ngclient`` build it from any metadata they read.

:class:`SigstoreOidcSigner` signs TUF payloads with ONE open Sigstore signing
context (one certificate for every role a publication changes), and verifies each
signature through the key right after signing.

A :class:`VerdictCache` remembers signatures already verified (keyed by the key, the
signed bytes, the signature and the trust), so re-reading unchanged metadata never
imports sigstore. Nothing here imports sigstore at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from securesystemslib import exceptions as sslib_exceptions

# The package re-exports these without __all__ (mypy --strict wants the defining modules).
from securesystemslib.signer._key import KEY_FOR_TYPE_AND_SCHEME, Key
from securesystemslib.signer._signature import Signature
from securesystemslib.signer._signer import SecretsHandler, Signer
from securesystemslib.signer._utils import compute_default_keyid

from release.config import Identity
from release.errors import ConfigError, ReleaseError, SigningError, VerificationError

KEYTYPE = "sigstore-oidc"
SCHEME = "Fulcio"
ROOT_FIELD = "x-release-channels"
"""``root.signed.unrecognized_fields[ROOT_FIELD]["sigstore"]`` names the trust."""

NAMED_TRUSTS = ("production", "staging")


# --- which Sigstore instance signatures must chain to ---------------------------------


@dataclass(frozen=True)
class SigstoreTrust:
    """The Sigstore instance TUF signatures are verified against.

    ``spec`` is ``"production"`` (public good), ``"staging"``, or the canonical JSON
    text of a ClientTrustConfig (a private or the local dev instance). In a root it is
    written as the name, or as the ClientTrustConfig object.
    """

    spec: str

    def __post_init__(self) -> None:
        if self.spec in NAMED_TRUSTS:
            return
        try:
            data = json.loads(self.spec)
        except ValueError as exc:
            raise ConfigError(
                f"Sigstore trust {self.spec[:40]!r} is neither {' nor '.join(NAMED_TRUSTS)} "
                "nor a ClientTrustConfig JSON object"
            ) from exc
        if not isinstance(data, dict) or "trustedRoot" not in data:
            raise ConfigError(
                "Sigstore trust is not a ClientTrustConfig (no trustedRoot)",
                hint="use 'production', 'staging' or the JSON of a ClientTrustConfig",
            )

    @classmethod
    def from_value(cls, value: object) -> SigstoreTrust:
        """From a root's field: a name, or a ClientTrustConfig object. Raises ConfigError."""
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, Mapping):
            return cls(_canonical(value))
        raise ConfigError(
            "Sigstore trust must be a name or a ClientTrustConfig object, "
            f"not {type(value).__name__}"
        )

    @classmethod
    def from_file(cls, path: Path) -> SigstoreTrust:
        """A ClientTrustConfig JSON file. Raises :class:`ConfigError`."""
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read trust config {path}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise ConfigError(f"{path} is not JSON: {exc}") from exc
        return cls.from_value(data)

    def to_value(self) -> str | dict[str, Any]:
        """What goes into a root: the name, or the ClientTrustConfig object."""
        if self.spec in NAMED_TRUSTS:
            return self.spec
        value: dict[str, Any] = json.loads(self.spec)
        return value

    @property
    def fingerprint(self) -> str:
        """sha256 of the verification material: the trusted root's keys and certificates.

        Service URLs (which change each time a local instance starts) do not count.
        """
        return hashlib.sha256(_material(self.spec).encode()).hexdigest()

    def same_keys(self, other: SigstoreTrust) -> bool:
        """Whether both verify the same signatures (same material, any service URLs)."""
        return self.fingerprint == other.fingerprint

    @property
    def is_dev(self) -> bool:
        """Whether this is a local dev instance (untrusted by anybody else)."""
        if self.spec in NAMED_TRUSTS:
            return False
        from release.adapters.devsigstore import OPERATOR

        cas = json.loads(self.spec).get("trustedRoot", {}).get("certificateAuthorities", [])
        return any(
            isinstance(ca, dict) and ca.get("subject", {}).get("organization") == OPERATOR
            for ca in cas
        )

    def describe(self) -> str:
        if self.spec in NAMED_TRUSTS:
            return f"Sigstore {self.spec}"
        return "the local dev Sigstore instance" if self.is_dev else "a private Sigstore instance"


PRODUCTION = SigstoreTrust("production")


_URL_FIELDS = frozenset({"baseUrl", "uri", "url"})


def _strip_urls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_urls(v) for k, v in value.items() if k not in _URL_FIELDS}
    if isinstance(value, list):
        return [_strip_urls(v) for v in value]
    return value


def _material(spec: str) -> str:
    if spec in NAMED_TRUSTS:
        return spec
    return _canonical(_strip_urls(json.loads(spec).get("trustedRoot", {})))


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def trust_of_root(root_fields: Mapping[str, Any]) -> SigstoreTrust:
    """The trust a root names in ``unrecognized_fields`` (public good when absent).

    Raises :class:`ConfigError` when the field is malformed.
    """
    extra = root_fields.get(ROOT_FIELD)
    if extra is None:
        return PRODUCTION
    if not isinstance(extra, Mapping) or "sigstore" not in extra:
        raise ConfigError(f"root field {ROOT_FIELD!r} must be an object with a 'sigstore' entry")
    return SigstoreTrust.from_value(extra["sigstore"])


def root_fields_for(trust: SigstoreTrust) -> dict[str, Any]:
    """The root ``unrecognized_fields`` entry naming ``trust``."""
    return {ROOT_FIELD: {"sigstore": trust.to_value()}}


# --- verdict cache ----------------------------------------------------------------


class VerdictCache(Protocol):
    """Remembers verified signatures: ``get`` is True only for a key ``put`` before."""

    def get(self, key: str) -> bool: ...

    def put(self, key: str) -> None: ...


@dataclass
class _Selection:
    trust: SigstoreTrust
    cache: VerdictCache | None


_SELECTED: ContextVar[_Selection | None] = ContextVar("release_sigstore_trust", default=None)


@contextlib.contextmanager
def verification_trust(
    trust: SigstoreTrust, cache: VerdictCache | None = None
) -> Iterator[SigstoreTrust]:
    """Verify ``sigstore-oidc`` signatures against ``trust`` (and ``cache``) inside the block.

    Outside any block, keys verify against the public-good instance (as stock
    securesystemslib does) without a cache.
    """
    token = _SELECTED.set(_Selection(trust, cache))
    try:
        yield trust
    finally:
        _SELECTED.reset(token)


def current_trust() -> SigstoreTrust:
    selected = _SELECTED.get()
    return selected.trust if selected is not None else PRODUCTION


def verdict_key(keyid: str, data: bytes, signature: Signature, trust: SigstoreTrust) -> str:
    """sha256 over the keyid, the signed bytes' digest, the signature and the trust."""
    h = hashlib.sha256()
    for part in (
        keyid.encode(),
        hashlib.sha256(data).digest(),
        _canonical(signature.to_dict()).encode(),
        trust.fingerprint.encode(),
    ):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


# --- the key ----------------------------------------------------------------------


class SigstoreOidcKey(Key):
    """A ``sigstore-oidc``/``Fulcio`` key: an exact (identity, issuer) pair.

    :meth:`verify_signature` raises securesystemslib's ``UnverifiedSignatureError``
    (wrong identity, digest, root or malformed bundle) or ``VerificationError`` (its
    subclass: the trust itself is unusable); python-tuf counts both as "not signed".
    """

    def __init__(
        self,
        keyid: str,
        keytype: str,
        scheme: str,
        keyval: dict[str, Any],
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        if keytype != KEYTYPE or scheme != SCHEME:
            raise ValueError(f"expected keytype {KEYTYPE!r} scheme {SCHEME!r}")
        for name in ("identity", "issuer"):
            if not isinstance(keyval.get(name), str) or not keyval[name]:
                raise ValueError(f"{name} string required for scheme {scheme}")
        super().__init__(keyid, keytype, scheme, keyval, unrecognized_fields)

    @classmethod
    def from_identity(cls, identity: Identity) -> SigstoreOidcKey:
        """The key for ``identity``, its keyid computed as securesystemslib does."""
        keyval = {"identity": identity.identity, "issuer": identity.issuer}
        return cls(compute_default_keyid(KEYTYPE, SCHEME, keyval), KEYTYPE, SCHEME, keyval)

    @classmethod
    def from_dict(cls, keyid: str, key_dict: dict[str, Any]) -> SigstoreOidcKey:
        keytype, scheme, keyval = cls._from_dict(key_dict)
        return cls(keyid, keytype, scheme, keyval, key_dict)

    def to_dict(self) -> dict[str, Any]:
        return self._to_dict()

    @property
    def identity(self) -> Identity:
        return Identity(self.keyval["identity"], self.keyval["issuer"])

    def verify_signature(self, signature: Signature, data: bytes) -> None:
        selected = _SELECTED.get()
        trust = selected.trust if selected is not None else PRODUCTION
        cache = selected.cache if selected is not None else None
        cache_key = verdict_key(self.keyid, data, signature, trust)
        if cache is not None and cache.get(cache_key):
            return
        bundle = signature.unrecognized_fields.get("bundle")
        if not isinstance(bundle, dict):
            raise sslib_exceptions.UnverifiedSignatureError(
                f"signature by {self._who()} carries no Sigstore bundle"
            )
        message = bundle.get("messageSignature")
        if not isinstance(message, dict) or message.get("signature") != signature.signature:
            raise sslib_exceptions.UnverifiedSignatureError(
                f"signature by {self._who()}: 'sig' is not the bundle's message signature"
            )
        from release.adapters import sigstore as adapter

        try:
            adapter.verify_bytes_with_spec(
                data,
                _canonical(bundle).encode(),
                self.identity,
                trust.spec,
                name="the signed metadata",
                label=f"the signature by {self._who()}",
            )
        except VerificationError as exc:
            raise sslib_exceptions.UnverifiedSignatureError(exc.message) from exc
        except ReleaseError as exc:
            raise sslib_exceptions.VerificationError(
                f"cannot verify the signature by {self._who()}: {exc.message}"
            ) from exc
        if cache is not None:
            cache.put(cache_key)

    def _who(self) -> str:
        return f"{self.keyval['identity']} ({self.keyval['issuer']})"


def register() -> None:
    """Make securesystemslib build :class:`SigstoreOidcKey` for ``sigstore-oidc``/``Fulcio``.

    Idempotent. Replaces securesystemslib's own ``SigstoreKey`` there, if any, because
    that one only verifies against the public-good instance.
    """
    KEY_FOR_TYPE_AND_SCHEME[(KEYTYPE, SCHEME)] = SigstoreOidcKey


register()


# --- the signer -------------------------------------------------------------------


class BytesSigner(Protocol):
    """An open Sigstore signing context (``release.adapters.sigstore.ReleaseSigner``)."""

    identity: Identity
    trust_config_path: Path | None

    def sign_bytes(self, data: bytes, label: str = ...) -> str: ...


class SigstoreOidcSigner(Signer):
    """Signs TUF payloads with one open Sigstore signing context (one certificate).

    ``trust`` is the instance the context signs with: each signature is verified
    through :class:`SigstoreOidcKey` against it before it is returned.
    """

    def __init__(self, signer: BytesSigner, trust: SigstoreTrust) -> None:
        self._signer = signer
        self.trust = trust
        self._key = SigstoreOidcKey.from_identity(signer.identity)

    @property
    def public_key(self) -> SigstoreOidcKey:
        return self._key

    @property
    def identity(self) -> Identity:
        return self._signer.identity

    @classmethod
    def from_priv_key_uri(
        cls,
        priv_key_uri: str,
        public_key: Key,
        secrets_handler: SecretsHandler | None = None,
    ) -> SigstoreOidcSigner:
        raise ValueError(
            "SigstoreOidcSigner is not loaded from a key URI: open it with "
            "release.channel.tuf.keys.open_signer(setup, identity)"
        )

    def sign(self, payload: bytes) -> Signature:
        """Sign ``payload``; raises :class:`SigningError` / :class:`VerificationError`."""
        text = self._signer.sign_bytes(payload, "TUF metadata")
        bundle = json.loads(text)
        signature = Signature(
            self._key.keyid, bundle["messageSignature"]["signature"], {"bundle": bundle}
        )
        selected = _SELECTED.get()
        with verification_trust(self.trust, selected.cache if selected else None):
            try:
                self._key.verify_signature(signature, payload)
            except sslib_exceptions.UnverifiedSignatureError as exc:
                raise VerificationError(f"the new TUF signature does not verify: {exc}") from exc
        return signature


def trust_of_setup(setup: Any, trust_config_path: Path | None) -> SigstoreTrust:
    """The trust a ``SigningSetup`` signs with (``trust_config_path``: the file it used)."""
    if setup.mode == "sigstore":
        return PRODUCTION
    if setup.mode == "staging":
        return SigstoreTrust("staging")
    if trust_config_path is None:
        raise SigningError(f"signing mode {setup.mode} has no trust config file")
    return SigstoreTrust.from_file(trust_config_path)


@contextlib.contextmanager
def open_signer(
    setup: Any, identity: Identity | None, **kwargs: Any
) -> Iterator[SigstoreOidcSigner]:
    """One certificate for ``identity`` (``SigningSetup``; see ``adapters.sigstore.open_signer``).

    Raises :class:`SigningError` or :class:`VerificationError`.
    """
    from release.adapters import sigstore as adapter

    with adapter.open_signer(setup, identity, **kwargs) as release_signer:
        trust = trust_of_setup(setup, release_signer.trust_config_path)
        yield SigstoreOidcSigner(release_signer, trust)
