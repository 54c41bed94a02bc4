"""How the channel store and client sign and verify documents, without depending on how.

:class:`DocumentSigner` and :class:`DocumentVerifier` are the two small interfaces the
store and the client take. :class:`SigstoreDocumentSigner` and
:class:`SigstoreDocumentVerifier` wrap :mod:`release.adapters.sigstore` behind them and
import it lazily, so read paths (``release channel latest``) never load sigstore.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from release.config import Identity
from release.errors import SigningError, VerificationError

BUNDLE_SUFFIX = ".sigstore.json"


def bundle_path(path: Path) -> Path:
    """Where the bundle of ``path`` lives: ``<path>.sigstore.json``."""
    return path.with_name(path.name + BUNDLE_SUFFIX)


class DocumentSigner(Protocol):
    """Signs a file, writing ``<path>.sigstore.json``; returns the bundle path.

    Raises :class:`~release.errors.SigningError`.
    """

    def sign(self, path: Path) -> Path: ...


class DocumentVerifier(Protocol):
    """Verifies ``bundle`` over ``data`` for exactly ``expected`` (SAN and issuer).

    Raises :class:`~release.errors.VerificationError`.
    """

    def verify(self, data: bytes, bundle: bytes, expected: Identity) -> None: ...


def _sigstore_adapter() -> Any:
    try:
        return importlib.import_module("release.adapters.sigstore")
    except ImportError as exc:
        raise SigningError(
            f"the Sigstore adapter is not available: {exc}",
            hint="install release-channels with its sigstore dependency",
        ) from exc


class SigstoreDocumentSigner:
    """A :class:`DocumentSigner` over an object with ``sign_files(paths) -> list[Path]``.

    Build it from an already open ``ReleaseSigner`` (``with open_signer(setup, identity)
    as s: SigstoreDocumentSigner(s)``) or with :meth:`open`, which passes its arguments
    to ``release.adapters.sigstore.open_signer``.
    """

    def __init__(self, files_signer: Any) -> None:
        self._signer = files_signer

    @classmethod
    @contextlib.contextmanager
    def open(cls, *args: Any, **kwargs: Any) -> Iterator[SigstoreDocumentSigner]:
        """``with SigstoreDocumentSigner.open(setup, identity) as signer:`` (see open_signer)."""
        with _sigstore_adapter().open_signer(*args, **kwargs) as files_signer:
            yield cls(files_signer)

    def sign(self, path: Path) -> Path:
        bundles = list(self._signer.sign_files([path]))
        expected = bundle_path(path)
        if len(bundles) != 1 or Path(bundles[0]) != expected or not expected.is_file():
            raise SigningError(f"signing {path.name} did not write {expected.name}")
        return expected


class SigstoreDocumentVerifier:
    """A :class:`DocumentVerifier` over ``release.adapters.sigstore.verify_bytes``.

    ``trust_config`` / ``trusted_root`` choose the Sigstore instance (a
    ClientTrustConfig JSON or a trusted root JSON); neither means production.
    """

    def __init__(
        self,
        *,
        trust_config: Path | None = None,
        trusted_root: Path | None = None,
        staging: bool = False,
        offline: bool = False,
    ) -> None:
        self.trust_config = trust_config
        self.trusted_root = trusted_root
        self.staging = staging
        self.offline = offline

    def verify(self, data: bytes, bundle: bytes, expected: Identity) -> None:
        adapter = _sigstore_adapter()
        try:
            adapter.verify_bytes(
                data,
                bundle,
                expected,
                trust_config=self.trust_config,
                trusted_root=self.trusted_root,
                staging=self.staging,
                offline=self.offline,
            )
        except VerificationError:
            raise
        except SigningError as exc:
            raise VerificationError(exc.message, hint=exc.hint) from exc
