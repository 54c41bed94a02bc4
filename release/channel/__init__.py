"""The channel index v1: what consumers read to find, check and verify releases.

Modules: :mod:`~release.channel.model` (pure documents and transitions),
:mod:`~release.channel.strictjson` (strict JSON from bytes), ``schema/*.schema.json``
(JSON Schema 2020-12, published next to the index), :mod:`~release.channel.store`
(publisher side), :mod:`~release.channel.client` + :mod:`~release.channel.fetch`
(consumer side), :mod:`~release.channel.views` (page, versions.json, feeds,
install scripts),
:mod:`~release.channel.signing` (the signer/verifier interfaces and their Sigstore
adapters).

Layout of a store (all paths relative; a directory or any static web server)::

    index.json                                  mutable, swapped atomically, last
    index/v{N}.json (+ .sigstore.json)          the same bytes, immutable
    channels/<ch>/v{N}.json (+ bundle)          channel document: every line
    channels/<ch>/lines/<X.Y>/v{N}.json (+ bundle)   line document: its releases
    releases/<tag>/<file>, <file>.sigstore.json, SHA256SUMS, provenance
    schema/{index,channel,line}.schema.json

Scale: documents are sharded by line. ``index.json`` lists per channel its latest and
its *live* lines (not EOL) with their line-document pins, so it stays small however
long the history (834 bytes with 10,000 releases in 200 lines); frozen lines are
reached only through the pinned channel document. Publishing rewrites one line
document, the channel document (one small entry per line) and the index.
``release channel latest`` reads the index and one line document.

Trust: documents name their signer; ``{line}`` is the only template. The client
takes the allowed signers of each channel from ``channels/*.toml`` when given
(``--channels-dir``), otherwise trusts the first verified index and pins its
channel signers in the per-source state file (trust on first use), refusing any
later change. The index is signed by the channel that last published it
(``published_by``); each channel and line document and every artifact by its own
channel's signer, so one channel's signer cannot move another channel's documents
without the client noticing (their pins and versions are checked, too).
"""
