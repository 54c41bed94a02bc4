"""Channel index v1: the three document types, parsed from bytes and written as canonical
bytes (see :mod:`release.channel.model`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from release.channel import strictjson as sj
from release.channel.model.records import (
    SCHEMA_VERSION,
    TYPE_CHANNEL,
    TYPE_INDEX,
    TYPE_LINE,
    AnyVersion,
    D,
    Parsed,
    Pin,
    Release,
    Support,
    _check_channel_name,
    _check_kind,
    _check_line,
    _check_tag_format,
    _check_type,
    _identity,
    _identity_dict,
    _line_of,
    _max_active,
    _max_version,
    _schema_warning,
    _wrap,
    channel_document_path,
    line_document_path,
    parse_version,
)
from release.channel.strictjson import fail
from release.config import Identity
from release.errors import UsageError
from release.versions import Line, TagFormat

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
