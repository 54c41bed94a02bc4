"""Channel trust on TUF (schema 2): Sigstore keys, the repository, the client.

- :mod:`.keys`: the ``sigstore-oidc`` Key and Signer, verifying through
  :mod:`release.adapters.sigstore` with the trust a root names;
- :mod:`.repo`: building, signing and publishing the metadata (publisher side);
- :mod:`.client`: ``tuf.ngclient.Updater`` over the channel fetchers (consumer side).

Importing this package installs :class:`NoCloudSigners`: ``securesystemslib.signer``
imports every optional signer's SDK it finds (boto3 and botocore alone take 0.2 s),
and we never use those signers, so while it initialises they are "not installed".
"""

from __future__ import annotations

import sys

# Imported by securesystemslib's AWS, GCP, Azure, Vault, HSM, SPHINCS+ and TKey signers
# in `try: import … except ImportError` blocks.
OPTIONAL_SIGNER_SDKS = frozenset(
    ("boto3", "botocore", "google", "azure", "hvac", "PyKCS11", "pyspx", "tkey_signer")
)
_SIGNER_PACKAGE = "securesystemslib.signer"


class NoCloudSigners:
    """A ``sys.meta_path`` finder: ``import boto3`` (and the other SDKs above) fails
    while ``securesystemslib.signer`` is being imported, and is untouched otherwise
    (the S3 backend imports boto3 normally). An SDK already imported is not affected."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] not in OPTIONAL_SIGNER_SDKS:
            return None
        package = sys.modules.get(_SIGNER_PACKAGE)
        spec = getattr(package, "__spec__", None)
        if spec is not None and getattr(spec, "_initializing", False):
            raise ModuleNotFoundError(
                f"No module named {name!r} (securesystemslib's optional signers are not used)",
                name=name,
            )
        return None


def install_import_guard() -> None:
    """Put :class:`NoCloudSigners` first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, NoCloudSigners) for f in sys.meta_path):
        sys.meta_path.insert(0, NoCloudSigners())


install_import_guard()
