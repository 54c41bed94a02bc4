from __future__ import annotations

from tests.helpers.sigstore import dev_identity, dev_sigstore

__all__ = ["dev_identity", "dev_sigstore"]
