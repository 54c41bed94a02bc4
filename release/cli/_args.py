"""Argument groups several commands share."""

from __future__ import annotations

import argparse
from pathlib import Path

SIGN_MODES = ("sigstore", "staging", "trust-config", "dev")


def add_store_signing(
    parser: argparse.ArgumentParser,
    *,
    modes: tuple[str, ...] = SIGN_MODES,
    default: str = "sigstore",
    sign_help: str | None = None,
) -> None:
    """``--store`` and how to sign a channel store: ``--sign``, ``--trust-config``,
    ``--identity-token``, ``--dev-state``."""
    parser.add_argument("--store", type=Path, help="channel store (default: [tool.release] out)")
    parser.add_argument("--sign", choices=modes, default=default, help=sign_help)
    parser.add_argument("--trust-config", type=Path, help="Sigstore ClientTrustConfig JSON")
    parser.add_argument("--identity-token", help="OIDC token (else ambient credentials)")
    parser.add_argument("--dev-state", type=Path, help="dev instance keys and log (--sign dev)")
