"""Channel index v1: the records inside documents (files, artifacts, releases, support,
pins), the small checks every document shares, and where documents live."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from release.channel import strictjson as sj
from release.channel.strictjson import DocumentError, fail
from release.config import Identity
from release.errors import InvalidVersion, UsageError
from release.versions import EdgeVersion, Line, StableVersion, TagFormat, parse_line

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
