"""``release channel import``: a signed channel store built from a repository's release tags.

The releases are the tags :func:`release.history.build_history` counts (anomalous tags
and ``[history] ignore-tags`` left out). Each is recorded with its source commit and the
notes the pipeline writes into tag notes (the grouped :func:`release.changelog.render_section`
of the commits since the previous release of its channel, from one ``git log`` pass).
A backfilled release has no artifacts unless they are recorded from elsewhere: the
record then lists none (the schema allows an empty ``artifacts`` array).

Publication goes through :class:`~release.channel.tuf.repo.TufStore`: a channel the store
does not have yet is written as whole documents and listed in new roles with
:meth:`~release.channel.tuf.repo.TufStore.adopt_channel` (the migrate path: one
snapshot and one timestamp swap per channel, the timestamp last); with ``merge``, each
missing release of a channel the store already has is published with
:meth:`~release.channel.tuf.repo.TufStore.publish`, as the pipeline publishes.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from release.adapters.git import Commit
from release.changelog import FIRST_RELEASE_LIMIT, NOTES_LIMIT, render_section
from release.channel import model
from release.channel import strictjson as sj
from release.channel.backends import ObjectExists
from release.channel.model import Release
from release.channel.tuf.repo import PublishResult, TufStore
from release.checksums import Digest
from release.config import ChannelConfig, Identity
from release.errors import ChannelError, UsageError
from release.history import History, ReleaseTag, assign_commits

OpenSigner = Callable[[Identity], contextlib.AbstractContextManager[Any]]
Raw = dict[str, Any]
Log = Callable[[Sequence[str]], list[Commit]]


@dataclass(frozen=True)
class ChannelImport:
    """What the import did for one channel."""

    channel: str
    added: tuple[str, ...]  # tags recorded by this run
    present: int  # releases the store already had
    result: PublishResult | None


def identity_for(channel: ChannelConfig, dev: bool, line: str) -> Identity:
    """The identity that signs ``line`` of ``channel`` (``{line}`` filled in)."""
    template = channel.expected_signer(dev)
    return template.for_line(line) if "{line}" in template.identity else template


BUNDLE = ".sigstore.json"
SUMS = "SHA256SUMS"


def bundled(files: Sequence[Digest]) -> list[tuple[Digest, Digest]]:
    """The (file, bundle) pairs of a release's files (pure), by name: a file with its
    original ``<name>.sigstore.json`` beside it (``SHA256SUMS`` is never an artifact)."""
    by_name = {d.name: d for d in files}
    pairs = []
    for d in sorted(files, key=lambda d: d.name):
        bundle = by_name.get(d.name + BUNDLE)
        if bundle is not None and d.name != SUMS:
            pairs.append((d, bundle))
    return pairs


def artifacts_of(
    tag: str, files: Sequence[Digest], unverified: frozenset[str] = frozenset()
) -> tuple[tuple[model.Artifact, ...], bool]:
    """The artifact records of a release's downloaded files (pure): each file of
    :func:`bundled` is an artifact with its bundle, unless its name is in ``unverified``
    (its bundle did not verify); the bundles, and files without one, are recorded by the
    checksums file only (an artifact record needs a bundle). The flag: the files include
    their own ``SHA256SUMS``."""
    prefix = f"releases/{tag}/"
    out = []
    for d, bundle in bundled(files):
        if d.name in unverified:
            continue
        try:
            out.append(
                model.Artifact(
                    name=d.name,
                    path=prefix + d.name,
                    size=d.size,
                    sha256=d.sha256,
                    kind=artifact_kind(d.name),
                    sigstore_bundle=model.FileRef(prefix + bundle.name, bundle.size, bundle.sha256),
                )
            )
        except sj.DocumentError as exc:
            raise ChannelError(f"{tag}: {exc.message}", hint=exc.hint) from exc
    return tuple(out), any(d.name == SUMS for d in files)


def artifact_kind(name: str) -> str:
    if name.endswith(".whl"):
        return "wheel"
    if name.endswith((".tar.gz", ".tgz", ".zip", ".tar.xz", ".tar.zst")):
        return "archive"
    return "binary"


def cut_from(history: History) -> dict[str, str]:
    """Stable tag -> the edge release it was cut from (pure): the ``X.Y.0`` of a stable
    channel on the very commit of an edge release (what the pipeline's cut records)."""
    edges: dict[str, str] = {}
    for rels in history.channels.values():
        for r in rels:
            if r.kind == "edge":
                edges.setdefault(r.commit, r.name)
    return {
        r.name: edges[r.commit]
        for rels in history.channels.values()
        for r in rels
        if r.kind == "stable" and getattr(r.version, "patch", None) == 0 and r.commit in edges
    }


def release_notes(history: History, log: Log, *, repository: str | None) -> dict[str, str]:
    """Notes of every release of ``history`` (tag -> markdown), as the pipeline renders tag
    notes: the commits since the previous release of the channel, grouped, in one
    ``git log --topo-order`` pass over every release tag."""
    releases = [r for rels in history.channels.values() for r in rels]
    if not releases:
        return {}
    heads = {r.name: r.commit for r in releases}
    previous: dict[str, str | None] = {}
    for r in releases:
        prev = history.previous(r)
        previous[r.name] = prev.name if prev else None
    assigned = assign_commits(log(sorted(set(heads.values()))), heads, previous)
    cuts = cut_from(history)
    return {
        r.name: render_section(
            r.name,
            r.day,
            assigned[r.name],
            repository=repository,
            intro=_cut_intro(r, cuts.get(r.name), previous[r.name], bool(assigned[r.name])),
            limit=NOTES_LIMIT if previous[r.name] else FIRST_RELEASE_LIMIT,
        )
        for r in releases
    }


def _cut_intro(r: ReleaseTag, edge: str | None, previous: str | None, changes: bool) -> str:
    """The intro the pipeline writes for a stable cut."""
    if edge is None:
        return ""
    since = f" Changes since {previous}:" if previous and changes else ""
    return f"First release of the {r.line} line, cut from {edge}.{since}"


def record_of(
    tag: ReleaseTag,
    channel: ChannelConfig,
    *,
    dev: bool,
    repository: str,
    notes: str,
    artifacts: Sequence[model.Artifact] = (),
    checksums: model.FileRef | None = None,
    from_edge: str | None = None,
) -> Release:
    """The channel record of a release tag (pure)."""
    return Release(
        version=str(tag.version),
        tag=tag.name,
        published_at=tag.date.replace(microsecond=0),
        source=model.Source(repository=repository, commit=tag.commit, ref=f"refs/tags/{tag.name}"),
        signer=identity_for(channel, dev, str(tag.line)),
        artifacts=tuple(artifacts),
        notes=notes,
        checksums=checksums,
        from_edge=from_edge,
    )


def build_documents(
    channel: ChannelConfig,
    releases: Sequence[Release],
    *,
    project: str,
    dev: bool,
    now: datetime,
) -> tuple[dict[str, Raw], Callable[[dict[str, model.Pin]], Raw]]:
    """The line documents (line -> canonical dict, version 1) of ``releases`` (ascending by
    version) and a function giving the channel document from the line documents' pins."""
    lines: dict[str, Raw] = {}
    for release in releases:
        line = str(model.parse_version(channel.kind, release.version).line)
        lines[line] = model.append_release_dict(
            lines.get(line),
            release,
            project=project,
            channel=channel.name,
            kind=channel.kind,
            tag_format=channel.tag_format.template,
            signer=identity_for(channel, dev, line),
            now=now,
            version=1,
        )

    def channel_doc(pins: dict[str, model.Pin]) -> Raw:
        doc: Raw | None = None
        for line in sorted(lines, key=model.line_key):
            doc = model.update_channel_dict(
                doc,
                lines[line],
                pins[line],
                signer=channel.expected_signer(dev),
                policy=channel.support,
                now=now,
                version=1,
            )
        assert doc is not None  # every channel imported has a release
        return doc

    return lines, channel_doc


def _put_document(
    store: TufStore, key_of: Callable[[int], str], raw: Raw
) -> tuple[str, int, bytes]:
    """Create the first free version of a document (an orphan of a crashed import is
    skipped, never overwritten). Returns its key, version and bytes."""
    for version in range(1, 1000):
        key = key_of(version)
        data = sj.dumps({**raw, "version": version})
        try:
            store.backend.put_if_absent(key, data)
        except ObjectExists:
            continue
        return key, version, data
    raise ChannelError(f"no free document version for {key_of(1)}")


def existing_versions(store: TufStore, channels: Iterable[str]) -> dict[str, list[str]]:
    """The versions each channel of the store lists (channels without a role are absent)."""
    state = store.read_state()
    out: dict[str, list[str]] = {}
    if state is None:
        return out
    for name in channels:
        found = store.channel_document(state, name)
        if found is None:
            continue
        versions: list[str] = []
        for entry in found[1]["lines"]:
            line = store.line_document(found[1], entry["line"])
            if line is not None:
                versions += [r["version"] for r in line[1]["releases"]]
        out[name] = versions
    return out


def check_merge(channel: ChannelConfig, have: Sequence[str], missing: Sequence[Release]) -> None:
    """A merged release must be above every release of its line in the store (published
    lines only move forward). Raises :class:`UsageError` before anything is written."""
    tops: dict[str, Any] = {}
    for v in have:
        parsed = model.parse_version(channel.kind, v)
        key = str(parsed.line)
        if key not in tops or tops[key] < parsed:
            tops[key] = parsed
    for release in missing:
        parsed = model.parse_version(channel.kind, release.version)
        top = tops.get(str(parsed.line))
        if top is not None and not top < parsed:
            raise UsageError(
                f"{release.tag} is missing from the store but below {top}, the newest "
                f"release of {channel.name} line {parsed.line} there",
                hint="a published line only moves forward; --merge adds releases above it",
            )


def import_channel(
    store: TufStore,
    channel: ChannelConfig,
    releases: Sequence[Release],
    have: Sequence[str] | None,
    *,
    project: str,
    dev: bool,
    now: datetime,
    open_signer: OpenSigner,
    expiry: Any = None,
) -> ChannelImport:
    """Record ``releases`` (ascending) of ``channel``; ``have``: the versions the store lists
    for it (None: the store has no role for the channel). Raises :class:`ChannelError`."""
    template = channel.expected_signer(dev)
    per_line = "{line}" in template.identity
    if have is not None:
        known = set(have)
        missing = [r for r in releases if r.version not in known]
        check_merge(channel, have, missing)
        result = None
        with contextlib.ExitStack() as stack:
            signers: dict[Identity, Any] = {}
            for release in missing:
                ident = release.signer
                if ident not in signers:
                    signers[ident] = stack.enter_context(open_signer(ident))
                result = store.publish(
                    channel,
                    release,
                    project=project,
                    now=now,
                    signer=signers[ident],
                    identity=ident,
                    expiry=expiry,
                    per_line_keys=per_line,
                )
        return ChannelImport(channel.name, tuple(r.tag for r in missing), len(known), result)

    lines, channel_doc = build_documents(channel, releases, project=project, dev=dev, now=now)
    docs: dict[str, tuple[str, bytes]] = {}
    pins: dict[str, model.Pin] = {}
    for line, raw in lines.items():
        path, version, data = _put_document(
            store, functools.partial(model.line_document_path, channel.name, line), raw
        )
        docs[line] = (path, data)
        pins[line] = model.pin_for(path, version, data)
    cpath, _, cdata = _put_document(
        store, lambda v: model.channel_document_path(channel.name, v), channel_doc(pins)
    )
    with contextlib.ExitStack() as stack:
        line_signers: dict[str, Any] = {}
        if per_line:
            for line in lines:
                line_signers[line] = stack.enter_context(
                    open_signer(identity_for(channel, dev, line))
                )
            signer = line_signers[max(lines, key=model.line_key)]
        else:
            signer = stack.enter_context(open_signer(template))
        result = store.adopt_channel(
            channel.name,
            (cpath, cdata),
            docs,
            now=now,
            signer=signer,
            line_signers=line_signers.__getitem__ if per_line else None,
            expiry=expiry,
        )
    return ChannelImport(channel.name, tuple(r.tag for r in releases), 0, result)


def releases_of(
    history: History,
    channels: Mapping[str, ChannelConfig],
    notes: Mapping[str, str],
    *,
    dev: bool,
    repository: str,
    files: Mapping[str, tuple[tuple[model.Artifact, ...], model.FileRef | None]] | None = None,
) -> dict[str, list[Release]]:
    """Every release of ``history`` as a record, by channel, ascending by version."""
    cuts = cut_from(history)
    return {
        name: [
            record_of(
                tag,
                channels[name],
                dev=dev,
                repository=repository,
                notes=notes[tag.name],
                artifacts=(files or {}).get(tag.name, ((), None))[0],
                checksums=(files or {}).get(tag.name, ((), None))[1],
                from_edge=cuts.get(tag.name),
            )
            for tag in tags
        ]
        for name, tags in history.channels.items()
        if name in channels and tags
    }
