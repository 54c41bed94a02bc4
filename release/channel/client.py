"""The consumer side of a channel store: read, verify, remember, answer.

The client fixes the time once (``now``), fetches through a :class:`Fetcher` with
size caps, and refuses what TUF taught us to refuse:

- an index older than the one it saw before (rollback), or the same version with
  other bytes; an expired index (freeze); one generated in the future;
- a channel or line document that is not exactly what its parent pins
  (mix-and-match), or whose version went down;
- a declared ``latest`` that is not the highest active release, and a line whose
  latest went down without a withdrawal record;
- documents signed by anyone but the channel's signer (``{line}`` is the only
  template), artifacts whose size, sha256, bundle or signer do not match.

**Trust anchors.** Who may sign a channel comes from ``channels/*.toml`` when the
caller passes them (``anchors``); otherwise the first verified index is trusted and
its channel signers are pinned in the state file (trust on first use), after which
a changed signer is refused. The Sigstore root itself is the verifier's business
(``--trust-config`` / ``--trusted-root``).

**State** (per source) is written only after signatures were verified, so an
unverified read can be refused by state but can never poison it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from release.channel import model
from release.channel import strictjson as sj
from release.channel.fetch import Fetcher, FetchError, copy_capped, read_capped
from release.channel.model import (
    INDEX_PATH,
    AnyVersion,
    Artifact,
    ChannelDocument,
    Index,
    LineDocument,
    Release,
)
from release.channel.signing import BUNDLE_SUFFIX, DocumentVerifier
from release.channel.strictjson import DocumentError
from release.config import Identity
from release.errors import ReleaseError, UsageError, VerificationError
from release.files import write_atomic

FUTURE_TOLERANCE = timedelta(minutes=10)
STATE_FORMAT = 1


@dataclass(frozen=True)
class Limits:
    """Size caps in bytes for everything the client fetches."""

    index: int = 1 << 20
    channel: int = 16 << 20
    line: int = 32 << 20
    bundle: int = 1 << 20
    artifact: int = 4 << 30


@dataclass(frozen=True)
class Anchor:
    """Who may sign a channel: its kind and the accepted identity templates."""

    kind: str
    identities: tuple[Identity, ...]


def load_anchors(channels_dir: Path) -> dict[str, Anchor]:
    """Trust anchors from ``channels/*.toml``: [signer] and [dev-signer] of each channel.

    Raises :class:`~release.errors.ConfigError`.
    """
    from release.config import RESERVED_CHANNEL_FILES, load_channel, read_toml

    anchors: dict[str, Anchor] = {}
    for path in sorted(Path(channels_dir).glob("*.toml")):
        if path.name in RESERVED_CHANNEL_FILES or read_toml(path).get("kind") == "none":
            continue
        ch = load_channel(path)
        idents = tuple(i for i in (ch.signer, ch.dev_signer) if i is not None)
        anchors[ch.name] = Anchor(ch.kind, idents)
    if not anchors:
        raise UsageError(f"{channels_dir} has no channels/*.toml to take signers from")
    return anchors


def identity_matches(template: Identity, concrete: Identity) -> str | None:
    """``""`` if equal, the line if ``{line}`` fills the template, else None."""
    if template.issuer != concrete.issuer:
        return None
    if "{line}" not in template.identity:
        return "" if template.identity == concrete.identity else None
    pattern = re.escape(template.identity).replace(r"\{line\}", r"((?:0|[1-9]\d*)\.(?:0|[1-9]\d*))")
    m = re.fullmatch(pattern, concrete.identity)
    return m[1] if m else None


def _refuse(message: str, hint: str | None = None) -> VerificationError:
    return VerificationError(message, hint=hint)


class StateFile:
    """What the client saw last time for one source (JSON, written atomically)."""

    def __init__(self, directory: Path, source: str) -> None:
        key = hashlib.sha256(source.encode()).hexdigest()[:20]
        self.path = Path(directory) / f"{key}.json"
        self.source = source

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"client state {self.path} is unreadable: {exc}",
                hint="delete it to start over (rollback protection restarts)",
            ) from exc
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise UsageError(f"client state {self.path} has an unknown format")
        return data

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {**data, "format": STATE_FORMAT, "source": self.source}, indent=1, sort_keys=True
        ).encode()
        write_atomic(self.path, payload, durable=False)


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "release-channels" / "client"


@dataclass
class CheckResult:
    """The answer of ``release channel check``: a status word and a sentence."""

    status: str  # up-to-date | patch-available | newer-line | eol | withdrawn | unknown
    message: str
    version: str
    latest_in_line: str | None = None
    latest: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class ChannelClient:
    """Reads one channel store. Every public method raises ReleaseError subclasses."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        now: datetime,
        verifier: DocumentVerifier | None = None,
        state: StateFile | None = None,
        anchors: Mapping[str, Anchor] | None = None,
        limits: Limits = Limits(),
    ):
        self.fetcher = fetcher
        self.now = now
        self.verifier = verifier
        self.state_file = state
        self.anchors = anchors
        self.limits = limits
        self.warnings: list[str] = []
        self._state: dict[str, Any] = state.load() if state is not None else {}
        self._new_state: dict[str, Any] = json.loads(json.dumps(self._state))
        self._index: Index | None = None
        self._channels: dict[str, ChannelDocument] = {}
        self._lines: dict[tuple[str, str], LineDocument] = {}

    @property
    def verifies_signatures(self) -> bool:
        return self.verifier is not None

    # --- signatures ----------------------------------------------------------

    def _verify_signature(self, path: str, data: bytes, signer: Identity, what: str) -> None:
        if self.verifier is None:
            return
        try:
            bundle = read_capped(self.fetcher, path + BUNDLE_SUFFIX, self.limits.bundle, "bundle")
        except FetchError as exc:
            raise _refuse(
                f"{what} is not signed: {exc.message}", "an unsigned channel cannot be verified"
            ) from exc
        self.verifier.verify(data, bundle, signer)

    def _template_of(self, index: Index, name: str, kind: str) -> Identity:
        """The signer template of channel ``name``: from the index, checked against anchors."""
        entry = index.channels[name]
        if self.anchors is not None:
            anchor = self.anchors.get(name)
            if anchor is None:
                raise _refuse(f"channel {name!r} is not defined in the trusted channels/*.toml")
            if anchor.kind != kind or entry.signer not in anchor.identities:
                raise _refuse(
                    f"channel {name} declares signer {entry.signer.identity} "
                    f"({entry.signer.issuer}); channels/{name}.toml allows "
                    + ", ".join(i.identity for i in anchor.identities),
                    "the index names a signer the channel definition does not allow",
                )
        else:
            pinned = self._state.get("signers", {}).get(name)
            if pinned is not None and (pinned["kind"], pinned["identity"], pinned["issuer"]) != (
                kind,
                entry.signer.identity,
                entry.signer.issuer,
            ):
                raise _refuse(
                    f"channel {name} now declares signer {entry.signer.identity} "
                    f"({entry.signer.issuer}); this client trusted {pinned['identity']} "
                    f"({pinned['issuer']}) before",
                    "if the project changed signers, pass --channels-dir or delete the state",
                )
            self._new_state.setdefault("signers", {})[name] = {
                "kind": kind,
                "identity": entry.signer.identity,
                "issuer": entry.signer.issuer,
            }
        return entry.signer

    def _check_doc_signer(self, template: Identity, signer: Identity, what: str) -> None:
        if identity_matches(template, signer) is None:
            raise _refuse(
                f"{what} names signer {signer.identity} ({signer.issuer}); the "
                f"channel is signed by {template.identity} ({template.issuer})",
                "one channel's signer cannot sign another channel",
            )

    # --- documents -----------------------------------------------------------

    def index(self) -> Index:
        """Fetch and check ``index.json`` (once per client)."""
        if self._index is not None:
            return self._index
        data = read_capped(self.fetcher, INDEX_PATH, self.limits.index, "index")
        try:
            parsed = model.parse_index(data)
        except DocumentError as exc:
            raise _refuse(f"index.json: {exc.message}", exc.hint) from exc
        index = parsed.document
        self.warnings += parsed.warnings
        digest = hashlib.sha256(data).hexdigest()
        seen = self._state.get("index_version", 0)
        if index.version < seen:
            raise _refuse(
                f"index version {index.version} is older than version {seen} seen "
                "before (rollback)",
                "the source serves an old index; refusing",
            )
        if index.version == seen and digest != self._state.get("index_sha256"):
            raise _refuse(
                f"index version {index.version} has different bytes than the version seen before",
                "two different indexes claim one version",
            )
        if index.is_expired(self.now):
            raise _refuse(
                f"index version {index.version} expired at "
                f"{sj.format_time(index.expires)} (freeze)",
                "the publisher must re-sign the index; an old one is being served",
            )
        if index.generated_at > self.now + FUTURE_TOLERANCE:
            raise _refuse(
                f"index was generated at {sj.format_time(index.generated_at)}, in the future",
                "check this machine's clock",
            )
        for name, entry in index.channels.items():
            self._template_of(index, name, entry.kind)
        publisher = index.channels[index.published_by]
        self._check_doc_signer(publisher.signer, index.signer, "index")
        self._verify_signature(model.index_version_path(index.version), data, index.signer, "index")
        self._index = index  # trusted from here on
        self._new_state.update(index_version=index.version, index_sha256=digest)
        for name, entry in index.channels.items():
            self._check_lines_forward(
                name, {ln: s.latest for ln, s in entry.lines.items()}, entry.kind, complete=False
            )
        return index

    def channel(self, name: str) -> ChannelDocument:
        """The pinned, checked document of channel ``name``."""
        if name in self._channels:
            return self._channels[name]
        index = self.index()
        entry = index.channel(name)
        pin = entry.document
        seen = self._state.get("channels", {}).get(name, {}).get("document_version", 0)
        if pin.version < seen:
            raise _refuse(
                f"channel {name} document version {pin.version} is older than "
                f"version {seen} seen before (rollback)"
            )
        if pin.length > self.limits.channel:
            raise _refuse(
                f"channel {name} document is {pin.length} bytes, over the "
                f"{self.limits.channel}-byte limit"
            )
        data = read_capped(self.fetcher, pin.path, pin.length, "channel document")
        try:
            pin.check(data, f"channel document {pin.path}")
            parsed = model.parse_channel(data, pin.path)
            doc = parsed.document
            model.consistent(entry, name, doc)
        except DocumentError as exc:
            raise _refuse(exc.message, exc.hint) from exc
        self.warnings += parsed.warnings
        self._check_doc_signer(entry.signer, doc.signer, f"channel document {pin.path}")
        self._verify_signature(pin.path, data, doc.signer, f"channel document {pin.path}")
        self._channels[name] = doc
        self._check_lines_forward(
            name, {e.line: e.latest for e in doc.lines}, doc.kind, complete=True
        )
        ch_state = self._new_state.setdefault("channels", {}).setdefault(name, {})
        ch_state["document_version"] = doc.version
        ch_state["lines"] = {e.line: e.latest for e in doc.lines if e.latest is not None}
        return doc

    def line(self, channel: str, line: str) -> LineDocument:
        """The pinned, checked document of one line. Raises UsageError for unknown lines.

        A live line is reached through the index's own pin (no channel document
        needed); an EOL line through the channel document.
        """
        key = (channel, line)
        if key in self._lines:
            return self._lines[key]
        entry = self.index().channel(channel)
        summary = entry.lines.get(line)
        if summary is not None:
            ldoc = self._load_line(channel, line, summary.document, summary.latest, None)
        else:
            doc = self.channel(channel)
            found = doc.entry(line)
            if found is None:
                known = ", ".join(e.line for e in reversed(doc.lines)) or "none"
                raise UsageError(f"channel {channel} has no line {line}", hint=f"lines: {known}")
            ldoc = self._load_line(channel, line, found.document, found.latest, found.releases)
        self._lines[key] = ldoc
        return ldoc

    def _load_line(
        self, channel: str, line: str, pin: model.Pin, latest: str | None, count: int | None
    ) -> LineDocument:
        entry = self.index().channels[channel]
        if pin.length > self.limits.line:
            raise _refuse(f"line document {pin.path} is over the size limit")
        data = read_capped(self.fetcher, pin.path, pin.length, "line document")
        try:
            pin.check(data, f"line document {pin.path}")
            parsed = model.parse_line_document(data, pin.path)
        except DocumentError as exc:
            raise _refuse(exc.message, exc.hint) from exc
        ldoc = parsed.document
        if (ldoc.channel, ldoc.line, ldoc.kind, ldoc.tag_format) != (
            channel,
            line,
            entry.kind,
            entry.tag_format,
        ):
            raise _refuse(
                f"line document {pin.path} is {ldoc.channel}/{ldoc.line}, not {channel}/{line}"
            )
        if ldoc.version != pin.version:
            raise _refuse(f"line document version {ldoc.version} is not the pinned {pin.version}")
        if ldoc.latest != latest or (count is not None and len(ldoc.releases) != count):
            raise _refuse(
                f"line {line}: its parent says latest {latest}, the line document says "
                f"{ldoc.latest}"
                + (f" ({count} vs {len(ldoc.releases)} releases)" if count is not None else "")
            )
        self.warnings += parsed.warnings
        self._check_doc_signer(entry.signer, ldoc.signer, f"line document {pin.path}")
        self._verify_signature(pin.path, data, ldoc.signer, f"line document {pin.path}")
        for r in ldoc.releases:
            if r.signer != entry.signer.for_line(line):
                raise _refuse(
                    f"{r.tag} names signer {r.signer.identity}; line {line} of "
                    f"{channel} is signed by {entry.signer.for_line(line).identity}"
                )
        return ldoc

    def _check_lines_forward(
        self, channel: str, latest: Mapping[str, str | None], kind: str, *, complete: bool
    ) -> None:
        """A line's latest may only go down when the old latest was withdrawn.

        ``complete``: ``latest`` lists every line (channel document), so a line seen
        before must still be there; the index lists live lines only.
        """
        seen = self._state.get("channels", {}).get(channel, {}).get("lines", {})
        for line, old in seen.items():
            if line not in latest:
                if complete:
                    raise _refuse(f"line {line} of {channel} disappeared (latest was {old})")
                continue
            new = latest[line]
            if new is not None and not _lower(kind, new, old):
                continue
            ldoc = self.line(channel, line)
            r = ldoc.release(old)
            if r is None or r.active:
                raise _refuse(
                    f"line {line} of {channel}: latest went from {old} down to "
                    f"{new} without a withdrawal record",
                    "refusing a regression",
                )

    # --- questions -----------------------------------------------------------

    def latest(self, channel: str, line: str | None = None) -> str | None:
        """The latest active version of a channel (or of one line), checked down to the line."""
        if line is not None:
            return self.line(channel, line).latest
        entry = self.index().channel(channel)
        answer = entry.latest
        if answer is None:
            return self.channel(channel).latest
        ln = str(model.parse_version(entry.kind, answer).line)
        if self.line(channel, ln).latest != answer:
            raise _refuse(f"channel {channel} declares latest {answer}, line {ln} disagrees")
        return answer

    def find(self, channel: str, version: str) -> tuple[LineDocument, Release]:
        doc = self.channel(channel)
        try:
            v = model.parse_version(doc.kind, version)
        except DocumentError as exc:
            raise UsageError(exc.message) from exc
        line = str(v.line)
        if doc.entry(line) is None:
            raise UsageError(f"{version} is not a release of channel {channel} (no line {line})")
        ldoc = self.line(channel, line)
        release = ldoc.release(version)
        if release is None:
            raise UsageError(f"{version} is not a release of channel {channel}")
        return ldoc, release

    def verify_all(self) -> dict[str, int]:
        """Fetch and check every document of every channel. Returns counts."""
        index = self.index()
        counts = {"channels": 0, "lines": 0, "releases": 0}
        for name in index.channels:
            doc = self.channel(name)
            counts["channels"] += 1
            for e in doc.lines:
                counts["lines"] += 1
                counts["releases"] += len(self.line(name, e.line).releases)
        return counts

    def check(self, channel: str, version: str) -> CheckResult:
        """Where ``version`` stands. Never "up-to-date" unless everything verified."""
        if self.verifier is None:
            return CheckResult("unknown", "unknown: signatures cannot be verified here", version)
        try:
            doc = self.channel(channel)
            ldoc, release = self.find(channel, version)
        except ReleaseError as err:
            return CheckResult(
                "unknown", f"unknown: {err.message}", version, data={"reason": err.message}
            )
        entry = doc.entry(ldoc.line)
        assert entry is not None
        res = CheckResult(
            "up-to-date",
            "",
            version,
            ldoc.latest,
            doc.latest,
            data={
                "line": ldoc.line,
                "phase": entry.support.phase,
                "eol": sj.format_day(entry.support.eol),
            },
        )
        if not release.active and release.withdrawal is not None:
            w = release.withdrawal
            instead = w.replacement or ldoc.latest or doc.latest
            res.status = "withdrawn"
            res.message = f"{version} was withdrawn: {w.reason}" + (
                f"; use {instead}" if instead else ""
            )
        elif entry.support.phase == "eol":
            res.status = "eol"
            eol = f" since {entry.support.eol}" if entry.support.eol else ""
            res.message = f"line {ldoc.line} is end-of-life{eol}; latest is {doc.latest}"
        elif ldoc.latest is not None and _lower(doc.kind, version, ldoc.latest):
            res.status = "patch-available"
            res.message = f"{ldoc.latest} is available in your line {ldoc.line}"
        elif doc.latest is not None and _lower(doc.kind, version, doc.latest):
            res.status = "newer-line"
            newer = model.parse_version(doc.kind, doc.latest).line
            res.message = f"{version} is the latest of {ldoc.line}; line {newer} has {doc.latest}"
        else:
            res.message = f"{version} is up to date ({channel}, line {ldoc.line})"
        return res

    # --- downloads -----------------------------------------------------------

    def select(
        self, release: Release, *, os_name: str | None, arch: str | None, name: str | None
    ) -> list[Artifact]:
        return model.select_artifacts(release, os_name=os_name, arch=arch, name=name)

    def download(
        self,
        channel: str,
        version: str,
        to: Path,
        *,
        os_name: str | None = None,
        arch: str | None = None,
        name: str | None = None,
    ) -> list[Path]:
        """Download, verify (size, sha256, bundle, signer), then move into ``to``.

        A file appears under its final name only after every check passed.
        """
        if self.verifier is None:
            raise _refuse("downloads need a signature verifier")
        ldoc, release = self.find(channel, version)
        if not release.active:
            self.warnings.append(
                f"{version} is withdrawn: {release.withdrawal.reason if release.withdrawal else ''}"
            )
        expected = self.index().channels[channel].signer.for_line(ldoc.line)
        if release.signer != expected:
            raise _refuse(
                f"{release.tag} is signed by {release.signer.identity}, expected "
                f"{expected.identity}"
            )
        to.mkdir(parents=True, exist_ok=True)
        done: list[Path] = []
        for art in self.select(release, os_name=os_name, arch=arch, name=name):
            done += self._download_one(art, release, to)
        return done

    def _download_one(self, art: Artifact, release: Release, to: Path) -> list[Path]:
        if art.size > self.limits.artifact:
            raise _refuse(f"{art.name} is {art.size} bytes, over the download limit")
        b = art.sigstore_bundle
        bundle = read_capped(self.fetcher, b.path, min(b.size, self.limits.bundle), "bundle")
        if len(bundle) != b.size or hashlib.sha256(bundle).hexdigest() != b.sha256:
            raise _refuse(
                f"{b.path} does not match its recorded size and sha256",
                "the bundle was replaced (a bundle for a different file?)",
            )
        final = to / art.name
        tmp = to / f".{art.name}.{os.getpid()}.part"
        h = hashlib.sha256()
        try:
            with tmp.open("wb") as fh:
                size = copy_capped(self.fetcher, art.path, fh, art.size, "artifact", h)
            if size != art.size or h.hexdigest() != art.sha256:
                raise _refuse(
                    f"{art.name}: got {size} bytes sha256 {h.hexdigest()[:16]}…, "
                    f"the channel says {art.size} bytes sha256 {art.sha256[:16]}…",
                    "the file was changed after publication; not installing it",
                )
            assert self.verifier is not None
            self.verifier.verify(tmp.read_bytes(), bundle, release.signer)
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        bundle_final = to / (art.name + BUNDLE_SUFFIX)
        bundle_final.write_bytes(bundle)
        return [final, bundle_final]

    # --- state ---------------------------------------------------------------

    def save_state(self) -> bool:
        """Persist what was seen, only when signatures were verified. True if saved."""
        if self.state_file is None or self.verifier is None or self._index is None:
            return False
        self._new_state["verified_at"] = sj.format_time(self.now)
        self.state_file.save(self._new_state)
        return True


def _lower(kind: str, a: str, b: str) -> bool:
    va: AnyVersion = model.parse_version(kind, a)
    vb: AnyVersion = model.parse_version(kind, b)
    return bool(va < vb)
