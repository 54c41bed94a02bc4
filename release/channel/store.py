"""The channel store: a directory tree of immutable documents and one mutable index.json.

```
index.json                                   the only file that changes in place
index/v{N}.json (+ .sigstore.json)           the same bytes, immutable
channels/<ch>/v{N}.json (+ bundle)           channel documents, immutable
channels/<ch>/lines/<line>/v{N}.json (+ bundle)   line documents, immutable
releases/<tag>/…                             artifacts, bundles, SHA256SUMS, provenance
schema/*.schema.json                         the JSON Schemas of the documents
```

Publishing order (a crash anywhere leaves the previous index fully valid):

1. every file the release references exists with its recorded size and sha256;
2. the new line document, then the new channel document (each + bundle);
3. under the store lock, compare-and-swap: if ``index.json`` still has the version the
   documents were computed from, write ``index/v{N}.json`` (+ bundle) and swap
   ``index.json`` atomically; otherwise start again from the new index.

Immutable files are created with a hard link (never replaced); the same bytes again
is a no-op, different bytes take the next free version number, so an orphan left by a
crashed or losing publisher never blocks the next one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from release.channel import model
from release.channel import strictjson as sj
from release.channel.backends.directory import LOCK_NAME, Lock
from release.channel.model import (
    INDEX_PATH,
    Artifact,
    ChannelDocument,
    FileRef,
    Index,
    LineDocument,
    Provenance,
    Release,
)
from release.channel.signing import DocumentSigner, DocumentVerifier, bundle_path
from release.channel.strictjson import DocumentError
from release.checksums import hash_file
from release.config import ChannelConfig, Identity
from release.errors import ChannelError, VerificationError
from release.files import create_once, write_atomic

if TYPE_CHECKING:
    from release.channel.views import ViewInput

DEFAULT_EXPIRES = timedelta(days=30)
SCHEMA_FILES = ("index.schema.json", "channel.schema.json", "line.schema.json")
_CHUNK = 1 << 20
D = TypeVar("D")


class _Doc(Protocol):
    def to_bytes(self) -> bytes: ...


DocT = TypeVar("DocT", bound=_Doc)
Raw = dict[str, Any]
Apply = Callable[[Raw | None, int], Raw]


@dataclass(frozen=True)
class PublishResult:
    """What a publish did. Paths are relative to the store root."""

    index_version: int
    index_document: str
    channel_document: str
    line_document: str | None
    changed: bool
    attempts: int


def sha256_file(path: Path) -> tuple[int, str]:
    """Size and sha256 of ``path``, streamed (the pipeline's hasher)."""
    digest = hash_file(path)
    return digest.size, digest.sha256


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (:func:`release.files.write_atomic`)."""
    write_atomic(path, data, durable=durable)


def create_immutable(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Create ``path`` with ``data`` unless it exists. True if created or identical.

    False when the path already holds different bytes (never overwritten).
    """
    return create_once(path, data, durable=durable) or path.read_bytes() == data


class ChannelStore:
    """A channel store rooted at a local directory (or a checkout of a pages branch)."""

    def __init__(
        self,
        root: Path,
        *,
        lock_timeout: float = 120.0,
        max_attempts: int = 1000,
        durable: bool = True,
    ) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout
        self.max_attempts = max_attempts
        # durable=False skips fsync (tests, benchmarks on throwaway stores)
        self.durable = durable
        # Parsed immutable documents by (path, sha256): safe to reuse, they never change.
        self._cache: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self._cache_lock = threading.Lock()

    # --- reading -------------------------------------------------------------

    def path(self, rel: str) -> Path:
        return self.root.joinpath(*rel.split("/"))

    def _read(self, rel: str) -> bytes | None:
        try:
            return self.path(rel).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ChannelError(f"cannot read {rel} in the channel store: {exc.strerror}") from exc

    def read_index_bytes(self) -> bytes | None:
        return self._read(INDEX_PATH)

    def read_index(self) -> Index | None:
        """The current index, or None for an empty store. Raises DocumentError."""
        data = self.read_index_bytes()
        return None if data is None else model.parse_index(data).document

    def _pinned(self, pin: model.Pin, what: str) -> bytes:
        data = self._read(pin.path)
        if data is None:
            raise ChannelError(f"{what} {pin.path} is missing from the channel store")
        pin.check(data, what)
        return data

    def read_channel(self, name: str, index: Index | None = None) -> ChannelDocument | None:
        """The current document of channel ``name`` (None if the channel has none yet)."""
        index = index if index is not None else self.read_index()
        if index is None or name not in index.channels:
            return None
        pin = index.channels[name].document
        return self._pinned_doc(pin, "channel document", model.parse_channel)

    def read_line(self, channel: ChannelDocument, line: str) -> LineDocument | None:
        entry = channel.entry(line)
        if entry is None:
            return None
        return self._pinned_doc(entry.document, "line document", model.parse_line_document)

    def _pinned_doc(
        self, pin: model.Pin, what: str, parse: Callable[[bytes, str], model.Parsed[D]]
    ) -> D:
        key = ("obj", pin.path, pin.sha256)
        with self._cache_lock:
            if key in self._cache:
                if self.path(pin.path).stat().st_size != pin.length:
                    raise ChannelError(f"{what} {pin.path} changed on disk")
                return self._cache[key]  # type: ignore[no-any-return]
        doc = parse(self._pinned(pin, what), pin.path).document
        self._remember(key, doc)
        return doc

    def _remember(self, key: tuple[str, str, str], doc: Any) -> None:
        with self._cache_lock:
            self._cache[key] = doc
            while len(self._cache) > 64:
                self._cache.popitem(last=False)

    def file_ref(self, rel: str) -> FileRef:
        """Size and sha256 of the store file ``rel``. Raises ChannelError if missing."""
        model.FileRef(rel, 0, "0" * 64)  # validates the relative path
        p = self.path(rel)
        if not p.is_file():
            raise ChannelError(f"{rel} is not a file in the channel store {self.root}")
        size, digest = sha256_file(p)
        return FileRef(rel, size, digest)

    def describe_artifact(
        self, tag: str, name: str, *, kind: str, os: str | None = None, arch: str | None = None
    ) -> Artifact:
        """The record of ``releases/<tag>/<name>`` and its ``.sigstore.json`` bundle."""
        ref = self.file_ref(f"releases/{tag}/{name}")
        bundle = self.file_ref(f"releases/{tag}/{name}.sigstore.json")
        try:
            return Artifact(
                name=name,
                path=ref.path,
                size=ref.size,
                sha256=ref.sha256,
                kind=kind,
                sigstore_bundle=bundle,
                os=os,
                arch=arch,
            )
        except DocumentError as exc:
            raise ChannelError(f"{name}: {exc.message}", hint=exc.hint) from exc

    def describe_provenance(
        self, tag: str, name: str = "provenance.intoto.sigstore.json", bundle: str | None = None
    ) -> Provenance:
        """The record of ``releases/<tag>/<name>``.

        The default name is the DSSE bundle the pipeline signs the SLSA statement into
        (it is its own signature); a separate ``<name>.sigstore.json`` is recorded too
        when present.
        """
        ref = self.file_ref(f"releases/{tag}/{name}")
        bundle_rel = f"releases/{tag}/{bundle or name + '.sigstore.json'}"
        has_bundle = bundle is not None or self.path(bundle_rel).is_file()
        return Provenance(
            path=ref.path,
            size=ref.size,
            sha256=ref.sha256,
            sigstore_bundle=self.file_ref(bundle_rel) if has_bundle else None,
        )

    def view_input(self, now: datetime, *, base_url: str | None = None) -> ViewInput:
        """What the views are rendered from: every channel document, and the line
        documents of live (not EOL) lines plus the line of each channel's latest.

        A schema-2 store (TUF metadata) is read through its channel roles: the
        publisher's own store, read without verification like ``--no-verify``.

        Raises :class:`ChannelError` on an empty store or a document not matching its pin.
        """
        from release.channel.views import ViewInput

        if self.path("metadata/timestamp.json").is_file():
            return _schema2_view_input(self.root, now, base_url)
        index = self.read_index()
        if index is None:
            raise ChannelError(f"{self.root} is not a channel store (no index.json)")
        channels: dict[str, ChannelDocument] = {}
        lines: dict[tuple[str, str], LineDocument] = {}
        for name in index.channels:
            doc = self.read_channel(name, index)
            if doc is None:
                continue
            channels[name] = doc
            for entry in doc.lines:
                if entry.support.phase == "eol" and entry.latest != doc.latest:
                    continue
                ldoc = self.read_line(doc, entry.line)
                if ldoc is not None:
                    lines[(name, entry.line)] = ldoc
        return ViewInput(index.project, channels, lines, now, base_url=base_url)

    def render_views(
        self,
        now: datetime,
        *,
        signer: DocumentSigner | None = None,
        channel: str | None = None,
        base_url: str | None = None,
    ) -> list[str]:
        """Regenerate every view (page, versions.json, feeds, install scripts).

        Call it after every change of the store. With ``signer`` and ``channel``, the
        channel's ``versions.json`` is signed when it changed. Returns the paths written.
        Raises :class:`ChannelError` and what the signer raises.
        """
        from release.channel import views

        files = views.render_views(self.view_input(now, base_url=base_url))
        return views.write_views(
            self.root, files, signer=signer, channel=channel, durable=self.durable
        )

    def verify_release_files(
        self, release: Release, verifier: DocumentVerifier | None = None
    ) -> None:
        """Every referenced file exists with its size and sha256 (and bundles verify).

        Raises :class:`ChannelError` (missing) or :class:`VerificationError`.
        """
        root = self.root.resolve()
        for ref in release.files():
            p = self.path(ref.path)
            if not p.is_file():
                raise ChannelError(
                    f"{release.tag}: {ref.path} is not in the channel store",
                    hint="copy the release files before publishing the index",
                )
            if root not in p.resolve().parents:
                raise VerificationError(f"{ref.path} resolves outside the channel store")
            size, digest = sha256_file(p)
            if size != ref.size or digest != ref.sha256:
                raise VerificationError(
                    f"{ref.path}: store has {size} bytes sha256 {digest[:16]}…, the release "
                    f"record says {ref.size} bytes sha256 {ref.sha256[:16]}…"
                )
        if verifier is not None:
            for art in release.artifacts:
                verifier.verify(
                    self.path(art.path).read_bytes(),
                    self.path(art.sigstore_bundle.path).read_bytes(),
                    release.signer,
                )

    # --- writing -------------------------------------------------------------

    def _write_versioned(
        self,
        start: int,
        render: Callable[[int], tuple[str, DocT]],
        signer: DocumentSigner | None,
    ) -> tuple[int, str, bytes, DocT]:
        """Write the first free version ``>= start`` of a document; sign it."""
        version = start
        for _ in range(self.max_attempts):
            rel, doc = render(version)
            data = doc.to_bytes()
            target = self.path(rel)
            if create_immutable(target, data, durable=self.durable):
                if signer is not None and not bundle_path(target).exists():
                    signer.sign(target)
                digest = hashlib.sha256(data).hexdigest()
                if isinstance(doc, _RawDoc):  # never mutated: the next attempt reuses it
                    self._remember(("raw", rel, digest), doc.raw)
                else:
                    self._remember(("obj", rel, digest), doc)
                return version, rel, data, doc
            version += 1
        raise ChannelError(f"no free document version after {start} ({self.max_attempts} tried)")

    def _install_schemas(self) -> None:
        pkg = resources.files("release.channel") / "schema"
        for name in SCHEMA_FILES:
            data = (pkg / name).read_bytes()
            target = self.path(f"schema/{name}")
            if self._read(f"schema/{name}") != data:
                atomic_write(target, data, durable=self.durable)

    def _swap_index(
        self,
        base: int,
        build: Callable[[int], tuple[str, Index]],
        signer: DocumentSigner | None,
    ) -> tuple[bool, int, str]:
        """Compare-and-swap under the lock. Returns (swapped, version, path)."""
        with Lock(self.path(LOCK_NAME), self.lock_timeout).held():
            current = self.read_index_bytes()
            now_version = 0 if current is None else model.parse_index(current).document.version
            if now_version != base:
                return False, now_version, ""
            version, rel, data, _ = self._write_versioned(base + 1, build, signer)
            self._install_schemas()
            atomic_write(self.path(INDEX_PATH), data, durable=self.durable)
            return True, version, rel

    def publish(
        self,
        channel: ChannelConfig,
        release: Release,
        *,
        project: str,
        now: datetime,
        signer: DocumentSigner | None,
        dev: bool = False,
        verifier: DocumentVerifier | None = None,
        expires_in: timedelta = DEFAULT_EXPIRES,
    ) -> PublishResult:
        """Publish ``release`` on ``channel`` and move the index. Idempotent.

        Documents are signed by ``channel.expected_signer(dev)`` (``{line}`` filled with
        the release's line); ``release.signer`` must be that identity too. Publishing a
        release that is already there with the same record is a no-op
        (``changed=False``). Raises :class:`ChannelError`, :class:`VerificationError`,
        :class:`~release.errors.ConfigError`.
        """
        template = channel.expected_signer(dev)
        try:
            line = str(model.parse_version(channel.kind, release.version).line)
        except DocumentError as exc:
            raise ChannelError(exc.message, hint=exc.hint) from exc
        ident = template.for_line(line)
        if release.signer != ident:
            raise VerificationError(
                f"{release.tag} is signed by {release.signer.identity} "
                f"({release.signer.issuer}); channel {channel.name} line {line} expects "
                f"{ident.identity} ({ident.issuer})",
                hint="one channel's signer cannot publish on another channel",
            )
        self.verify_release_files(release, verifier)

        def apply(prev_line: Raw | None, version: int) -> Raw:
            return model.append_release_dict(
                prev_line,
                release,
                project=project,
                channel=channel.name,
                kind=channel.kind,
                tag_format=channel.tag_format.template,
                signer=ident,
                now=now,
                version=version,
            )

        return self._update(
            channel,
            line,
            apply,
            project=project,
            now=now,
            signer=signer,
            ident=ident,
            template=template,
            expires_in=expires_in,
            same=lambda doc: _release_in(doc, release.version) == release,
        )

    def withdraw(
        self,
        channel: ChannelConfig,
        version: str,
        *,
        reason: str,
        project: str,
        now: datetime,
        signer: DocumentSigner | None,
        dev: bool = False,
        replacement: str | None = None,
        expires_in: timedelta = DEFAULT_EXPIRES,
    ) -> PublishResult:
        """Withdraw a published release (it stays listed, with the reason and replacement).

        Raises :class:`ChannelError` when it is not published or already withdrawn.
        """
        template = channel.expected_signer(dev)
        try:
            line = str(model.parse_version(channel.kind, version).line)
        except DocumentError as exc:
            raise ChannelError(exc.message, hint=exc.hint) from exc
        ident = template.for_line(line)

        def apply(prev_line: Raw | None, doc_version: int) -> Raw:
            if prev_line is None:
                raise ChannelError(f"{channel.name} has no release {version} to withdraw")
            new = model.withdraw(
                LineDocument.from_dict(prev_line),
                version,
                reason=reason,
                now=now,
                signer=ident,
                replacement=replacement,
                doc_version=doc_version,
            )
            return new.to_dict()

        def same(doc: Raw) -> bool:
            r = _release_in(doc, version)
            return (
                r is not None
                and r.withdrawal is not None
                and (r.withdrawal.reason, r.withdrawal.replacement) == (reason, replacement)
            )

        return self._update(
            channel,
            line,
            apply,
            project=project,
            now=now,
            signer=signer,
            ident=ident,
            template=template,
            expires_in=expires_in,
            same=same,
        )

    def refresh(
        self,
        channel: ChannelConfig,
        *,
        project: str,
        now: datetime,
        signer: DocumentSigner | None,
        dev: bool = False,
        expires_in: timedelta = DEFAULT_EXPIRES,
    ) -> PublishResult:
        """Re-issue the index (version + 1, new expiry) with no content change.

        Run it on a schedule shorter than ``expires_in`` so clients never see an
        expired (frozen) index between releases. Raises :class:`ChannelError`.
        """
        template = channel.expected_signer(dev)
        for attempt in range(1, self.max_attempts + 1):
            prev = self.read_index()
            if prev is None or channel.name not in prev.channels:
                raise ChannelError(f"the store has no channel {channel.name!r} to refresh")
            entry = prev.channels[channel.name]
            doc = self.read_channel(channel.name, prev)
            assert doc is not None
            ident = doc.signer if "{line}" in template.identity else template
            build = self._index_builder(prev, channel.name, entry, ident, now, expires_in, project)
            ok, version, rel = self._swap_index(prev.version, build, signer)
            if ok:
                return PublishResult(version, rel, entry.document.path, None, True, attempt)
        raise ChannelError(f"gave up refreshing after {self.max_attempts} concurrent updates")

    @staticmethod
    def _index_builder(
        prev: Index | None,
        name: str,
        entry: model.ChannelEntry,
        ident: Identity,
        now: datetime,
        expires_in: timedelta,
        project: str,
    ) -> Callable[[int], tuple[str, Index]]:
        def build(version: int) -> tuple[str, Index]:
            doc = model.next_index(
                prev,
                project=project,
                channel=name,
                entry=entry,
                signer=ident,
                now=now,
                expires_in=expires_in,
                version=version,
            )
            return model.index_version_path(version), doc

        return build

    def _update(
        self,
        channel: ChannelConfig,
        line: str,
        apply: Apply,
        *,
        project: str,
        now: datetime,
        signer: DocumentSigner | None,
        ident: Identity,
        template: Identity,
        expires_in: timedelta,
        same: Callable[[Raw], bool],
    ) -> PublishResult:
        for attempt in range(1, self.max_attempts + 1):
            try:
                result = self._attempt(
                    channel,
                    line,
                    apply,
                    project=project,
                    now=now,
                    signer=signer,
                    ident=ident,
                    template=template,
                    expires_in=expires_in,
                    same=same,
                )
            except DocumentError as exc:
                raise ChannelError(exc.message, hint=exc.hint) from exc
            if result is not None:
                return replace(result, attempts=attempt)
        raise ChannelError(
            f"gave up publishing after {self.max_attempts} concurrent updates",
            hint="another publisher keeps moving the index; retry later",
        )

    def _pinned_raw(self, pin: model.Pin, what: str) -> Raw:
        """The canonical dict of a pinned document (checked against its pin; cached)."""
        key = ("raw", pin.path, pin.sha256)
        with self._cache_lock:
            if key in self._cache:
                if self.path(pin.path).stat().st_size != pin.length:
                    raise ChannelError(f"{what} {pin.path} changed on disk")
                return self._cache[key]  # type: ignore[no-any-return]
        raw = sj.loads(self._pinned(pin, what), what=pin.path)
        self._remember(key, raw)
        return raw

    def _attempt(
        self,
        channel: ChannelConfig,
        line: str,
        apply: Apply,
        *,
        project: str,
        now: datetime,
        signer: DocumentSigner | None,
        ident: Identity,
        template: Identity,
        expires_in: timedelta,
        same: Callable[[Raw], bool],
    ) -> PublishResult | None:
        """One compute-and-swap; None when another publisher moved the index first.

        Previous documents are handled as canonical dicts (they were validated when
        published and are read through their pins); new ones are built with the
        model's dict transitions, which give the same bytes as the object ones.
        """
        prev = self.read_index()
        base = prev.version if prev else 0
        doc: Raw | None = None
        if prev is not None and channel.name in prev.channels:
            current = prev.channels[channel.name]
            if (current.kind, current.tag_format) != (channel.kind, channel.tag_format.template):
                raise ChannelError(
                    f"channel {channel.name} is published as {current.kind} "
                    f"{current.tag_format!r}; the configuration says {channel.kind} "
                    f"{channel.tag_format.template!r}"
                )
            doc = self._pinned_raw(current.document, "channel document")
        old_entry = next((e for e in doc["lines"] if e["line"] == line), None) if doc else None
        prev_line: Raw | None = None
        if old_entry is not None:
            lpin_old = model.Pin.from_dict(old_entry["document"], "document")
            prev_line = self._pinned_raw(lpin_old, "line document")
        if prev is not None and doc is not None and prev_line is not None and same(prev_line):
            return PublishResult(
                base,
                model.index_version_path(base),
                prev.channels[channel.name].document.path,
                old_entry["document"]["path"] if old_entry else None,
                False,
                1,
            )

        def render_line(v: int) -> tuple[str, _RawDoc]:
            return model.line_document_path(channel.name, line, v), _RawDoc(apply(prev_line, v))

        lv, lrel, ldata, line_doc = self._write_versioned(
            prev_line["version"] + 1 if prev_line else 1, render_line, signer
        )
        lpin = model.pin_for(lrel, lv, ldata)

        def render_channel(v: int) -> tuple[str, _RawDoc]:
            new = model.update_channel_dict(
                doc, line_doc.raw, lpin, signer=ident, policy=channel.support, now=now, version=v
            )
            return model.channel_document_path(channel.name, v), _RawDoc(new)

        cv, crel, cdata, cdoc = self._write_versioned(
            doc["version"] + 1 if doc else 1, render_channel, signer
        )
        entry = model.channel_entry_dict(cdoc.raw, model.pin_for(crel, cv, cdata), template)
        build = self._index_builder(prev, channel.name, entry, ident, now, expires_in, project)
        ok, version, rel = self._swap_index(base, build, signer)
        return PublishResult(version, rel, crel, lrel, True, 1) if ok else None


class _RawDoc:
    """A document as its canonical dict (what the store's fast path writes)."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw

    def to_bytes(self) -> bytes:
        return sj.dumps(self.raw)


def _release_in(doc: Raw, version: str) -> Release | None:
    for r in doc["releases"]:
        if r.get("version") == version:
            return Release.from_dict(r, f"release {version}")
    return None


# Room left free beyond what a publish writes (documents, bundles, the page).
FREE_SPACE_MARGIN = 1 << 20


def store_problems(root: Path, *, need: int = 0) -> list[str]:
    """What stops a publish into the store at ``root``, checked before any side effect:
    the index parses and every document it pins is there with its pinned bytes, the
    directory is writable, and ``need`` bytes plus a margin are free. Never writes."""
    root = Path(root)
    probe = root
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return [f"channel store {root}: {probe} is not a directory"]
    problems: list[str] = []
    if not os.access(probe, os.W_OK | os.X_OK):
        problems.append(f"channel store {root}: {probe} is not writable")
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        free = None
    if free is not None and free < need + FREE_SPACE_MARGIN:
        problems.append(
            f"channel store {root}: {free // 1024} KiB free, the release needs "
            f"{(need + FREE_SPACE_MARGIN) // 1024} KiB (artifacts plus a margin)"
        )
    if root.is_dir():
        from release.channel.tuf.metadata import INDEX_STUB_SCHEMA, METADATA_DIR

        index_bytes = ChannelStore(root).read_index_bytes()
        schema_2 = (root / METADATA_DIR).is_dir() or (
            index_bytes is not None and f'"{INDEX_STUB_SCHEMA}"'.encode() in index_bytes
        )
        try:
            if schema_2:
                from release.channel.backends.directory import DirectoryBackend
                from release.channel.tuf.reader import StoreReader, all_documents

                tuf_store = StoreReader(DirectoryBackend(root))
                if tuf_store.read_state() is not None:
                    all_documents(tuf_store)
            elif index_bytes is not None:
                model.parse_index(index_bytes)  # garbage: "not a valid channel store"
                problems.append(
                    f"channel store {root} is a schema 1 store (index.json v1); "
                    f"convert it first: release channel migrate --store {root}"
                )
        except (ChannelError, DocumentError, OSError) as exc:
            detail = exc.message if isinstance(exc, ChannelError | DocumentError) else str(exc)
            problems.append(
                f"channel store {root} is not a valid channel store ({detail}); "
                "repair or restore it, or publish to another --out"
            )
    return problems


def _schema2_view_input(root: Path, now: datetime, base_url: str | None) -> ViewInput:
    """The documents of a TUF (schema 2) store as its channel roles list them."""
    from release.channel.tuf.client import open_client
    from release.channel.views import ViewInput

    client = open_client(str(root), verify=False, now=now)
    channels = {name: client.channel(name) for name in client.published_channels()}
    if not channels:
        raise ChannelError(f"{root}: the store has no channel yet")
    lines: dict[tuple[str, str], LineDocument] = {}
    for name, doc in channels.items():
        for entry in doc.lines:
            if entry.support.phase == "eol" and entry.latest != doc.latest:
                continue
            lines[(name, entry.line)] = client.line(name, entry.line)
    project = next(iter(channels.values())).project
    return ViewInput(project, channels, lines, now, base_url=base_url)
