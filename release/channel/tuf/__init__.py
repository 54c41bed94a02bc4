"""Channel trust on TUF (schema 2): Sigstore keys, the repository, the client.

- :mod:`.keys`: the ``sigstore-oidc`` Key and Signer, verifying through
  :mod:`release.adapters.sigstore` with the trust a root names;
- :mod:`.repo`: building, signing and publishing the metadata (publisher side);
- :mod:`.client`: ``tuf.ngclient.Updater`` over the channel fetchers (consumer side).
"""
