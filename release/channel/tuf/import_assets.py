"""The assets of GitHub releases, for ``release channel import``: staged, verified, placed.

A channel vouches for every artifact bundle it records, so nothing reaches the store
before every bundle verified:

1. :func:`stage` streams the assets of each wanted release into a staging directory
   beside the store (:func:`staging_beside`; removed whatever happens), hashing as it
   downloads;
2. :func:`check_bundles` verifies each file's ``<name>.sigstore.json`` (sigstore-python,
   the trust the run signs with) against the identity the channel expects for the
   release's line, from the streamed digest; :func:`refuse` turns the first failure into
   one error, unless the caller opted into recording such files without their bundle;
3. :func:`check_place` refuses a file the store already holds with other bytes;
4. only then :func:`place` links the files into ``releases/<tag>/`` (never replacing
   one) and records them (:func:`record`).

A refused import leaves the store byte-identical.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.channel import model
from release.channel.tuf.importer import SUMS, artifacts_of, bundled
from release.checksums import Digest, hash_file, render_sums
from release.config import Identity
from release.errors import ChannelError, UsageError, VerificationError
from release.files import create_once

BUNDLE_LIMIT = 1 << 20
"""A Sigstore bundle is a few KiB: a larger ``.sigstore.json`` is refused unread."""

RECORD_AS_FILES = "record-as-files"
REFUSE = "refuse"

Files = tuple[tuple[model.Artifact, ...], model.FileRef | None]


@dataclass(frozen=True)
class Wanted:
    """A release whose GitHub assets are imported, and who must have signed them."""

    channel: str
    line: str
    signer: Identity


@dataclass(frozen=True)
class StagedRelease:
    """The downloaded assets of one release (``dir``: their staging directory)."""

    tag: str
    wanted: Wanted
    dir: Path
    files: tuple[Digest, ...]


@dataclass(frozen=True)
class Refusal:
    """A bundle that does not verify for its file and the expected identity."""

    tag: str
    asset: str
    bundle: str
    reason: str  # the verifier's one line
    names: Identity | None  # what the bundle's certificate says (unverified); None: unreadable
    wanted: Wanted

    def describe(self) -> str:
        said = (
            f"it names {self.names.identity} via {self.names.issuer}"
            if self.names is not None
            else "its certificate cannot be read"
        )
        w = self.wanted
        return (
            f"{self.tag}: the bundle {self.bundle} of asset {self.asset} does not verify "
            f"({self.reason}); {said}, channel {w.channel} line {w.line} expects "
            f"{w.signer.identity} via {w.signer.issuer}"
        )


@contextlib.contextmanager
def staging_beside(root: Path) -> Iterator[Path]:
    """A private directory next to the store ``root`` (same file system, so files move in
    by a link, never a copy), removed on exit. Raises :class:`UsageError`."""
    parent = root.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.TemporaryDirectory(prefix=f".{root.name}.import-", dir=parent)
    except OSError as exc:
        raise UsageError(
            f"cannot create a staging directory in {parent}: {exc.strerror or exc}",
            hint="the import stages downloads beside --store; choose a writable --store",
        ) from exc
    with tmp as path:
        yield Path(path)


def stage(
    client: Any, slug: str, wanted: Mapping[str, Wanted], staging: Path
) -> list[StagedRelease]:
    """Download the assets of each published GitHub release of ``slug`` whose tag is in
    ``wanted`` into ``staging/<tag>/`` (streamed and hashed by the client; GitHub's digest
    must match). Raises :class:`UsageError` (an asset name that is not a plain file name),
    ``GitHubError``, :class:`VerificationError`."""
    out = []
    for tag, assets in sorted(client.release_assets(slug).items()):
        if tag not in wanted or not assets:
            continue
        tag_dir = staging / tag
        tag_dir.mkdir()
        digests = []
        for asset in assets:
            if asset.name.startswith(".") or "/" in asset.name or asset.name == "..":
                raise UsageError(f"GitHub release {tag} has an asset named {asset.name!r}")
            local = client.download(asset, tag_dir / asset.name)
            digests.append(Digest(asset.name, local.size, local.sha256))
        out.append(StagedRelease(tag, wanted[tag], tag_dir, tuple(digests)))
    return out


def _read_bundle(path: Path, size: int) -> bytes | str:
    """The bundle's bytes, or why it cannot be one."""
    if size > BUNDLE_LIMIT:
        return f"malformed bundle: {size} bytes, more than a Sigstore bundle ({BUNDLE_LIMIT})"
    try:
        return path.read_bytes()
    except OSError as exc:
        return f"cannot read {path.name}: {exc.strerror or exc}"


def check_bundles(staged: Sequence[StagedRelease], trust_spec: str) -> list[Refusal]:
    """Verify every artifact bundle of ``staged`` (each file with a ``<name>.sigstore.json``
    beside it) against the identity its release's line expects, with the Sigstore trust
    ``trust_spec`` names. Returns the bundles that do not verify, in order.
    Raises ``ConfigError`` (unusable trust material)."""
    from release.adapters import sigstore

    refusals = []
    for rel in staged:
        for d, bundle in bundled(rel.files):
            data = _read_bundle(rel.dir / bundle.name, bundle.size)
            if isinstance(data, str):
                refusals.append(Refusal(rel.tag, d.name, bundle.name, data, None, rel.wanted))
                continue
            try:
                sigstore.verify_digest_with_spec(
                    d.sha256, data, rel.wanted.signer, trust_spec, name=d.name, label=bundle.name
                )
            except VerificationError as exc:
                names = sigstore.bundle_identity(data)
                refusals.append(
                    Refusal(rel.tag, d.name, bundle.name, exc.message, names, rel.wanted)
                )
    return refusals


def refuse(refusals: Sequence[Refusal], policy: str) -> dict[str, frozenset[str]]:
    """Apply ``policy`` to the bundles that did not verify: :data:`REFUSE` raises ONE
    :class:`VerificationError` naming the first; :data:`RECORD_AS_FILES` returns, by tag,
    the assets to record as checksummed files without an artifact record (the caller
    warns about each)."""
    if refusals and policy != RECORD_AS_FILES:
        more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
        raise VerificationError(
            refusals[0].describe() + more,
            hint="a channel never vouches for a bundle it cannot verify (checked against the "
            "Sigstore instance of --sign): re-sign the asset as the identity the channel "
            "expects and replace its bundle on GitHub, or pass "
            f"--unverified-bundles={RECORD_AS_FILES} to record such assets as checksummed "
            "files without a bundle",
        )
    out: dict[str, set[str]] = {}
    for r in refusals:
        out.setdefault(r.tag, set()).add(r.asset)
    return {tag: frozenset(names) for tag, names in out.items()}


def _sums_of(rel: StagedRelease) -> bytes | None:
    """The ``SHA256SUMS`` the import writes for ``rel`` (None: the release brought one)."""
    if any(d.name == SUMS for d in rel.files):
        return None
    return render_sums(rel.files).encode()


def _differs(path: Path, want: Digest | bytes) -> bool:
    if isinstance(want, bytes):
        return path.read_bytes() != want
    found = hash_file(path)
    return (found.size, found.sha256) != (want.size, want.sha256)


def check_place(root: Path, staged: Sequence[StagedRelease]) -> None:
    """Refuse, before anything is written, a file of ``staged`` (or the ``SHA256SUMS`` the
    import would write) that the store directory ``root`` already holds with other bytes.
    Raises :class:`ChannelError`."""
    for rel in staged:
        tag_dir = root / "releases" / rel.tag
        wanted: list[tuple[str, Digest | bytes]] = [(d.name, d) for d in rel.files]
        sums = _sums_of(rel)
        if sums is not None:
            wanted.append((SUMS, sums))
        for name, want in wanted:
            dest = tag_dir / name
            if dest.exists() and _differs(dest, want):
                raise ChannelError(
                    f"{dest} already exists with different content",
                    hint="published release files are immutable; import into another --store",
                )


def place(
    root: Path, staged: Sequence[StagedRelease], unverified: Mapping[str, frozenset[str]]
) -> dict[str, Files]:
    """Link the staged files into ``root/releases/<tag>/`` (a file already there with the
    same bytes is kept; one never replaces another) and record them: tag -> (artifacts,
    checksums). Call :func:`check_place` first. Raises :class:`ChannelError`."""
    out = {}
    for rel in staged:
        tag_dir = root / "releases" / rel.tag
        tag_dir.mkdir(parents=True, exist_ok=True)
        for d in rel.files:
            dest = tag_dir / d.name
            try:
                os.link(rel.dir / d.name, dest)
            except FileExistsError:
                if _differs(dest, d):
                    raise ChannelError(
                        f"{dest} already exists with different content",
                        hint="published release files are immutable; import into another --store",
                    ) from None
            except OSError as exc:
                raise ChannelError(f"cannot write {dest}: {exc.strerror or exc}") from exc
        out[rel.tag] = record(root, rel, unverified.get(rel.tag, frozenset()))
    return out


def record(root: Path, rel: StagedRelease, unverified: frozenset[str]) -> Files:
    """The artifacts and checksums of a release placed in the store directory ``root``:
    ``SHA256SUMS`` lists every file (written unless the release brought its own); a file
    in ``unverified`` is not an artifact. Raises :class:`ChannelError`."""
    if not rel.files:
        return (), None
    artifacts, _ = artifacts_of(rel.tag, rel.files, unverified)
    sums_path = root / "releases" / rel.tag / SUMS
    sums = _sums_of(rel)
    if sums is not None and not create_once(sums_path, sums) and sums_path.read_bytes() != sums:
        raise ChannelError(
            f"{sums_path} already exists with different content",
            hint="published release files are immutable; import into another --store",
        )
    digest = hash_file(sums_path)
    return artifacts, model.FileRef(f"releases/{rel.tag}/{SUMS}", digest.size, digest.sha256)
