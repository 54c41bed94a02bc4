"""Version checks for other programs: ``check``, ``latest`` and ``download``.

A small, stable, typed API over the TUF channel client, for programs that ask "is
there a newer release?" on every start::

    from release.channel import api

    result = api.check("2.14.3", source="https://example.org/channel", root=ROOT_JSON)
    if result.status == "patch-available":
        print(result.message)         # "2.14.8 is available in your line 2.14"

Contract (tested as public API in ``tests/channel/test_api.py``):

* Every answer is verified through the channel's TUF metadata from the out-of-band
  ``root`` (a ``root.json`` path or its bytes; ``root_sha256`` pins a root fetched from
  the store; neither: the trusted root kept in the state directory from a previous
  verified call). Nothing here trusts on first use.
* :func:`check` never raises for what it cannot decide: an unreachable store, a
  timeout, a refused (tampered) store or a missing root give ``status="unknown"`` with
  the reason in ``message``. It raises :class:`~release.errors.UsageError` only for
  bad arguments (a version that is not a version, a URL with credentials, a channel
  that does not exist). :func:`latest` and :func:`download` raise
  :class:`~release.errors.ReleaseError` subclasses (``UndecidedError`` for the network
  and the deadline, ``TrustError`` for refused data, ``UsageError``).
* Each call has a deadline (``timeout`` seconds, default 5 for questions, 300 for
  downloads) and returns by then, even when the server trickles bytes: the work runs
  in a daemon thread whose own requests are bounded by the same deadline.
* Repeated questions are cheap: the verified answer is cached with the ETag /
  Last-Modified and the sha256 of the ``metadata/timestamp.json`` it was derived from.
  The next call sends one conditional request (``If-None-Match`` /
  ``If-Modified-Since``); a ``304`` (or the same bytes) returns the cached answer,
  ``cached=True``, while it is fresh: before the earliest expiry of the metadata that
  verified it and at most ``max_age`` (default 24 h, so root rotations are picked up).
  Any change of the timestamp runs the full TUF workflow.
* No CLI, rich, sigstore or tuf import happens at import time (nor on the cached
  path); the full path imports tuf and, for new signatures, sigstore.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from release.errors import ReleaseError, UndecidedError, UsageError

Status = Literal["up-to-date", "patch-available", "newer-line", "eol", "withdrawn", "unknown"]
STATUSES: tuple[str, ...] = (
    "up-to-date",
    "patch-available",
    "newer-line",
    "eol",
    "withdrawn",
    "unknown",
)
TIMESTAMP = "metadata/timestamp.json"
CACHE_VERSION = 1
_TIMESTAMP_MAX = 16 * 1024
T = TypeVar("T")

__all__ = [
    "STATUSES",
    "CheckResult",
    "LatestResult",
    "Status",
    "check",
    "download",
    "latest",
]


@dataclass(frozen=True)
class CheckResult:
    """Where ``current`` stands in its channel.

    ``status``: ``up-to-date``, ``patch-available`` (a newer release in the same line),
    ``newer-line`` (the line is current, a newer line exists), ``eol`` (the line is
    end-of-life), ``withdrawn`` (this release was withdrawn) or ``unknown`` (could not
    decide; ``message`` says why). ``verified`` is True for every answer but
    ``unknown``; ``cached`` when it came from the verified cache after a ``304``.
    """

    status: Status
    message: str
    current: str
    channel: str | None = None
    line: str | None = None
    latest_in_line: str | None = None
    latest: str | None = None
    verified: bool = False
    cached: bool = False

    @property
    def update_available(self) -> bool:
        """A newer release exists in the line or the channel (or this one is withdrawn)."""
        return self.status in ("patch-available", "newer-line", "eol", "withdrawn")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LatestResult:
    """The latest active release of a channel (or of one of its lines)."""

    channel: str
    line: str | None
    version: str | None
    tag: str | None
    verified: bool = True
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the deadline --------------------------------------------------------------------


def _within(seconds: float, what: str, work: Callable[[], T]) -> T:
    """Run ``work`` in a daemon thread; give up after ``seconds`` (UndecidedError)."""
    if seconds <= 0:
        raise UsageError(f"timeout must be positive, not {seconds!r}")
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"release-channel-{what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise UndecidedError(
            f"no answer from the channel store within {seconds:g} s ({what})",
            hint="the store is slow or unreachable; the next call tries again",
        )
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


# --- the verified-answer cache ---------------------------------------------------------


@dataclass
class _Cache:
    """``<state_dir>/api/<sha256 of the canonical source>.json`` (a cache, not trust)."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, state_dir: Path, canonical: str) -> _Cache:
        key = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        path = state_dir / "api" / f"{key}.json"
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            data = {}
        if data.get("source") not in (None, canonical):
            data = {}
        return cls(path, data)

    def answer(self, key: str, now: datetime) -> dict[str, Any] | None:
        answers = self.data.get("answers")
        if not isinstance(answers, dict) or not isinstance(answers.get(key), dict):
            return None
        try:
            fresh_until = datetime.fromisoformat(str(self.data["fresh_until"]))
        except (KeyError, ValueError):
            return None
        if now >= fresh_until:
            return None
        found: dict[str, Any] = answers[key]
        return found

    def save(self) -> None:
        from release.files import write_atomic

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(self.data, sort_keys=True).encode(), durable=False)
        except OSError:
            pass  # a cache that cannot be written only costs the next call a refresh


@dataclass(frozen=True)
class _Probe:
    """The conditional request for ``metadata/timestamp.json``."""

    unchanged: bool  # 304, or the same bytes as last time
    sha256: str | None  # of the body (None after a 304)
    etag: str | None
    last_modified: str | None


def _probe(canonical: str, cache: _Cache, seconds: float) -> _Probe:
    """One conditional GET (HTTP) or one read (directory) of the timestamp.

    Raises UndecidedError when the store cannot be reached.
    """
    if "://" not in canonical:
        path = Path(canonical) / "metadata" / "timestamp.json"
        try:
            body = path.read_bytes()[: _TIMESTAMP_MAX + 1]
        except OSError as exc:
            raise UndecidedError(f"cannot read {path}: {exc.strerror}") from exc
        sha = hashlib.sha256(body).hexdigest()
        return _Probe(sha == cache.data.get("timestamp_sha256"), sha, None, None)
    import urllib.error
    import urllib.request

    from release.channel.fetch import check_url

    check_url(canonical)
    headers = {"User-Agent": "release-channels-api/1", "Accept-Encoding": "identity"}
    if cache.data.get("etag"):
        headers["If-None-Match"] = str(cache.data["etag"])
    if cache.data.get("last_modified"):
        headers["If-Modified-Since"] = str(cache.data["last_modified"])
    url = canonical + TIMESTAMP
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (checked above)

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        """A redirected probe is not answered from the cache: the full path follows it."""

        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirects())
    try:
        with opener.open(request, timeout=seconds) as resp:
            body = resp.read(_TIMESTAMP_MAX + 1)
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304:
            return _Probe(True, None, exc.headers.get("ETag"), exc.headers.get("Last-Modified"))
        raise UndecidedError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UndecidedError(f"cannot fetch {url}: {reason}") from None
    sha = hashlib.sha256(body).hexdigest()
    return _Probe(sha == cache.data.get("timestamp_sha256"), sha, etag, modified)


# --- the full TUF path -----------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    source: str
    root: Path | bytes | None
    root_sha256: str | None
    state_dir: Path | None
    timeout: float
    max_age: timedelta
    now: datetime | None


def _open(opts: _Options, deadline_total: float) -> Any:
    from release.channel.fetch import Deadline
    from release.channel.tuf.client import open_client

    root_file: Path | None = None
    if isinstance(opts.root, bytes):
        root_file = _root_file(opts.root, opts.state_dir)
    elif opts.root is not None:
        root_file = Path(opts.root)
    return open_client(
        opts.source,
        root=root_file,
        root_sha256=opts.root_sha256,
        state_dir=opts.state_dir,
        deadline=Deadline(total=deadline_total),
        now=opts.now,
        env={} if opts.root is not None or opts.root_sha256 else None,
    )


def _root_file(data: bytes, state_dir: Path | None) -> Path:
    """Root bytes given by the program: kept under the state dir by their sha256."""
    from release.channel.tuf.state import default_state_dir
    from release.files import write_atomic

    base = (state_dir or default_state_dir()) / "api" / "roots"
    path = base / f"{hashlib.sha256(data).hexdigest()}.root.json"
    if not path.is_file():
        base.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, durable=False)
    return path


def _state_dir(opts: _Options) -> Path:
    from release.channel.tuf.state import default_state_dir

    return opts.state_dir or default_state_dir()


def _canonical(source: str) -> str:
    from release.channel.tuf.state import canonical_source

    return canonical_source(source)


def _answer(
    opts: _Options,
    key: str,
    compute: Callable[[Any], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """(answer, cached): from the cache after an unchanged probe, else through TUF."""
    canonical = _canonical(opts.source)
    now = opts.now or datetime.now(UTC)
    cache = _Cache.open(_state_dir(opts), canonical)
    anchor = _anchor_key(opts)
    probe = _probe(canonical, cache, opts.timeout)
    if probe.unchanged and cache.data.get("anchor") == anchor:
        hit = cache.answer(key, now)
        if hit is not None:
            return hit, True
    client = _open(opts, opts.timeout)
    answer = compute(client)
    client.save()
    _remember(cache, client, canonical, anchor, probe, key, answer, now, opts.max_age)
    return answer, False


def _anchor_key(opts: _Options) -> str:
    """What the cached answers were verified from (a different root empties the cache)."""
    if isinstance(opts.root, bytes):
        return "bytes:" + hashlib.sha256(opts.root).hexdigest()
    if opts.root is not None:
        try:
            return "file:" + hashlib.sha256(Path(opts.root).read_bytes()).hexdigest()
        except OSError:
            return "file-unreadable"
    return "sha256:" + (opts.root_sha256 or "state")


def _remember(
    cache: _Cache,
    client: Any,
    canonical: str,
    anchor: str,
    probe: _Probe,
    key: str,
    answer: dict[str, Any],
    now: datetime,
    max_age: timedelta,
) -> None:
    state = getattr(client, "state", None)
    view = getattr(client, "view", None)
    if state is None or view is None or not client.verified:
        return
    try:
        verified = (state.metadata_dir / "timestamp.json").read_bytes()
        expires: datetime = view.expires()
    except (OSError, ValueError, AttributeError):
        return
    sha = hashlib.sha256(verified).hexdigest()
    same = cache.data.get("timestamp_sha256") == sha and cache.data.get("anchor") == anchor
    answers = dict(cache.data.get("answers", {})) if same else {}
    answers[key] = answer
    etag = last_modified = None
    if probe.sha256 == sha:
        etag, last_modified = probe.etag, probe.last_modified
    elif same:
        etag, last_modified = cache.data.get("etag"), cache.data.get("last_modified")
    cache.data = {
        "version": CACHE_VERSION,
        "source": canonical,
        "anchor": anchor,
        "timestamp_sha256": sha,
        "etag": etag,
        "last_modified": _http_date(last_modified),
        "fresh_until": min(expires, now + max_age).isoformat(),
        "answers": answers,
    }
    cache.save()


def _http_date(value: str | None) -> str | None:
    """A Last-Modified value worth sending back (a parseable HTTP date), else None."""
    if not value:
        return None
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return value


def _options(
    source: str,
    root: Path | str | bytes | None,
    root_sha256: str | None,
    state_dir: Path | str | None,
    timeout: float,
    max_age: timedelta,
    now: datetime | None,
) -> _Options:
    if not isinstance(source, str) or not source:
        raise UsageError("source must be a directory path or an https:// URL")
    if isinstance(root, str):
        root = Path(root)
    return _Options(
        source=os.fspath(source),
        root=root,
        root_sha256=root_sha256,
        state_dir=Path(state_dir) if state_dir is not None else None,
        timeout=float(timeout),
        max_age=max_age,
        now=now,
    )


# --- the public functions ---------------------------------------------------------------


def check(
    current_version: str,
    *,
    source: str,
    root: Path | str | bytes | None = None,
    root_sha256: str | None = None,
    channel: str | None = None,
    state_dir: Path | str | None = None,
    timeout: float = 5.0,
    max_age: timedelta = timedelta(hours=24),
    now: datetime | None = None,
) -> CheckResult:
    """Where ``current_version`` (a version or a tag) stands in its channel.

    ``source``: the store (a directory or an ``https://`` URL; ``http://`` on loopback).
    ``root``: the trusted ``root.json`` (path or bytes), else ``root_sha256``, else the
    root a previous verified call left in ``state_dir``. ``channel``: by default the
    one a tag names, else ``stable``. Never raises for the network, the deadline or
    refused data (``status="unknown"``); raises :class:`UsageError` for bad arguments.
    """
    opts = _options(source, root, root_sha256, state_dir, timeout, max_age, now)

    def compute(client: Any) -> dict[str, Any]:
        name, version = client.resolve(current_version, channel)
        res = client.check(name, version)
        return {
            "status": res.status,
            "message": res.message,
            "current": version,
            "channel": name,
            "line": res.data.get("line"),
            "latest_in_line": res.latest_in_line,
            "latest": res.latest,
        }

    key = f"check\x1f{channel or ''}\x1f{current_version}"
    try:
        found, cached = _within(opts.timeout, "check", lambda: _answer(opts, key, compute))
    except UsageError:
        raise
    except ReleaseError as exc:
        return CheckResult("unknown", _one_line(exc), current_version)
    return CheckResult(verified=True, cached=cached, **found)


def latest(
    *,
    source: str,
    root: Path | str | bytes | None = None,
    root_sha256: str | None = None,
    channel: str | None = None,
    line: str | None = None,
    state_dir: Path | str | None = None,
    timeout: float = 5.0,
    max_age: timedelta = timedelta(hours=24),
    now: datetime | None = None,
) -> LatestResult:
    """The latest active release of ``channel`` (default ``stable``), or of ``line``.

    Raises :class:`UndecidedError` (network, deadline, no root), ``TrustError``
    (refused data) or :class:`UsageError` (unknown channel or line).
    """
    opts = _options(source, root, root_sha256, state_dir, timeout, max_age, now)

    def compute(client: Any) -> dict[str, Any]:
        name = channel or client.default_channel()
        version = client.latest(name, line)
        tag = client.tag_of(name, version) if version else None
        return {"channel": name, "line": line, "version": version, "tag": tag}

    key = f"latest\x1f{channel or ''}\x1f{line or ''}"
    found, cached = _within(opts.timeout, "latest", lambda: _answer(opts, key, compute))
    return LatestResult(cached=cached, **found)


def download(
    version: str,
    *,
    source: str,
    to: Path | str,
    root: Path | str | bytes | None = None,
    root_sha256: str | None = None,
    channel: str | None = None,
    os_name: str | None = None,
    arch: str | None = None,
    state_dir: Path | str | None = None,
    timeout: float = 300.0,
    now: datetime | None = None,
) -> list[Path]:
    """Download and verify the files of ``version`` (a version or tag) into ``to``.

    Files appear under their final names only after every one verified; on any failure
    ``to`` is left as it was. Returns the paths (artifacts and their bundles).
    Raises :class:`UndecidedError`, ``TrustError`` or :class:`UsageError`.
    """
    opts = _options(source, root, root_sha256, state_dir, timeout, timedelta(0), now)

    def work() -> list[Path]:
        client = _open(opts, opts.timeout)
        name, resolved = client.resolve(version, channel)
        files: list[Path] = client.download(name, resolved, Path(to), os_name=os_name, arch=arch)
        client.save()
        return files

    return _within(opts.timeout, "download", work)


def _one_line(exc: ReleaseError) -> str:
    text = exc.message.strip().splitlines()[0] if exc.message.strip() else type(exc).__name__
    return text
