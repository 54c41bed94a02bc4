"""A running local Sigstore instance for tests: trust config + tokens for an Identity.

Use from any conftest.py::

    from tests.helpers.sigstore import dev_sigstore, dev_identity  # noqa: F401  (fixtures)

then in a test::

    def test_x(dev_sigstore: DevInstance, dev_identity: Identity) -> None:
        setup = dev_sigstore.setup(dev_identity)          # SigningSetup(mode="trust-config")
        with open_signer(setup, dev_identity) as signer: ...
        verify_file(f, b, dev_identity, trust_config=dev_sigstore.trust_config)

Everything stays on 127.0.0.1. The instance is session-scoped (one CA, one log
for the whole run); its state lives under pytest's temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from release.adapters.devsigstore import DEV_ISSUER, DevSigstore, mint_identity_token
from release.adapters.sigstore import SigningSetup
from release.config import Identity

EDGE_DEV = Identity("edge@dev.invalid", DEV_ISSUER)
STABLE_DEV = Identity("stable@dev.invalid", DEV_ISSUER)


@dataclass
class DevInstance:
    """A running :class:`DevSigstore` and the ClientTrustConfig file describing it."""

    dev: DevSigstore
    trust_config: Path
    state_dir: Path

    def token(self, identity: Identity = EDGE_DEV) -> str:
        """An unsigned OIDC token (aud=sigstore) this instance accepts for ``identity``."""
        return mint_identity_token(identity.identity, identity.issuer)

    def setup(self, identity: Identity = EDGE_DEV) -> SigningSetup:
        """A SigningSetup signing as ``identity`` through this instance's trust config."""
        return SigningSetup(
            mode="trust-config", trust_config=self.trust_config, identity_token=self.token(identity)
        )


def start_dev_instance(state_dir: Path, trust_config: Path | None = None) -> DevInstance:
    """Start an instance keeping its keys and log in ``state_dir`` (caller stops ``.dev``).

    Its trust config goes to ``trust_config`` (default ``state_dir/trust-config.json``).
    """
    dev = DevSigstore(state_dir).start()
    trust_config = dev.write_trust_config(trust_config or state_dir / "trust-config.json")
    return DevInstance(dev, trust_config, state_dir)


@pytest.fixture(scope="session")
def dev_sigstore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevInstance]:
    """One local Sigstore instance (Fulcio + CT + Rekor v1) for the whole test session."""
    instance = start_dev_instance(tmp_path_factory.mktemp("devsigstore"))
    try:
        yield instance
    finally:
        instance.dev.stop()


@pytest.fixture
def dev_identity() -> Identity:
    """The default ``[dev-signer]`` of the edge channel: edge@dev.invalid / https://dev.invalid."""
    return EDGE_DEV


def sign_blobs(state_dir: Path, identity: Identity, blobs: dict[str, bytes]) -> dict[str, bytes]:
    """``<name>.sigstore.json`` -> a real bundle of each blob, signed as ``identity`` by the
    dev instance keeping its keys in ``state_dir`` (what ``--sign dev --dev-state
    state_dir`` later trusts; another ``state_dir`` is another, untrusted instance)."""
    from release.adapters.sigstore import open_signer

    instance = start_dev_instance(state_dir, state_dir / "signing-trust-config.json")
    try:
        with open_signer(instance.setup(identity), identity) as signer:
            return {
                f"{name}.sigstore.json": signer.sign_bytes(data, name).encode()
                for name, data in blobs.items()
            }
    finally:
        instance.dev.stop()
