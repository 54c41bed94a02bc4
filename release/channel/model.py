"""Channel index v1 (pure): documents, invariants, and how a new one follows the old one.

Three document types, each a frozen dataclass parsed from **bytes** and written as
canonical bytes (see :mod:`release.channel.strictjson`):

``Index``            ``index.json`` / ``index/v{N}.json``: per channel its latest, its
                     live lines (not EOL) and a pin of the current channel document.
``ChannelDocument``  ``channels/<ch>/v{N}.json``: every line with its support window,
                     latest and a pin of the line document.
``LineDocument``     ``channels/<ch>/lines/<line>/v{N}.json``: the releases of one line.

Sharding by line keeps every document small as history grows: publishing a release
rewrites one line document, the channel document (one entry per line) and the index
(live lines only). Frozen lines are reached through pins, never inlined.

Unknown fields survive ``from_dict``/``to_dict``. ``schema_version`` is ``Major.Minor``:
an unknown major is refused, a newer minor is accepted and reported as a warning.
Every function here takes values (including ``now``) and returns values.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from release.channel import strictjson as sj
from release.channel.strictjson import DocumentError, fail
from release.config import Identity, SupportPolicy
from release.errors import InvalidVersion, UsageError
from release.versions import EdgeVersion, Line, StableVersion, TagFormat, parse_line

__all__ = [
    "INDEX_PATH",
    "SCHEMA_VERSION",
    "Artifact",
    "ChannelDocument",
    "ChannelEntry",
    "DocumentError",
    "FileRef",
    "Index",
    "LineDocument",
    "LineEntry",
    "Parsed",
    "Pin",
    "Provenance",
    "Release",
    "Source",
    "Support",
    "Withdrawal",
    "add_release",
    "channel_document_path",
    "channel_entry",
    "compute_support",
    "index_version_path",
    "line_document_path",
    "next_index",
    "parse_channel",
    "parse_index",
    "parse_line_document",
    "parse_version",
    "pin_for",
    "update_channel",
    "withdraw",
]

SCHEMA_MAJOR = 1
SCHEMA_MINOR = 0
SCHEMA_VERSION = f"{SCHEMA_MAJOR}.{SCHEMA_MINOR}"
INDEX_PATH = "index.json"
TYPE_INDEX = "release-channels/index"
TYPE_CHANNEL = "release-channels/channel"
TYPE_LINE = "release-channels/line"
KINDS = ("edge", "stable")
PHASES = ("active", "maintenance", "eol")
# GOOS/GOARCH-style names; "any" for platform-independent files (sdist, wheel).
KNOWN_OS = frozenset(
    {"linux", "darwin", "windows", "freebsd", "openbsd", "netbsd", "illumos", "android", "any"}
)
KNOWN_ARCH = frozenset(
    {"amd64", "arm64", "386", "arm", "riscv64", "ppc64le", "s390x", "loong64", "wasm", "any"}
)
CLOCK_SKEW = timedelta(minutes=5)
_CHANNEL_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_KIND_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")

AnyVersion = EdgeVersion | StableVersion
D = TypeVar("D")
T = TypeVar("T")


@dataclass(frozen=True)
class Parsed(Generic[D]):
    """A parsed document and the warnings the caller should show (newer minor schema)."""

    document: D
    warnings: tuple[str, ...] = ()


# --- small helpers -------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _parse_version(kind: str, text: str) -> AnyVersion:
    if kind == "edge":
        return EdgeVersion.parse(text)
    return StableVersion.parse(text)


def parse_version(kind: str, text: str, where: str = "version") -> AnyVersion:
    """``text`` as an edge (``YY.M.N``) or stable (``X.Y.Z``) version. Raises DocumentError."""
    try:
        return _parse_version(kind, text)  # versions are immutable values: cache the parse
    except InvalidVersion as exc:
        fail(f"{where}: {exc.message} in a {kind} channel")


def _line_of(kind: str, text: str, where: str) -> str:
    return str(parse_version(kind, text, where).line)


@functools.lru_cache(maxsize=4096)
def _parse_line(text: str) -> Line:
    return parse_line(text)


def _check_line(text: str, where: str) -> Line:
    try:
        return _parse_line(text)
    except UsageError:
        fail(f"{where} {text[:40]!r} is not a line X.Y")


def _check_kind(kind: str, where: str) -> str:
    if kind not in KINDS:
        fail(f"{where}: kind must be 'edge' or 'stable', not {kind!r}")
    return kind


def _check_channel_name(name: str, where: str) -> str:
    if not _CHANNEL_RE.fullmatch(name):
        fail(f"{where}: channel name {name[:70]!r} must match [a-z0-9][a-z0-9-]*")
    return name


def _check_tag_format(template: str, kind: str, where: str) -> TagFormat:
    try:
        fmt = TagFormat(template)
    except InvalidVersion as exc:
        fail(f"{where}: {exc.message}")
    if fmt.kind != kind:
        fail(f"{where}: tag format {template!r} is an {fmt.kind} format in a {kind} channel")
    return fmt


def _schema_warning(value: Any, where: str) -> str | None:
    text = sj.string(value, f"{where}.schema_version")
    m = re.fullmatch(r"(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})", text)
    if not m:
        fail(f"{where}: schema_version {text[:20]!r} is not Major.Minor")
    major, minor = int(m[1]), int(m[2])
    if major != SCHEMA_MAJOR:
        fail(
            f"{where}: unsupported schema_version {text} (this client reads {SCHEMA_MAJOR}.x)",
            "upgrade release-channels to read this channel index",
        )
    if minor > SCHEMA_MINOR:
        return f"{where} uses schema {text}, newer than {SCHEMA_VERSION}; unknown fields ignored"
    return None


def _identity(value: Any, where: str) -> Identity:
    d = sj.obj(value, where)
    return Identity(
        identity=sj.string(sj.req(d, "identity", where), f"{where}.identity"),
        issuer=sj.string(sj.req(d, "issuer", where), f"{where}.issuer"),
    )


def _identity_dict(ident: Identity) -> dict[str, str]:
    return {"identity": ident.identity, "issuer": ident.issuer}


def _wrap(where: str, build: Callable[[], T]) -> T:
    try:
        return build()
    except DocumentError as exc:
        fail(f"{where}: {exc.message}", exc.hint)


def _check_type(d: Mapping[str, Any], expected: str, where: str) -> None:
    got = d.get("type")
    if got != expected:
        fail(
            f"{where}: type is {got!r}, expected {expected!r}",
            "a document of another type was served in its place",
        )


# --- leaf records --------------------------------------------------------------


@dataclass(frozen=True)
class FileRef:
    """A file in the store: relative path, size in bytes and sha256."""

    path: str
    size: int
    sha256: str
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"path", "size", "sha256"})

    def __post_init__(self) -> None:
        sj.relpath(self.path, "path")
        sj.integer(self.size, "size")
        sj.sha256(self.sha256, "sha256")

    @classmethod
    def from_dict(cls, value: Any, where: str) -> FileRef:
        d = sj.obj(value, where)
        return _wrap(
            where,
            lambda: cls(
                path=sj.string(sj.req(d, "path", where), "path"),
                size=sj.integer(sj.req(d, "size", where), "size"),
                sha256=sj.string(sj.req(d, "sha256", where), "sha256"),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Artifact:
    """A downloadable file of a release with its Sigstore bundle."""

    name: str
    path: str
    size: int
    sha256: str
    kind: str
    sigstore_bundle: FileRef
    os: str | None = None
    arch: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset(
        {"name", "path", "size", "sha256", "kind", "sigstore_bundle", "os", "arch"}
    )

    def __post_init__(self) -> None:
        sj.string(self.name, "name")
        if "/" in self.name or self.name in (".", ".."):
            fail(f"artifact name {self.name!r} must be a plain file name")
        sj.relpath(self.path, "path")
        if self.path.rsplit("/", 1)[-1] != self.name:
            fail(f"artifact path {self.path!r} does not end in its name {self.name!r}")
        sj.integer(self.size, "size")
        sj.sha256(self.sha256, "sha256")
        if not _KIND_RE.fullmatch(self.kind):
            fail(f"artifact kind {self.kind[:40]!r} must match [a-z0-9][a-z0-9-]*")
        if self.os is not None and self.os not in KNOWN_OS:
            fail(f"unknown os {self.os[:40]!r}", f"known: {', '.join(sorted(KNOWN_OS))}")
        if self.arch is not None and self.arch not in KNOWN_ARCH:
            fail(f"unknown arch {self.arch[:40]!r}", f"known: {', '.join(sorted(KNOWN_ARCH))}")

    @classmethod
    def from_dict(cls, value: Any, where: str) -> Artifact:
        d = sj.obj(value, where)
        return _wrap(
            where,
            lambda: cls(
                name=sj.string(sj.req(d, "name", where), "name"),
                path=sj.string(sj.req(d, "path", where), "path"),
                size=sj.integer(sj.req(d, "size", where), "size"),
                sha256=sj.string(sj.req(d, "sha256", where), "sha256"),
                kind=sj.string(sj.req(d, "kind", where), "kind"),
                sigstore_bundle=FileRef.from_dict(
                    sj.req(d, "sigstore_bundle", where), "sigstore_bundle"
                ),
                os=sj.opt_string(d.get("os"), "os"),
                arch=sj.opt_string(d.get("arch"), "arch"),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.extra,
            "name": self.name,
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "kind": self.kind,
            "sigstore_bundle": self.sigstore_bundle.to_dict(),
        }
        if self.os is not None:
            out["os"] = self.os
        if self.arch is not None:
            out["arch"] = self.arch
        return out

    @property
    def platform(self) -> str:
        return f"{self.os or 'any'}/{self.arch or 'any'}"


@dataclass(frozen=True)
class Provenance:
    """SLSA provenance of a release (a DSSE in-toto statement), optionally with a bundle."""

    path: str
    size: int
    sha256: str
    sigstore_bundle: FileRef | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"path", "size", "sha256", "sigstore_bundle"})

    def __post_init__(self) -> None:
        FileRef(self.path, self.size, self.sha256)

    @classmethod
    def from_dict(cls, value: Any, where: str) -> Provenance:
        d = sj.obj(value, where)
        bundle = d.get("sigstore_bundle")
        return _wrap(
            where,
            lambda: cls(
                path=sj.string(sj.req(d, "path", where), "path"),
                size=sj.integer(sj.req(d, "size", where), "size"),
                sha256=sj.string(sj.req(d, "sha256", where), "sha256"),
                sigstore_bundle=None
                if bundle is None
                else FileRef.from_dict(bundle, "sigstore_bundle"),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.extra,
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
        }
        if self.sigstore_bundle is not None:
            out["sigstore_bundle"] = self.sigstore_bundle.to_dict()
        return out


@dataclass(frozen=True)
class Source:
    repository: str
    commit: str
    ref: str
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"repository", "commit", "ref"})

    def __post_init__(self) -> None:
        sj.string(self.repository, "repository")
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", self.commit):
            fail(f"commit {self.commit[:70]!r} is not a full git object id")
        sj.string(self.ref, "ref")

    @classmethod
    def from_dict(cls, value: Any, where: str) -> Source:
        d = sj.obj(value, where)
        return _wrap(
            where,
            lambda: cls(
                repository=sj.string(sj.req(d, "repository", where), "repository"),
                commit=sj.string(sj.req(d, "commit", where), "commit"),
                ref=sj.string(sj.req(d, "ref", where), "ref"),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "repository": self.repository, "commit": self.commit, "ref": self.ref}


@dataclass(frozen=True)
class Withdrawal:
    """Why a release was withdrawn, when, and what to use instead."""

    reason: str
    withdrawn_at: datetime
    replacement: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"reason", "withdrawn_at", "replacement"})

    def __post_init__(self) -> None:
        sj.string(self.reason, "reason")
        sj.format_time(self.withdrawn_at)

    @classmethod
    def from_dict(cls, value: Any, where: str) -> Withdrawal:
        d = sj.obj(value, where)
        return _wrap(
            where,
            lambda: cls(
                reason=sj.string(sj.req(d, "reason", where), "reason"),
                withdrawn_at=sj.time(sj.req(d, "withdrawn_at", where), "withdrawn_at"),
                replacement=sj.opt_string(d.get("replacement"), "replacement"),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "reason": self.reason,
            "withdrawn_at": sj.format_time(self.withdrawn_at),
            "replacement": self.replacement,
        }


@dataclass(frozen=True)
class Release:
    """One release record. ``status`` is ``active`` or ``withdrawn`` (then ``withdrawal``)."""

    version: str
    tag: str
    published_at: datetime
    source: Source
    signer: Identity
    artifacts: tuple[Artifact, ...]
    status: str = "active"
    withdrawal: Withdrawal | None = None
    notes: str | None = None
    provenance: Provenance | None = None
    checksums: FileRef | None = None
    from_edge: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset(
        {
            "version",
            "tag",
            "published_at",
            "source",
            "signer",
            "artifacts",
            "status",
            "withdrawal",
            "notes",
            "provenance",
            "checksums",
            "from_edge",
        }
    )

    def __post_init__(self) -> None:
        sj.string(self.version, "version")
        sj.string(self.tag, "tag")
        if "/" in self.tag or self.tag.startswith("."):
            fail(f"tag {self.tag!r} cannot name a directory under releases/")
        sj.format_time(self.published_at)
        if self.status not in ("active", "withdrawn"):
            fail(f"{self.version}: status must be 'active' or 'withdrawn', not {self.status!r}")
        if (self.status == "withdrawn") != (self.withdrawal is not None):
            fail(f"{self.version}: a withdrawn release needs a withdrawal record, and only it")
        prefix = f"releases/{self.tag}/"
        names: set[str] = set()
        platforms: set[tuple[str, str, str]] = set()
        for art in self.artifacts:
            if art.name in names:
                fail(f"{self.version}: artifact {art.name!r} is listed twice")
            names.add(art.name)
            key = (art.kind, art.os or "any", art.arch or "any")
            if art.os is not None and key in platforms and art.kind != "other":
                fail(f"{self.version}: two {art.kind} artifacts for {art.platform}")
            platforms.add(key)
            for p in (art.path, art.sigstore_bundle.path):
                if not p.startswith(prefix):
                    fail(f"{self.version}: {p!r} is not under {prefix}")
        for ref in (
            self.checksums,
            self.provenance,
            getattr(self.provenance, "sigstore_bundle", None),
        ):
            if ref is not None and not ref.path.startswith(prefix):
                fail(f"{self.version}: {ref.path!r} is not under {prefix}")

    @property
    def active(self) -> bool:
        return self.status == "active"

    def files(self) -> list[FileRef]:
        """Every file this release references (artifacts, bundles, sums, provenance)."""
        refs: list[FileRef] = []
        for a in self.artifacts:
            refs += [FileRef(a.path, a.size, a.sha256), a.sigstore_bundle]
        if self.checksums is not None:
            refs.append(self.checksums)
        if self.provenance is not None:
            p = self.provenance
            refs.append(FileRef(p.path, p.size, p.sha256))
            if p.sigstore_bundle is not None:
                refs.append(p.sigstore_bundle)
        return refs

    @classmethod
    def from_dict(cls, value: Any, where: str) -> Release:
        d = sj.obj(value, where)
        w = d.get("withdrawal")
        prov = d.get("provenance")
        sums = d.get("checksums")
        notes = d.get("notes")

        def build() -> Release:
            return cls(
                version=sj.string(sj.req(d, "version", where), "version"),
                tag=sj.string(sj.req(d, "tag", where), "tag"),
                published_at=sj.time(sj.req(d, "published_at", where), "published_at"),
                source=Source.from_dict(sj.req(d, "source", where), "source"),
                signer=_identity(sj.req(d, "signer", where), "signer"),
                artifacts=tuple(
                    Artifact.from_dict(a, f"artifacts[{i}]")
                    for i, a in enumerate(sj.array(sj.req(d, "artifacts", where), "artifacts"))
                ),
                status=sj.string(sj.req(d, "status", where), "status"),
                withdrawal=None if w is None else Withdrawal.from_dict(w, "withdrawal"),
                notes=None if notes is None else sj.string(notes, "notes", empty=True),
                provenance=None if prov is None else Provenance.from_dict(prov, "provenance"),
                checksums=None if sums is None else FileRef.from_dict(sums, "checksums"),
                from_edge=sj.opt_string(d.get("from_edge"), "from_edge"),
                extra=sj.unknown(d, cls.FIELDS),
            )

        return _wrap(where, build)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.extra,
            "version": self.version,
            "tag": self.tag,
            "published_at": sj.format_time(self.published_at),
            "source": self.source.to_dict(),
            "signer": _identity_dict(self.signer),
            "artifacts": [a.to_dict() for a in self.artifacts],
            "status": self.status,
        }
        optional = {
            "withdrawal": self.withdrawal.to_dict() if self.withdrawal else None,
            "notes": self.notes,
            "provenance": self.provenance.to_dict() if self.provenance else None,
            "checksums": self.checksums.to_dict() if self.checksums else None,
            "from_edge": self.from_edge,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out


@dataclass(frozen=True)
class Support:
    """Support window of a line: ``released``/``eol`` dates and the phase."""

    phase: str
    released: date | None = None
    eol: date | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"phase", "released", "eol"})

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            fail(f"phase must be one of {', '.join(PHASES)}, not {self.phase!r}")
        if self.released and self.eol and self.eol < self.released:
            fail(f"eol {self.eol} is before released {self.released}")

    @classmethod
    def from_dict(cls, value: Any, where: str) -> Support:
        d = sj.obj(value, where)
        return _wrap(
            where,
            lambda: cls(
                phase=sj.string(sj.req(d, "phase", where), "phase"),
                released=sj.day(d.get("released"), "released"),
                eol=sj.day(d.get("eol"), "eol"),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def phase_on(self, today: date) -> str:
        """The phase on ``today``: ``eol`` from the EOL day on, else the recorded phase.

        The phase is recorded on the day a document is written; readers on a later day
        (``channel list``, ``check``, the page) use this so they agree with
        ``release status`` (:func:`release.history.phase_on`).
        """
        if self.eol is not None and today >= self.eol:
            return "eol"
        return self.phase

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "phase": self.phase,
            "released": sj.format_day(self.released),
            "eol": sj.format_day(self.eol),
        }


@dataclass(frozen=True)
class Pin:
    """What a parent document says about a child: path, version, exact length and sha256."""

    path: str
    version: int
    length: int
    sha256: str
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"path", "version", "length", "sha256"})

    def __post_init__(self) -> None:
        sj.relpath(self.path, "path")
        sj.integer(self.version, "version", minimum=1)
        sj.integer(self.length, "length", minimum=1)
        sj.sha256(self.sha256, "sha256")

    @classmethod
    def from_dict(cls, value: Any, where: str) -> Pin:
        d = sj.obj(value, where)
        return _wrap(
            where,
            lambda: cls(
                path=sj.string(sj.req(d, "path", where), "path"),
                version=sj.integer(sj.req(d, "version", where), "version", minimum=1),
                length=sj.integer(sj.req(d, "length", where), "length", minimum=1),
                sha256=sj.string(sj.req(d, "sha256", where), "sha256"),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "path": self.path,
            "version": self.version,
            "length": self.length,
            "sha256": self.sha256,
        }

    def check(self, data: bytes, what: str) -> None:
        """Refuse ``data`` unless it is exactly the pinned document (mix-and-match guard)."""
        if len(data) != self.length:
            fail(
                f"{what} is {len(data)} bytes, its pin says {self.length} (mix-and-match)",
                "the document does not match the index or document that pins it",
            )
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            fail(
                f"{what} has sha256 {digest[:16]}…, its pin says {self.sha256[:16]}… "
                "(mix-and-match)",
                "the document does not match the index or document that pins it",
            )


def select_artifacts(
    release: Release, *, os_name: str | None, arch: str | None, name: str | None
) -> list[Artifact]:
    """The artifacts of ``release`` for a platform and/or name (``any``/unset match all).

    Raises :class:`UsageError` for an unknown os or arch, or when nothing matches.
    """
    for value, known, what in ((os_name, KNOWN_OS, "os"), (arch, KNOWN_ARCH, "arch")):
        if value is not None and value not in known:
            raise UsageError(f"unknown {what} {value!r}", hint=f"known: {', '.join(sorted(known))}")
    chosen = [
        a
        for a in release.artifacts
        if (name is None or a.name == name)
        and (os_name is None or a.os in (os_name, "any", None))
        and (arch is None or a.arch in (arch, "any", None))
    ]
    if not chosen:
        have = ", ".join(f"{a.name} ({a.platform})" for a in release.artifacts) or "none"
        raise UsageError(
            f"{release.tag} has no artifact for that selection", hint=f"artifacts: {have}"
        )
    return chosen


def pin_for(path: str, version: int, data: bytes) -> Pin:
    return Pin(path, version, len(data), hashlib.sha256(data).hexdigest())


def channel_document_path(channel: str, version: int) -> str:
    return f"channels/{channel}/v{version}.json"


def line_document_path(channel: str, line: str, version: int) -> str:
    return f"channels/{channel}/lines/{line}/v{version}.json"


def index_version_path(version: int) -> str:
    return f"index/v{version}.json"


def _max_active(kind: str, releases: Iterable[Release]) -> str | None:
    best: tuple[AnyVersion, str] | None = None
    for r in releases:
        if r.active:
            v = parse_version(kind, r.version)
            if best is None or v > best[0]:
                best = (v, r.version)
    return None if best is None else best[1]


def _max_version(kind: str, versions: Iterable[str | None]) -> str | None:
    present = [v for v in versions if v is not None]
    if not present:
        return None
    return max(present, key=lambda v: parse_version(kind, v))


# --- documents -----------------------------------------------------------------


def _check_header(doc: LineDocument | ChannelDocument) -> TagFormat:
    """Checks every channel and line document shares; returns its tag format."""
    sj.string(doc.project, "project")
    _check_channel_name(doc.channel, "channel")
    _check_kind(doc.kind, "kind")
    fmt = _check_tag_format(doc.tag_format, doc.kind, "tag_format")
    sj.integer(doc.version, "version", minimum=1)
    sj.format_time(doc.generated_at)
    return fmt


def _header_from_dict(d: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The constructor arguments every channel and line document shares."""
    return {
        "schema_version": sj.string(sj.req(d, "schema_version", where), "schema_version"),
        "project": sj.string(sj.req(d, "project", where), "project"),
        "channel": sj.string(sj.req(d, "channel", where), "channel"),
        "kind": sj.string(sj.req(d, "kind", where), "kind"),
        "tag_format": sj.string(sj.req(d, "tag_format", where), "tag_format"),
        "version": sj.integer(sj.req(d, "version", where), "version", minimum=1),
        "generated_at": sj.time(sj.req(d, "generated_at", where), "generated_at"),
        "signer": _identity(sj.req(d, "signer", where), "signer"),
        "latest": sj.opt_string(sj.req(d, "latest", where), "latest"),
    }


def _header_to_dict(
    doc: LineDocument | ChannelDocument, doc_type: str, line: str | None = None
) -> dict[str, Any]:
    """The shared fields in document order (``line`` sits after ``tag_format``)."""
    head: dict[str, Any] = {
        **doc.extra,
        "schema_version": doc.schema_version,
        "type": doc_type,
        "project": doc.project,
        "channel": doc.channel,
        "kind": doc.kind,
        "tag_format": doc.tag_format,
    }
    if line is not None:
        head["line"] = line
    head.update(
        version=doc.version,
        generated_at=sj.format_time(doc.generated_at),
        signer=_identity_dict(doc.signer),
        latest=doc.latest,
    )
    return head


@dataclass(frozen=True)
class LineDocument:
    """All releases of one line of one channel, in version order."""

    project: str
    channel: str
    kind: str
    tag_format: str
    line: str
    version: int
    generated_at: datetime
    signer: Identity
    latest: str | None
    releases: tuple[Release, ...]
    schema_version: str = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset(
        {
            "schema_version",
            "type",
            "project",
            "channel",
            "kind",
            "tag_format",
            "line",
            "version",
            "generated_at",
            "signer",
            "latest",
            "releases",
        }
    )

    def __post_init__(self) -> None:
        fmt = _check_header(self)
        _check_line(self.line, "line")
        previous: AnyVersion | None = None
        for r in self.releases:
            v = parse_version(self.kind, r.version, f"release {r.version!r}")
            if str(v) != r.version:
                fail(f"release {r.version!r} is not in normal form ({v})")
            if str(v.line) != self.line:
                fail(f"release {r.version} belongs to line {v.line}, not {self.line}")
            if previous is not None and not previous < v:
                fail(f"releases must be unique and in version order: {r.version} after {previous}")
            previous = v
            expected_tag = fmt.format(v)
            if r.tag != expected_tag:
                fail(
                    f"release {r.version} has tag {r.tag!r}, the {self.channel} channel "
                    f"tags it {expected_tag!r}",
                    "an edge release cannot enter a stable channel (or the reverse)",
                )
            if r.from_edge is not None and self.kind != "stable":
                fail(f"release {r.version}: from_edge is only for stable releases")
        want = _max_active(self.kind, self.releases)
        if self.latest != want:
            fail(
                f"line {self.line}: declared latest {self.latest!r} is not the highest "
                f"active release {want!r}"
            )

    def release(self, version: str) -> Release | None:
        for r in self.releases:
            if r.version == version:
                return r
        return None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "line document") -> LineDocument:
        _check_type(d, TYPE_LINE, where)

        def build() -> LineDocument:
            return cls(
                **_header_from_dict(d, where),
                line=sj.string(sj.req(d, "line", where), "line"),
                releases=tuple(
                    Release.from_dict(r, f"releases[{i}]")
                    for i, r in enumerate(sj.array(sj.req(d, "releases", where), "releases"))
                ),
                extra=sj.unknown(d, cls.FIELDS),
            )

        return _wrap(where, build)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_header_to_dict(self, TYPE_LINE, self.line),
            "releases": [r.to_dict() for r in self.releases],
        }

    def to_bytes(self) -> bytes:
        return sj.dumps(self.to_dict())


@dataclass(frozen=True)
class LineEntry:
    """A line in a channel document: its latest, support window and the pinned document."""

    line: str
    latest: str | None
    support: Support
    document: Pin
    releases: int
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"line", "latest", "support", "document", "releases"})

    @classmethod
    def from_dict(cls, value: Any, where: str) -> LineEntry:
        d = sj.obj(value, where)
        return _wrap(
            where,
            lambda: cls(
                line=sj.string(sj.req(d, "line", where), "line"),
                latest=sj.opt_string(sj.req(d, "latest", where), "latest"),
                support=Support.from_dict(sj.req(d, "support", where), "support"),
                document=Pin.from_dict(sj.req(d, "document", where), "document"),
                releases=sj.integer(sj.req(d, "releases", where), "releases", minimum=1),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "line": self.line,
            "latest": self.latest,
            "support": self.support.to_dict(),
            "document": self.document.to_dict(),
            "releases": self.releases,
        }


@dataclass(frozen=True)
class ChannelDocument:
    """One channel: every line (ascending), its support and a pin of its line document."""

    project: str
    channel: str
    kind: str
    tag_format: str
    version: int
    generated_at: datetime
    signer: Identity
    latest: str | None
    lines: tuple[LineEntry, ...]
    schema_version: str = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset(
        {
            "schema_version",
            "type",
            "project",
            "channel",
            "kind",
            "tag_format",
            "version",
            "generated_at",
            "signer",
            "latest",
            "lines",
        }
    )

    def __post_init__(self) -> None:
        _check_header(self)
        previous: Line | None = None
        for e in self.lines:
            ln = _check_line(e.line, "line")
            if previous is not None and not previous < ln:
                fail(f"lines must be unique and ascending: {e.line} after {previous}")
            previous = ln
            if e.latest is not None and _line_of(self.kind, e.latest, "latest") != e.line:
                fail(f"line {e.line}: latest {e.latest} belongs to another line")
            expected = line_document_path(self.channel, e.line, e.document.version)
            if e.document.path != expected:
                fail(f"line {e.line}: document path {e.document.path!r} should be {expected!r}")
        want = _max_version(self.kind, (e.latest for e in self.lines))
        if self.latest != want:
            fail(
                f"channel {self.channel}: declared latest {self.latest!r} is not the highest "
                f"active release {want!r}"
            )

    def entry(self, line: str) -> LineEntry | None:
        for e in self.lines:
            if e.line == line:
                return e
        return None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "channel document") -> ChannelDocument:
        _check_type(d, TYPE_CHANNEL, where)

        def build() -> ChannelDocument:
            return cls(
                **_header_from_dict(d, where),
                lines=tuple(
                    LineEntry.from_dict(e, f"lines[{i}]")
                    for i, e in enumerate(sj.array(sj.req(d, "lines", where), "lines"))
                ),
                extra=sj.unknown(d, cls.FIELDS),
            )

        return _wrap(where, build)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_header_to_dict(self, TYPE_CHANNEL),
            "lines": [e.to_dict() for e in self.lines],
        }

    def to_bytes(self) -> bytes:
        return sj.dumps(self.to_dict())


@dataclass(frozen=True)
class LineSummary:
    """A live line as the index shows it: latest, support and its line document's pin.

    The pin lets ``release channel latest`` go from the index straight to the one line
    document it needs, without the channel document.
    """

    latest: str | None
    support: Support
    document: Pin
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"latest", "support", "document"})

    @classmethod
    def from_dict(cls, value: Any, where: str) -> LineSummary:
        d = sj.obj(value, where)
        return _wrap(
            where,
            lambda: cls(
                latest=sj.opt_string(sj.req(d, "latest", where), "latest"),
                support=Support.from_dict(sj.req(d, "support", where), "support"),
                document=Pin.from_dict(sj.req(d, "document", where), "document"),
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "latest": self.latest,
            "support": self.support.to_dict(),
            "document": self.document.to_dict(),
        }


@dataclass(frozen=True)
class ChannelEntry:
    """A channel in the index: who signs it, its latest, live lines, the pinned document."""

    kind: str
    tag_format: str
    signer: Identity
    latest: str | None
    document: Pin
    lines: Mapping[str, LineSummary]
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset({"kind", "tag_format", "signer", "latest", "document", "lines"})

    @classmethod
    def from_dict(cls, value: Any, where: str) -> ChannelEntry:
        d = sj.obj(value, where)
        lines = sj.obj(sj.req(d, "lines", where), f"{where}.lines")
        return _wrap(
            where,
            lambda: cls(
                kind=sj.string(sj.req(d, "kind", where), "kind"),
                tag_format=sj.string(sj.req(d, "tag_format", where), "tag_format"),
                signer=_identity(sj.req(d, "signer", where), "signer"),
                latest=sj.opt_string(sj.req(d, "latest", where), "latest"),
                document=Pin.from_dict(sj.req(d, "document", where), "document"),
                lines={k: LineSummary.from_dict(v, f"lines.{k}") for k, v in lines.items()},
                extra=sj.unknown(d, cls.FIELDS),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "kind": self.kind,
            "tag_format": self.tag_format,
            "signer": _identity_dict(self.signer),
            "latest": self.latest,
            "document": self.document.to_dict(),
            "lines": {k: v.to_dict() for k, v in self.lines.items()},
        }


@dataclass(frozen=True)
class Index:
    """The root: small, signed, versioned, expiring. Pins one document per channel."""

    project: str
    version: int
    generated_at: datetime
    expires: datetime
    signer: Identity
    published_by: str
    channels: Mapping[str, ChannelEntry]
    schema_version: str = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    FIELDS: ClassVar = frozenset(
        {
            "schema_version",
            "type",
            "project",
            "version",
            "generated_at",
            "expires",
            "signer",
            "published_by",
            "channels",
        }
    )

    def __post_init__(self) -> None:
        sj.string(self.project, "project")
        sj.integer(self.version, "version", minimum=1)
        if self.expires <= self.generated_at:
            fail("expires must be after generated_at")
        if self.published_by not in self.channels:
            fail(f"published_by {self.published_by!r} is not a channel of this index")
        for name, e in self.channels.items():
            where = f"channels.{name}"
            _check_channel_name(name, where)
            _check_kind(e.kind, where)
            _check_tag_format(e.tag_format, e.kind, where)
            expected = channel_document_path(name, e.document.version)
            if e.document.path != expected:
                fail(f"{where}: document path {e.document.path!r} should be {expected!r}")
            if e.latest is not None:
                parse_version(e.kind, e.latest, f"{where}.latest")
            for ln, s in e.lines.items():
                _check_line(ln, f"{where}.lines")
                if s.latest is not None and _line_of(e.kind, s.latest, f"{where}.lines") != ln:
                    fail(f"{where}.lines.{ln}: latest {s.latest} belongs to another line")
                if s.support.phase == "eol":
                    fail(f"{where}.lines.{ln}: EOL lines are not listed in the index")
                path = line_document_path(name, ln, s.document.version)
                if s.document.path != path:
                    fail(
                        f"{where}.lines.{ln}: document path {s.document.path!r} should be {path!r}"
                    )
            want = _max_version(e.kind, (s.latest for s in e.lines.values()))
            if (
                want is not None
                and e.latest is not None
                and parse_version(e.kind, want) > parse_version(e.kind, e.latest)
            ):
                fail(f"{where}: latest {e.latest} is lower than line latest {want}")

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "index") -> Index:
        _check_type(d, TYPE_INDEX, where)
        channels = sj.obj(sj.req(d, "channels", where), f"{where}.channels")

        def build() -> Index:
            return cls(
                schema_version=sj.string(sj.req(d, "schema_version", where), "schema_version"),
                project=sj.string(sj.req(d, "project", where), "project"),
                version=sj.integer(sj.req(d, "version", where), "version", minimum=1),
                generated_at=sj.time(sj.req(d, "generated_at", where), "generated_at"),
                expires=sj.time(sj.req(d, "expires", where), "expires"),
                signer=_identity(sj.req(d, "signer", where), "signer"),
                published_by=sj.string(sj.req(d, "published_by", where), "published_by"),
                channels={
                    k: ChannelEntry.from_dict(v, f"channels.{k}") for k, v in channels.items()
                },
                extra=sj.unknown(d, cls.FIELDS),
            )

        return _wrap(where, build)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "schema_version": self.schema_version,
            "type": TYPE_INDEX,
            "project": self.project,
            "version": self.version,
            "generated_at": sj.format_time(self.generated_at),
            "expires": sj.format_time(self.expires),
            "signer": _identity_dict(self.signer),
            "published_by": self.published_by,
            "channels": {k: v.to_dict() for k, v in self.channels.items()},
        }

    def to_bytes(self) -> bytes:
        return sj.dumps(self.to_dict())

    def channel(self, name: str) -> ChannelEntry:
        """The entry of channel ``name``. Raises :class:`UsageError` for an unknown channel."""
        try:
            return self.channels[name]
        except KeyError:
            known = ", ".join(sorted(self.channels)) or "none"
            raise UsageError(
                f"the index has no channel {name!r}", hint=f"channels: {known}"
            ) from None


def _parse(data: bytes, what: str, from_dict: Callable[[dict[str, Any], str], D]) -> Parsed[D]:
    d = sj.loads(data, what=what)
    warning = _schema_warning(d.get("schema_version"), what)
    doc = from_dict(d, what)
    return Parsed(doc, (warning,) if warning else ())


def parse_index(data: bytes) -> Parsed[Index]:
    """Parse ``index.json`` bytes. Raises :class:`DocumentError`."""
    return _parse(data, "index", Index.from_dict)


def parse_channel(data: bytes, what: str = "channel document") -> Parsed[ChannelDocument]:
    """Parse a channel document. Raises :class:`DocumentError`."""
    return _parse(data, what, ChannelDocument.from_dict)


def parse_line_document(data: bytes, what: str = "line document") -> Parsed[LineDocument]:
    """Parse a line document. Raises :class:`DocumentError`."""
    return _parse(data, what, LineDocument.from_dict)


# --- how the next document follows the previous one (used by the store) -------------


def add_release(
    doc: LineDocument | None,
    release: Release,
    *,
    project: str,
    channel: str,
    kind: str,
    tag_format: str,
    signer: Identity,
    now: datetime,
    version: int | None = None,
) -> LineDocument:
    """The line document after publishing ``release``.

    Raises :class:`DocumentError` when the version exists, is not above every version
    of its line (versions only move forward), or does not fit the channel.
    """
    v = parse_version(kind, release.version, f"release {release.version!r}")
    line = str(v.line)
    releases: tuple[Release, ...] = ()
    if doc is not None:
        if doc.line != line or doc.channel != channel:
            fail(
                f"release {release.version} belongs to {channel}/{line}, not "
                f"{doc.channel}/{doc.line}"
            )
        if doc.release(release.version) is not None:
            fail(
                f"{channel} {release.version} is already published",
                "published releases are immutable; withdraw it and publish a new version",
            )
        top = max(parse_version(kind, r.version) for r in doc.releases)
        if not top < v:
            fail(
                f"{channel} {release.version} is not above {top}, the highest release of "
                f"line {line}",
                "versions of a line only move forward",
            )
        releases = doc.releases
    new = (*releases, release)
    return LineDocument(
        project=project,
        channel=channel,
        kind=kind,
        tag_format=tag_format,
        line=line,
        version=version if version is not None else (doc.version + 1 if doc else 1),
        generated_at=now,
        signer=signer,
        latest=_max_active(kind, new),
        releases=new,
    )


def withdraw(
    doc: LineDocument,
    version: str,
    *,
    reason: str,
    now: datetime,
    signer: Identity,
    replacement: str | None = None,
    doc_version: int | None = None,
) -> LineDocument:
    """The line document after withdrawing ``version``. Raises :class:`DocumentError`."""
    target = doc.release(version)
    if target is None:
        fail(f"{doc.channel} {version} is not a release of line {doc.line}")
    if not target.active:
        fail(f"{doc.channel} {version} is already withdrawn")
    if replacement is not None:
        parse_version(doc.kind, replacement, "replacement")
        if replacement == version:
            fail("a release cannot replace itself")
        same_line = doc.release(replacement)
        if _line_of(doc.kind, replacement, "replacement") == doc.line and (
            same_line is None or not same_line.active
        ):
            fail(f"replacement {replacement} is not an active release of line {doc.line}")
    w = Withdrawal(reason=reason, withdrawn_at=now, replacement=replacement)
    releases = tuple(
        replace(r, status="withdrawn", withdrawal=w) if r.version == version else r
        for r in doc.releases
    )
    return replace(
        doc,
        version=doc_version if doc_version is not None else doc.version + 1,
        generated_at=now,
        signer=signer,
        releases=releases,
        latest=_max_active(doc.kind, releases),
    )


def compute_support(
    kind: str, released: Mapping[str, date | None], policy: SupportPolicy, today: date
) -> dict[str, Support]:
    """Support of every line (the rule of :func:`release.history.line_support`, shared
    with ``release status``)."""
    from release.history import line_support

    names = {_check_line(name, "line"): name for name in released}
    table = line_support({ln: released[n] for ln, n in names.items()}, policy, today, kind=kind)
    return {
        names[ln]: Support(phase=phase, released=rel, eol=eol)
        for ln, (phase, rel, eol) in table.items()
    }


def update_channel(
    prev: ChannelDocument | None,
    line_doc: LineDocument,
    pin: Pin,
    *,
    signer: Identity,
    policy: SupportPolicy,
    now: datetime,
    version: int | None = None,
) -> ChannelDocument:
    """The channel document after ``line_doc`` (pinned by ``pin``) changed.

    Support is recomputed for every line (a new line can push an old one to EOL).
    Raises :class:`DocumentError`.
    """
    entries = {e.line: e for e in prev.lines} if prev else {}
    first = min((r.published_at for r in line_doc.releases), default=now)
    old = entries.get(line_doc.line)
    entries[line_doc.line] = LineEntry(
        line=line_doc.line,
        latest=line_doc.latest,
        support=old.support if old else Support("active", first.date()),
        document=pin,
        releases=len(line_doc.releases),
    )
    released = {k: e.support.released for k, e in entries.items()}
    support = compute_support(line_doc.kind, released, policy, now.date())
    lines = tuple(
        replace(entries[k], support=support[k])
        for k in sorted(entries, key=lambda s: _check_line(s, "line"))
    )
    return ChannelDocument(
        project=line_doc.project,
        channel=line_doc.channel,
        kind=line_doc.kind,
        tag_format=line_doc.tag_format,
        version=version if version is not None else (prev.version + 1 if prev else 1),
        generated_at=now,
        signer=signer,
        latest=_max_version(line_doc.kind, (e.latest for e in lines)),
        lines=lines,
    )


def channel_entry(doc: ChannelDocument, pin: Pin, signer_template: Identity) -> ChannelEntry:
    """The index entry of a channel document: latest, live lines, pin."""
    return ChannelEntry(
        kind=doc.kind,
        tag_format=doc.tag_format,
        signer=signer_template,
        latest=doc.latest,
        document=pin,
        lines={
            e.line: LineSummary(e.latest, e.support, e.document)
            for e in doc.lines
            if e.support.phase != "eol"
        },
    )


def next_index(
    prev: Index | None,
    *,
    project: str,
    channel: str,
    entry: ChannelEntry,
    signer: Identity,
    now: datetime,
    expires_in: timedelta,
    version: int | None = None,
) -> Index:
    """The index after ``channel`` changed to ``entry``: version + 1, new expiry.

    Raises :class:`DocumentError` when ``now`` is before the previous index (the
    clock went backwards) or the project differs.
    """
    channels: dict[str, ChannelEntry] = {}
    if prev is not None:
        if prev.project != project:
            fail(f"the store belongs to project {prev.project!r}, not {project!r}")
        if now < prev.generated_at - CLOCK_SKEW:
            fail(
                f"now ({sj.format_time(now)}) is before the current index "
                f"({sj.format_time(prev.generated_at)})",
                "check the clock",
            )
        # Two publishers' clocks differ by seconds: time in the index never goes back.
        now = max(now, prev.generated_at)
        channels = dict(prev.channels)
    channels[channel] = entry
    return Index(
        project=project,
        version=version if version is not None else (prev.version + 1 if prev else 1),
        generated_at=now,
        expires=now + expires_in,
        signer=signer,
        published_by=channel,
        channels=dict(sorted(channels.items())),
    )


def consistent(entry: ChannelEntry, name: str, doc: ChannelDocument) -> None:
    """Refuse a channel document that does not say what its index entry says."""
    if doc.channel != name or doc.kind != entry.kind or doc.tag_format != entry.tag_format:
        fail(
            f"channel document {doc.channel}/{doc.kind} does not match index channel "
            f"{name}/{entry.kind}"
        )
    if doc.version != entry.document.version:
        fail(f"channel document version {doc.version} is not the pinned {entry.document.version}")
    if doc.latest != entry.latest:
        fail(f"channel {name}: index says latest {entry.latest}, its document says {doc.latest}")
    live = {
        e.line: LineSummary(e.latest, e.support, e.document)
        for e in doc.lines
        if e.support.phase != "eol"
    }
    if dict(entry.lines) != live:
        fail(f"channel {name}: the index's lines do not match the channel document")


def line_consistent(entry: LineEntry, doc: LineDocument, channel: ChannelDocument) -> None:
    """Refuse a line document that does not say what the channel document says."""
    if (doc.channel, doc.line, doc.kind, doc.tag_format) != (
        channel.channel,
        entry.line,
        channel.kind,
        channel.tag_format,
    ):
        fail(
            f"line document {doc.channel}/{doc.line} does not match {channel.channel}/{entry.line}"
        )
    if doc.version != entry.document.version:
        fail(f"line document version {doc.version} is not the pinned {entry.document.version}")
    if doc.latest != entry.latest or len(doc.releases) != entry.releases:
        fail(
            f"line {entry.line}: channel document says latest {entry.latest} of "
            f"{entry.releases}, the line document says {doc.latest} of {len(doc.releases)}"
        )


# --- the same transitions on canonical dicts (the store's fast path) -----------------
#
# A publisher's previous documents were validated when they were published and are
# read back through their pins, so the store need not rebuild thousands of records to
# append one. These functions give byte-identical results to add_release /
# update_channel / channel_entry (tests/channel/test_fastpath.py) while checking
# everything about the new release and the ordering invariants of the line.


def append_release_dict(
    prev: Mapping[str, Any] | None,
    release: Release,
    *,
    project: str,
    channel: str,
    kind: str,
    tag_format: str,
    signer: Identity,
    now: datetime,
    version: int,
) -> dict[str, Any]:
    """:func:`add_release` on the canonical dict of the previous line document."""
    v = parse_version(kind, release.version, f"release {release.version!r}")
    line = str(v.line)
    if str(v) != release.version:
        fail(f"release {release.version!r} is not in normal form ({v})")
    expected_tag = _check_tag_format(tag_format, kind, "tag_format").format(v)
    if release.tag != expected_tag:
        fail(
            f"release {release.version} has tag {release.tag!r}, the {channel} channel "
            f"tags it {expected_tag!r}",
            "an edge release cannot enter a stable channel (or the reverse)",
        )
    if release.from_edge is not None and kind != "stable":
        fail(f"release {release.version}: from_edge is only for stable releases")
    releases: list[Any] = []
    latest: str | None = None
    if prev is not None:
        if prev["line"] != line or prev["channel"] != channel:
            fail(
                f"release {release.version} belongs to {channel}/{line}, not "
                f"{prev['channel']}/{prev['line']}"
            )
        releases = list(prev["releases"])
        versions = [r["version"] for r in releases]
        if release.version in versions:
            fail(
                f"{channel} {release.version} is already published",
                "published releases are immutable; withdraw it and publish a new version",
            )
        top = parse_version(kind, versions[-1])  # releases are kept in version order
        if not top < v:
            fail(
                f"{channel} {release.version} is not above {top}, the highest release of "
                f"line {line}",
                "versions of a line only move forward",
            )
        latest = prev["latest"]
    if release.active:
        latest = release.version  # above every earlier version of the line
    releases.append(release.to_dict())
    return {
        "schema_version": SCHEMA_VERSION,
        "type": TYPE_LINE,
        "project": project,
        "channel": channel,
        "kind": kind,
        "tag_format": tag_format,
        "line": line,
        "version": version,
        "generated_at": sj.format_time(now),
        "signer": _identity_dict(signer),
        "latest": latest,
        "releases": releases,
    }


def update_channel_dict(
    prev: Mapping[str, Any] | None,
    line_doc: Mapping[str, Any],
    pin: Pin,
    *,
    signer: Identity,
    policy: SupportPolicy,
    now: datetime,
    version: int,
) -> dict[str, Any]:
    """:func:`update_channel` on canonical dicts."""
    kind = line_doc["kind"]
    line = line_doc["line"]
    entries: dict[str, dict[str, Any]] = {e["line"]: dict(e) for e in prev["lines"]} if prev else {}
    old = entries.get(line)
    first = min((r["published_at"] for r in line_doc["releases"]), default=sj.format_time(now))
    entries[line] = {
        "line": line,
        "latest": line_doc["latest"],
        "support": old["support"] if old else {"phase": "active", "released": first[:10]},
        "document": pin.to_dict(),
        "releases": len(line_doc["releases"]),
    }
    from release.history import line_support

    parsed = {k: _check_line(k, "line") for k in entries}
    released = {
        parsed[k]: sj.day(e["support"].get("released"), "released") for k, e in entries.items()
    }
    table = line_support(released, policy, now.date(), kind=kind)  # as compute_support
    lines = []
    for k in sorted(entries, key=parsed.__getitem__):
        phase, rel, eol = table[parsed[k]]
        entry = entries[k]
        entry["support"] = {
            "phase": phase,
            "released": sj.format_day(rel),
            "eol": sj.format_day(eol),
        }
        lines.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "type": TYPE_CHANNEL,
        "project": line_doc["project"],
        "channel": line_doc["channel"],
        "kind": kind,
        "tag_format": line_doc["tag_format"],
        "version": version,
        "generated_at": sj.format_time(now),
        "signer": _identity_dict(signer),
        "latest": _max_version(kind, (e["latest"] for e in lines)),
        "lines": lines,
    }


def channel_entry_dict(doc: Mapping[str, Any], pin: Pin, signer_template: Identity) -> ChannelEntry:
    """:func:`channel_entry` of a channel document given as a canonical dict."""
    return ChannelEntry(
        kind=doc["kind"],
        tag_format=doc["tag_format"],
        signer=signer_template,
        latest=doc["latest"],
        document=pin,
        lines={
            e["line"]: LineSummary(
                e["latest"],
                Support.from_dict(e["support"], "support"),
                Pin.from_dict(e["document"], "document"),
            )
            for e in doc["lines"]
            if e["support"]["phase"] != "eol"
        },
    )
