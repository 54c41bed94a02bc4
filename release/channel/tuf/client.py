"""The consumer side of a TUF channel store (schema 2): find, check, verify, download.

:func:`open_client` is the library entry point (the CLI and ``release.channel.api``
build on it)::

    client = open_client("https://example.org/channel/", root=Path("root.json"))
    client.latest("stable")            # "2.15.1", verified through TUF
    client.save()                      # remember what was verified (rollback protection)

Trust: the root comes out of band (:mod:`.bootstrap`); python-tuf's ``Updater`` runs
the TUF workflow (:mod:`.views`); the channel and line documents are TUF targets of
their channel's role and line role, and everything they say is also checked against
the v1 model (declared latest is the maximum active release, tags match the channel's
format, a line document is exactly what the channel document pins). A channel the
``targets`` role delegates can never silently disappear: a delegated role without a
channel document is an error, and so is asking for a channel that is not delegated.
A delegated channel the snapshot does not list has published nothing yet
(:class:`~release.errors.ChannelNotPublished`, never a fallback to another channel),
unless there is evidence that it did publish (:meth:`ChannelClient.published`).

Speed: signature verdicts are cached by the sha256 of what was verified
(``keys.VerdictCache``), and the answer of ``latest`` is remembered with the sha256
of the timestamp it came from: an unchanged store answers from two small reads (no
newer root, the same timestamp bytes, nothing expired) without importing tuf or
sigstore.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from release.channel import model
from release.channel.fetch import Deadline, fetcher_for
from release.channel.model import AnyVersion, ChannelDocument, LineDocument, Release
from release.channel.strictjson import DocumentError
from release.channel.tuf.bootstrap import Anchor, resolve_anchor
from release.channel.tuf.state import ClientState, VerdictCache, canonical_source, default_state_dir
from release.channel.tuf.views import TargetInfo, VerifiedView
from release.errors import ChannelNotPublished, ReleaseError, TrustError, UsageError

DOC_MAX = 32 << 20
ARTIFACT_MAX = 4 << 30
_CHANNEL_DOC = re.compile(r"channels/([^/]+)/v([1-9][0-9]*)\.json")


@dataclass
class CheckResult:
    """The answer of ``check``: a status word and a sentence."""

    status: str  # up-to-date | patch-available | newer-line | eol | withdrawn | unknown
    message: str
    version: str
    latest_in_line: str | None = None
    latest: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _lower(kind: str, a: str, b: str) -> bool:
    va: AnyVersion = model.parse_version(kind, a)
    vb: AnyVersion = model.parse_version(kind, b)
    return bool(va < vb)


def _refuse(message: str, hint: str | None = None) -> TrustError:
    return TrustError(message, hint=hint)


class ChannelClient:
    """Reads one channel store through a view (verified, or raw with ``--no-verify``)."""

    def __init__(
        self,
        view: Any,
        *,
        source: str,
        state: ClientState | None = None,
        anchor: Anchor | None = None,
        now: datetime | None = None,
    ) -> None:
        self.view = view
        self.source = source
        self.state = state
        self.anchor = anchor
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        self.warnings: list[str] = []
        self._refreshed = False
        self._channels: dict[str, ChannelDocument] = {}
        self._lines: dict[tuple[str, str], LineDocument] = {}
        self._answers: dict[str, Any] = {}
        self._published: dict[str, bool] = {}

    @property
    def verified(self) -> bool:
        return bool(self.view.verified)

    def _refresh(self) -> None:
        if not self._refreshed:
            self.view.refresh()
            self._refreshed = True

    # --- channels and documents ----------------------------------------------

    def channels(self) -> list[str]:
        """The channels the ``targets`` role delegates (declares), published or not."""
        self._refresh()
        return sorted(self.view.channel_roles())

    def published_channels(self) -> list[str]:
        """The declared channels that have published (see :meth:`published`)."""
        return [name for name in self.channels() if self.published(name)]

    def published(self, name: str) -> bool:
        """Whether declared channel ``name`` has published: the snapshot lists its role.

        A channel that published and then left the snapshot is refused (TrustError):
        python-tuf refuses a snapshot dropping a role the client's trusted one listed,
        this client's state remembers the channels it verified, and a stateless client
        finds the role's first version in the store, signed by the role's keys. Raises
        UsageError for a channel ``targets`` does not declare.
        """
        if name in self._published:
            return self._published[name]
        self._check_channel_name(name)
        if self.view.published(name):
            self._published[name] = True
            return True
        snapshot = self.view.snapshot_file()
        seen = self._seen(name)
        if seen:
            raise _refuse(
                f"{snapshot} (role snapshot) does not list role {name}, but this client "
                f"verified channel {name} (document version {seen.get('document_version')}) "
                "before",
                "a declared channel cannot disappear: the snapshot hides it (rollback or a "
                f"compromised publisher); state: {self.state_path()}",
            )
        evidence = self.view.signed_role_file(name)
        if evidence is not None:
            raise _refuse(
                f"{snapshot} (role snapshot) does not list role {name}, but {evidence} "
                f"(role {name}) is in the store, signed by the keys targets delegates "
                f"{name} to: the channel published and the snapshot hides it",
                "a declared channel cannot disappear; if the channel's very first "
                "publication was interrupted, publishing it again repairs this",
            )
        self._published[name] = False
        return False

    def _require_published(self, name: str) -> None:
        """Raise ChannelNotPublished unless declared channel ``name`` has published."""
        if self.published(name):
            return
        others = [n for n in self.channels() if n != name and self.published(n)]
        raise ChannelNotPublished(
            name,
            f"channel {name} is declared by the targets role of {self.source}, but has "
            f"published nothing yet ({self.view.snapshot_file()} lists no role {name})",
            hint=(
                f"channels with releases: {', '.join(others)}; pass --channel "
                f"{others[0]}, or wait for {name}'s first release"
                if others
                else f"no channel has published yet; wait for {name}'s first release"
            ),
        )

    def default_channel(self) -> str:
        """``stable`` when delegated, else the only channel. Raises UsageError."""
        names = self.channels()
        if "stable" in names:
            return "stable"
        if len(names) == 1:
            return names[0]
        raise UsageError(
            "this store has several channels and none is called stable",
            hint=f"pass --channel ({', '.join(names) or 'none delegated'})",
        )

    def _check_channel_name(self, name: str) -> None:
        names = self.channels()
        if name in names:
            return
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        raise UsageError(
            f"channel {name!r} is not delegated by the targets role of {self.source}",
            hint=(f"did you mean --channel {close[0]}? " if close else "")
            + f"channels: {', '.join(names) or 'none'}",
        )

    def channel(self, name: str) -> ChannelDocument:
        """The newest document of channel ``name``, a target of role ``name``."""
        if name in self._channels:
            return self._channels[name]
        self._check_channel_name(name)
        self._require_published(name)
        listed = self.view.role_targets(name)
        docs: list[tuple[int, TargetInfo]] = []
        for path, info in listed.items():
            m = _CHANNEL_DOC.fullmatch(path)
            if m and m[1] == name:
                docs.append((int(m[2]), info))
        if not docs:
            raise _refuse(
                f"channel {name} is delegated by role targets, but role {name} lists no "
                f"channel document (channels/{name}/v*.json)",
                "a channel the root declares cannot disappear; the store is broken or under attack",
            )
        version, info = max(docs, key=lambda d: d[0])
        data = self.view.read(info, DOC_MAX)
        try:
            parsed = model.parse_channel(data, info.path)
        except DocumentError as exc:
            raise _refuse(f"{info.path} (role {info.role}): {exc.message}", exc.hint) from exc
        doc = parsed.document
        self.warnings += [f"{info.path}: {w}" for w in parsed.warnings]
        if doc.channel != name or doc.version != version:
            raise _refuse(
                f"{info.path} (role {info.role}) is channel {doc.channel} version "
                f"{doc.version}, not {name} version {version}"
            )
        try:
            self._check_forward(name, doc, info)
        except ReleaseError:
            self._channels.pop(name, None)
            raise
        self._channels[name] = doc
        return doc

    def _seen(self, name: str) -> dict[str, Any]:
        """What this client verified of channel ``name`` before (empty without state)."""
        if self.state is None:
            return {}
        seen = self.state.load().get("channels", {}).get(name, {})
        return seen if isinstance(seen, dict) else {}

    def _check_forward(self, name: str, doc: ChannelDocument, info: TargetInfo) -> None:
        """With state: the channel document and each line's latest only move forward,
        unless the old latest carries a withdrawal record (what TUF cannot know)."""
        seen = self._seen(name)
        where = f"{info.path} (role {info.role})"
        old_version = seen.get("document_version", 0)
        if isinstance(old_version, int) and doc.version < old_version:
            raise _refuse(
                f"{where}: channel document version {doc.version} is older than version "
                f"{old_version} this client verified before (rollback)",
                f"the {name} role went back to an old document; state: {self.state_path()}",
            )
        self._channels[name] = doc
        for line, old in dict(seen.get("lines", {})).items():
            entry = doc.entry(line)
            if entry is None:
                raise _refuse(
                    f"{where}: line {line} of {name} disappeared (its latest was {old})",
                    f"state: {self.state_path()}",
                )
            if entry.latest is not None and not _lower(doc.kind, entry.latest, old):
                continue
            release = self.line(name, line).release(old)
            if release is None or release.active:
                raise _refuse(
                    f"{where}: line {line} of {name} went from {old} down to "
                    f"{entry.latest} without a withdrawal record",
                    f"refusing a regression; state: {self.state_path()}",
                )

    def state_path(self) -> str:
        return str(self.state.path) if self.state is not None else "none"

    def line(self, channel: str, line: str) -> LineDocument:
        """The line document the channel document pins, a target of the line's role."""
        key = (channel, line)
        if key in self._lines:
            return self._lines[key]
        doc = self.channel(channel)
        entry = doc.entry(line)
        if entry is None:
            known = ", ".join(e.line for e in reversed(doc.lines)) or "none"
            raise UsageError(f"channel {channel} has no line {line}", hint=f"lines: {known}")
        pin = entry.document
        info = self.view.targetinfo(pin.path)
        if info is None:
            raise _refuse(
                f"{pin.path} is pinned by channel {channel}'s document but no role "
                f"delegated for it (line role {channel}.{line}) lists it"
            )
        if info.length != pin.length or info.hashes.get("sha256") != pin.sha256:
            raise _refuse(
                f"{pin.path} (role {info.role}) is not the document channel {channel} pins "
                "(length or sha256 differ)",
                "mix-and-match of documents refused",
            )
        data = self.view.read(info, DOC_MAX)
        try:
            pin.check(data, f"line document {pin.path}")
            parsed = model.parse_line_document(data, pin.path)
            ldoc = parsed.document
            if (ldoc.channel, ldoc.line, ldoc.kind, ldoc.tag_format) != (
                channel,
                line,
                doc.kind,
                doc.tag_format,
            ):
                raise _refuse(
                    f"{pin.path} (role {info.role}) is a {ldoc.kind} line {ldoc.channel}/"
                    f"{ldoc.line} tagged {ldoc.tag_format}, not a {doc.kind} line of "
                    f"{channel} tagged {doc.tag_format}",
                    "one channel's lines cannot enter another channel",
                )
            model.line_consistent(entry, ldoc, doc)
        except DocumentError as exc:
            raise _refuse(f"{pin.path} (role {info.role}): {exc.message}", exc.hint) from exc
        self.warnings += [f"{pin.path}: {w}" for w in parsed.warnings]
        self._lines[key] = ldoc
        return ldoc

    # --- versions and tags ---------------------------------------------------

    def resolve(self, text: str, channel: str | None) -> tuple[str, str]:
        """(channel, version) for a version or a tag (``2.15.1``, ``stable-2.15.1``).

        Without ``channel`` a tag names its channel, else the default channel is used.
        Raises UsageError with a "did you mean" for another channel's tag.
        """
        from release.versions import TagFormat

        wanted = channel or None
        if wanted is not None:
            self._check_channel_name(wanted)
        names = self.published_channels()
        matches: list[tuple[str, str]] = []
        for name in [wanted] if wanted else names:
            assert name is not None
            doc = self.channel(name)
            v = TagFormat(doc.tag_format).parse(text)
            if v is not None:
                return name, str(v)
            try:
                return name, str(model.parse_version(doc.kind, text))
            except DocumentError:
                pass
        if wanted is None:
            ch = self.default_channel()
            self._require_published(ch)  # never an answer from another channel instead
            raise UsageError(f"{text!r} is neither a version nor a tag of channel {ch}")
        for other in names:
            if other == wanted:
                continue
            odoc = self.channel(other)
            ov = TagFormat(odoc.tag_format).parse(text)
            if ov is not None:
                matches.append((other, str(ov)))
        if matches:
            other = matches[0][0]
            raise UsageError(
                f"{text} is a tag of channel {other}, not of channel {wanted}",
                hint=f"did you mean --channel {other}?",
            )
        doc = self.channel(wanted)
        raise UsageError(
            f"{text!r} is neither a version nor a tag of channel {wanted}",
            hint=f"e.g. {doc.latest or 'X.Y.Z'} or "
            f"{doc.tag_format.replace('{version}', doc.latest or 'X.Y.Z')}",
        )

    # --- questions -----------------------------------------------------------

    def latest(self, channel: str, line: str | None = None) -> str | None:
        """The latest active version of a channel or line, confirmed by its line document."""
        if line is not None:
            return self.line(channel, line).latest
        doc = self.channel(channel)
        answer = doc.latest
        if answer is None:
            return None
        ln = str(model.parse_version(doc.kind, answer).line)
        if self.line(channel, ln).latest != answer:
            raise self._disagree(channel, answer, ln)
        return answer

    def _disagree(self, channel: str, latest: str, line: str) -> TrustError:
        doc = self.channel(channel)
        entry = doc.entry(line)
        pinned = entry.document.path if entry is not None else f"line {line}"
        return _refuse(
            f"channels/{channel}/v{doc.version}.json (role {channel}) declares latest "
            f"{latest}, {pinned} (role {channel}.{line}) disagrees",
            "the channel and line documents do not fit together: refusing both",
        )

    def tag_of(self, channel: str, version: str) -> str:
        from release.versions import TagFormat

        doc = self.channel(channel)
        return TagFormat(doc.tag_format).format(model.parse_version(doc.kind, version))

    def find(self, channel: str, version: str) -> tuple[LineDocument, Release]:
        """The release ``version`` (or tag) of ``channel``. Raises UsageError if absent."""
        channel, version = self.resolve(version, channel)
        doc = self.channel(channel)
        try:
            v = model.parse_version(doc.kind, version)
        except DocumentError as exc:
            raise UsageError(exc.message) from exc
        line = str(v.line)
        if doc.entry(line) is None:
            raise UsageError(
                f"{version} is not a release of channel {channel} (no line {line})",
                hint=f"lines: {', '.join(e.line for e in reversed(doc.lines)) or 'none'}",
            )
        ldoc = self.line(channel, line)
        release = ldoc.release(version)
        if release is None:
            raise UsageError(
                f"{version} is not a release of channel {channel}",
                hint=f"latest of line {line}: {ldoc.latest or 'none'}",
            )
        return ldoc, release

    def check(self, channel: str, version: str) -> CheckResult:
        """Where ``version`` (or a tag) stands; every document behind the answer is loaded
        and checked."""
        channel, version = self.resolve(version, channel)
        doc = self.channel(channel)
        ldoc, release = self.find(channel, version)
        entry = doc.entry(ldoc.line)
        assert entry is not None
        if doc.latest is not None:
            newest_line = str(model.parse_version(doc.kind, doc.latest).line)
            if self.line(channel, newest_line).latest != doc.latest:
                raise self._disagree(channel, doc.latest, newest_line)
        phase = entry.support.phase_on(self.now.date())
        res = CheckResult(
            "up-to-date",
            "",
            version,
            ldoc.latest,
            doc.latest,
            data={"line": ldoc.line, "phase": phase, "eol": _day(entry.support.eol)},
        )
        if not release.active and release.withdrawal is not None:
            w = release.withdrawal
            instead = w.replacement or ldoc.latest or doc.latest
            res.status = "withdrawn"
            res.message = f"{version} was withdrawn: {w.reason}" + (
                f"; use {instead}" if instead else ""
            )
        elif phase == "eol":
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

    def verify_all(self) -> dict[str, int]:
        """Every published channel's document and every line document. Returns counts;
        :meth:`unpublished` names the declared channels without a publication."""
        counts = {"channels": 0, "lines": 0, "releases": 0}
        for name in self.published_channels():
            doc = self.channel(name)
            counts["channels"] += 1
            for e in doc.lines:
                counts["lines"] += 1
                counts["releases"] += len(self.line(name, e.line).releases)
        return counts

    def unpublished(self) -> list[str]:
        """The declared channels that have published nothing yet."""
        return [name for name in self.channels() if not self.published(name)]

    def release_targets(self, channel: str, release: Release) -> list[tuple[TargetInfo, int]]:
        """The TUF target of every file ``release`` references, matched to its record."""
        out: list[tuple[TargetInfo, int]] = []
        for ref in release.files():
            info = self.view.targetinfo(ref.path)
            if info is None:
                raise _refuse(
                    f"{ref.path} of {release.tag} is not listed by any role delegated for it "
                    f"(the line role of {channel})",
                    "an unsigned file cannot be verified",
                )
            if info.length != ref.size or info.hashes.get("sha256") != ref.sha256:
                raise _refuse(
                    f"{ref.path} (role {info.role}) differs from what the line document "
                    f"records for {release.tag}"
                )
            out.append((info, ref.size))
        return out

    def verify_release(self, channel: str, version: str) -> list[str]:
        """Fetch every file of one release (artifacts, bundles, SHA256SUMS, provenance)
        and check it against its role. Returns the paths verified. Raises TrustError."""
        _, release = self.find(channel, version)
        done = []
        for info, _size in self.release_targets(channel, release):
            if info.length > ARTIFACT_MAX:
                raise _refuse(f"{info.path} is {info.length} bytes, over the limit")
            self.view.read(info, ARTIFACT_MAX)
            done.append(info.path)
        return done

    # --- downloads -----------------------------------------------------------

    def select(
        self, release: Release, *, os_name: str | None, arch: str | None, name: str | None
    ) -> list[model.Artifact]:
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
        """Download into a staging directory inside ``to``; move the files in only when
        every one verified. On any failure ``to`` is left as it was."""
        if not self.verified:
            raise UsageError("downloads are always verified", hint="drop --no-verify")
        _, release = self.find(channel, version)
        if not release.active:
            reason = release.withdrawal.reason if release.withdrawal else ""
            self.warnings.append(f"{version} is withdrawn: {reason}")
        chosen = self.select(release, os_name=os_name, arch=arch, name=name)
        wanted = {a.path for a in chosen} | {a.sigstore_bundle.path for a in chosen}
        targets = [(i, s) for i, s in self.release_targets(channel, release) if i.path in wanted]
        existed = _check_destination(to)
        staging: Path | None = None
        try:
            try:
                to.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=".release-download-", dir=to))
            except OSError as exc:
                raise UsageError(
                    f"cannot write to --to {to}: {exc.strerror}",
                    hint="choose a writable directory",
                ) from exc
            staged: list[tuple[Path, Path]] = []
            for info, _size in targets:
                data = self.view.read(info, ARTIFACT_MAX)
                base = info.path.rsplit("/", 1)[-1]
                tmp = staging / base
                tmp.write_bytes(data)
                staged.append((tmp, to / base))
            for tmp, final in staged:
                os.replace(tmp, final)
            return [final for _, final in staged]
        except OSError as exc:
            raise UsageError(f"cannot write to --to {to}: {exc.strerror}") from exc
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if not existed:
                _remove_if_empty(to)

    # --- state ---------------------------------------------------------------

    def remember(self, key: str, answer: Any) -> None:
        """An answer the fast path may give again while the store is unchanged."""
        self._answers[key] = answer

    def save(self) -> bool:
        """Persist what was verified (never after an unverified read). True if saved."""
        if not self.verified or self.state is None or not self._refreshed:
            return False
        view: VerifiedView = self.view
        data = dict(self.state.load())
        anchors = list(data.get("anchors", []))
        if self.anchor is not None and self.anchor.sha256 not in anchors:
            anchors.append(self.anchor.sha256)
        ts_raw = (self.state.metadata_dir / "timestamp.json").read_bytes()
        import hashlib

        ts = view.updater._trusted_set
        ts_sha = hashlib.sha256(ts_raw).hexdigest()
        answers = data.get("answers", {}) if data.get("timestamp_sha256") == ts_sha else {}
        answers = {**answers, **self._answers}
        channels = dict(data.get("channels", {}))
        for name, doc in self._channels.items():
            channels[name] = {
                "document_version": doc.version,
                "lines": {e.line: e.latest for e in doc.lines if e.latest is not None},
            }
        data.update(
            anchors=anchors,
            verdicts=view.cache.keys(),
            timestamp_sha256=ts_sha,
            timestamp_version=ts.timestamp.version,
            snapshot_version=ts.snapshot.version,
            root_version=ts.root.version,
            valid_until=_iso(view.expires()),
            answers=answers,
            channels=channels,
            verified_at=_iso(self.now),
        )
        self.state.save(data)
        return True


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(d: Any) -> str | None:
    return str(d) if d is not None else None


def _check_destination(to: Path) -> bool:
    """Whether ``to`` exists (as a directory). Raises UsageError for a file."""
    if to.exists() and not to.is_dir():
        raise UsageError(
            f"--to {to} is a file, not a directory", hint="pass a directory for the downloads"
        )
    return to.exists()


def _remove_if_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()


# --- entry point ---------------------------------------------------------------------


def open_client(
    source: str,
    *,
    root: Path | None = None,
    root_sha256: str | None = None,
    repo: Path | None = None,
    state_dir: Path | None = None,
    deadline: Deadline | None = None,
    trust_on_first_use: bool = False,
    verify: bool = True,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    dev_trust_config: Path | None = None,
) -> ChannelClient:
    """A client for ``source`` (a directory or URL). ``verify=False`` reads without any
    check (answers are UNVERIFIED) and needs no root. Raises ReleaseError subclasses:
    UsageError (source), UndecidedError (no root), ConfigError/StateError, TrustError.
    ``dev_trust_config``: accept the store's own root when it names that local dev
    Sigstore instance (``--dev``)."""
    fetcher = fetcher_for(source, deadline=deadline)
    canonical = canonical_source(source)
    if not verify:
        from release.channel.tuf.views import RawView

        return ChannelClient(RawView(fetcher), source=canonical, now=now)
    state = ClientState(state_dir or default_state_dir(env), canonical)
    state.load()
    anchor = resolve_anchor(
        fetcher=fetcher,
        root_file=root,
        root_sha256=root_sha256,
        repo=repo,
        state_has_root=state.has_trusted_root(),
        trust_on_first_use=trust_on_first_use,
        env=env,
        dev_trust_config=dev_trust_config,
    )
    cache = VerdictCache(list(state.load().get("verdicts", [])), canonical)
    view = VerifiedView(fetcher, state, anchor, cache)
    return ChannelClient(view, source=canonical, state=state, anchor=anchor, now=now)


__all__ = ["ChannelClient", "CheckResult", "ReleaseError", "open_client"]
