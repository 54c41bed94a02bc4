"""Fetching channel files from a directory or an https:// (or loopback http://) URL.

Everything the client reads goes through :class:`Fetcher`, whose one method wraps
every failure in :class:`FetchError` (:class:`NotFound` for a file that is not
there). The helpers cap sizes so an endless or oversized response is cut off,
never buffered.

Over HTTP every download has a :class:`Deadline`: a total time limit and, after a
grace period, a minimum average rate. A watchdog closes the socket when the total
deadline passes, so neither a server that trickles headers nor one that sends one
byte a second can hold the client. Redirects are followed only within the same
scheme, host and port; nothing is sent but ``GET`` with a fixed User-Agent.
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from release.channel.strictjson import DocumentError, relpath
from release.errors import ChannelError, UsageError

CHUNK = 1 << 16
USER_AGENT = "release-channels-client/2"
MAX_REDIRECTS = 5


class FetchError(ChannelError):
    """A channel file could not be fetched (refused, network, too slow)."""

    exit_code = 3


class NotFound(FetchError):
    """The file is not in the store (HTTP 404 or no such file)."""

    status = 404


class Forbidden(NotFound):
    """HTTP 403. An object store whose bucket is readable but not listable (public S3
    GetObject without ListBucket) answers 403 for a key it does not have, so where a
    file may be absent (the next root version, say) 403 counts as absent, as in
    python-tuf; a file that must be there still fails, naming the status."""

    status = 403


class ResponseTooLarge(FetchError):
    """A response went past its size cap: refused, never buffered."""

    exit_code = 1


class Fetcher(Protocol):
    """Yields the bytes of the store file ``path`` in chunks. Raises :class:`FetchError`."""

    @property
    def description(self) -> str: ...

    def chunks(self, path: str) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class Deadline:
    """Limits for one download: ``total`` seconds, and at least ``min_rate`` bytes/s
    on average once ``grace`` seconds have passed (a slow start is forgiven)."""

    total: float = 60.0
    min_rate: float = 4096.0
    grace: float = 5.0

    def check(self, url: str, started: float, received: int, now: float) -> None:
        elapsed = now - started
        if elapsed > self.total:
            raise FetchError(
                f"{url}: gave up after {self.total:g} s (total deadline), "
                f"{received} bytes received",
                hint="the server is too slow or never finishes; retry later or raise --deadline",
            )
        if elapsed > self.grace and received / elapsed < self.min_rate:
            raise FetchError(
                f"{url}: {received} bytes in {elapsed:.1f} s is below the minimum rate "
                f"of {self.min_rate:g} bytes/s",
                hint="the server is too slow; retry later or lower --min-rate",
            )


def _check_rel(path: str) -> str:
    try:
        return relpath(path, "path")
    except DocumentError as exc:
        raise FetchError(
            exc.message, hint="channel documents may only name files inside the channel store"
        ) from exc


class DirectoryFetcher:
    """Files of a channel store in a local directory (never outside it, links included)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.description = str(self.root)

    def chunks(self, path: str) -> Iterator[bytes]:
        target = self.root.joinpath(*_check_rel(path).split("/"))
        try:
            root = self.root.resolve(strict=True)
            if root not in target.resolve(strict=True).parents:
                raise FetchError(f"{path} resolves outside the channel store")
            with target.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk
        except FileNotFoundError:
            raise NotFound(f"{path} is not in the channel store {self.root}") from None
        except IsADirectoryError:
            raise NotFound(f"{path} is a directory in the channel store {self.root}") from None
        except OSError as exc:
            raise FetchError(f"cannot read {path} from {self.root}: {exc.strerror}") from exc


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> urllib.parse.SplitResult:
    """Accept ``https://`` anywhere and ``http://`` only on loopback. Raises UsageError.

    A URL with credentials (``user:password@``) is refused without repeating it, so
    the secret never reaches an error message, a log or a state file name.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "refusing a channel source URL with credentials in it",
            hint="channel stores are public; pass the URL without user:password@",
        )
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname)):
        return parts
    raise UsageError(
        f"refusing channel source {url!r}",
        hint="use https://, http:// on 127.0.0.1 only, or a directory",
    )


def _origin(parts: urllib.parse.SplitResult) -> tuple[str, str, int]:
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


class HttpFetcher:
    """Files under a base URL (no credentials, no cookies), each within a :class:`Deadline`."""

    def __init__(
        self, base_url: str, *, deadline: Deadline | None = None, timeout: float | None = None
    ) -> None:
        deadline = deadline or Deadline()
        check_url(base_url)
        self.base = base_url if base_url.endswith("/") else base_url + "/"
        self.description = self.base
        # ``timeout`` (kept for callers of the v1 API) caps the total deadline.
        if timeout is not None:
            deadline = Deadline(min(deadline.total, timeout), deadline.min_rate, deadline.grace)
        self.deadline = deadline

    def url_of(self, path: str) -> str:
        return self.base + urllib.parse.quote(_check_rel(path))

    def chunks(self, path: str) -> Iterator[bytes]:
        return self.get(self.url_of(path))

    def get(self, url: str) -> Iterator[bytes]:
        """Stream ``url``, following same-origin redirects. Raises FetchError."""
        import http.client

        started = time.monotonic()
        origin = _origin(urllib.parse.urlsplit(url))
        for _ in range(MAX_REDIRECTS + 1):
            parts = urllib.parse.urlsplit(url)
            remaining = self.deadline.total - (time.monotonic() - started)
            if remaining <= 0:
                self.deadline.check(url, started, 0, time.monotonic())
            idle = max(0.05, min(remaining, max(self.deadline.grace, 1.0)))
            conn_cls = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            conn = conn_cls(parts.hostname or "", parts.port, timeout=idle)
            watchdog = threading.Timer(remaining, _abort, (conn,))
            watchdog.daemon = True
            watchdog.start()
            resp: Any = None
            try:
                try:
                    target = parts.path or "/"
                    if parts.query:
                        target += "?" + parts.query
                    conn.request(
                        "GET",
                        target,
                        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
                    )
                    resp = conn.getresponse()
                except (OSError, http.client.HTTPException) as exc:
                    self.deadline.check(url, started, 0, time.monotonic())
                    raise FetchError(f"cannot fetch {url}: {_reason(exc)}") from None
                if resp.status in (301, 302, 303, 307, 308):
                    location = resp.getheader("Location") or ""
                    new = urllib.parse.urljoin(url, location)
                    new_parts = urllib.parse.urlsplit(new)
                    if _origin(new_parts) != origin or new_parts.username or new_parts.password:
                        raise FetchError(
                            f"refusing redirect to {new!r}",
                            hint="redirects are followed only within the same host",
                        )
                    url = new
                    continue
                if resp.status == 404:
                    raise NotFound(f"{url}: HTTP 404 {resp.reason}")
                if resp.status == 403:
                    raise Forbidden(f"{url}: HTTP 403 {resp.reason}")
                if resp.status != 200:
                    raise FetchError(f"{url}: HTTP {resp.status} {resp.reason}")
                received = 0
                while True:
                    try:
                        chunk = resp.read1(CHUNK)
                    except (OSError, http.client.HTTPException) as exc:
                        self.deadline.check(url, started, received, time.monotonic())
                        raise FetchError(
                            f"cannot fetch {url}: {_reason(exc)} after {received} bytes"
                        ) from None
                    if not chunk:
                        # The watchdog ends a stuck read with EOF: the deadline decides.
                        self.deadline.check(url, started, received, time.monotonic())
                        if resp.length:  # closed before Content-Length was reached
                            raise FetchError(f"{url}: connection closed after {received} bytes")
                        return
                    received += len(chunk)
                    self.deadline.check(url, started, received, time.monotonic())
                    yield chunk
            finally:
                watchdog.cancel()
                if resp is not None:
                    resp.close()
                conn.close()
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _abort(conn: Any) -> None:
    """Watchdog: unblock a read stuck past the total deadline."""
    import socket

    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def fetcher_for(source: str, *, deadline: Deadline | None = None) -> DirectoryFetcher | HttpFetcher:
    """A fetcher for a directory path or an http(s) URL. Raises UsageError."""
    if "://" in source:
        return HttpFetcher(source, deadline=deadline)
    root = Path(source)
    if not root.is_dir():
        raise UsageError(
            f"channel source {source} is not a directory or URL",
            hint="pass --source DIR or --source https://…",
        )
    return DirectoryFetcher(root)


def read_capped(fetcher: Fetcher, path: str, max_size: int, what: str) -> bytes:
    """All bytes of ``path``, refusing more than ``max_size``. Raises FetchError."""
    parts: list[bytes] = []
    total = 0
    for chunk in fetcher.chunks(path):
        total += len(chunk)
        if total > max_size:
            raise ResponseTooLarge(
                f"{what} {path} is larger than {max_size} bytes",
                hint="refusing an oversized or endless response",
            )
        parts.append(chunk)
    return b"".join(parts)


def copy_capped(
    fetcher: Fetcher, path: str, dest: IO[bytes], max_size: int, what: str, hasher: Any
) -> int:
    """Stream ``path`` into ``dest`` updating ``hasher``; returns the size. Raises FetchError."""
    total = 0
    for chunk in fetcher.chunks(path):
        total += len(chunk)
        if total > max_size:
            raise ResponseTooLarge(f"{what} {path} is larger than its recorded {max_size} bytes")
        hasher.update(chunk)
        dest.write(chunk)
    return total
