"""Fetching channel files from a directory or an https:// (or loopback http://) URL.

Everything the client reads goes through :class:`Fetcher`, whose one method wraps
every failure in :class:`FetchError`; the helpers here cap sizes so an endless or
oversized response is cut off, never buffered.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from release.channel.strictjson import DocumentError, relpath
from release.errors import ChannelError, UsageError

CHUNK = 1 << 16
USER_AGENT = "release-channels-client/1"


class FetchError(ChannelError):
    """A channel file could not be fetched (missing, refused, too large, network)."""


class Fetcher(Protocol):
    """Yields the bytes of the store file ``path`` in chunks. Raises :class:`FetchError`."""

    def chunks(self, path: str) -> Iterator[bytes]: ...


def _check_rel(path: str) -> str:
    try:
        return relpath(path, "path")
    except DocumentError as exc:
        raise FetchError(
            exc.message, hint="channel documents may only name files inside the channel store"
        ) from exc


class DirectoryFetcher:
    """Files of a channel store in a local directory."""

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
            raise FetchError(f"{path} is not in the channel store {self.root}") from None
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
    """Accept ``https://`` anywhere and ``http://`` only on loopback. Raises UsageError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname)):
        return parts
    raise UsageError(
        f"refusing channel source {url!r}",
        hint="use https://, http:// on 127.0.0.1 only, or a directory",
    )


def _opener() -> Any:
    # urllib.request (http.client, ssl, email) loads only when a URL is fetched.
    import urllib.request

    class SafeRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
        ) -> Any:
            try:
                check_url(newurl)
            except UsageError as exc:
                raise FetchError(f"refusing redirect to {newurl!r}") from exc
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return urllib.request.build_opener(SafeRedirects())


class HttpFetcher:
    """Files under a base URL, fetched with urllib (no credentials, no cookies)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        check_url(base_url)
        self.base = base_url if base_url.endswith("/") else base_url + "/"
        self.description = self.base
        self.timeout = timeout
        self._opener: Any = None

    def chunks(self, path: str) -> Iterator[bytes]:
        import urllib.error
        import urllib.request

        if self._opener is None:
            self._opener = _opener()
        url = self.base + urllib.parse.quote(_check_rel(path))
        # The scheme was checked by check_url (https, or http on loopback only).
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                while chunk := resp.read(CHUNK):
                    yield chunk
        except urllib.error.HTTPError as exc:
            raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"cannot fetch {url}: {reason}") from None


def fetcher_for(source: str) -> DirectoryFetcher | HttpFetcher:
    """A fetcher for a directory path or an http(s) URL. Raises UsageError."""
    if "://" in source:
        return HttpFetcher(source)
    root = Path(source)
    if not root.is_dir():
        raise UsageError(f"channel source {source} is not a directory or URL")
    return DirectoryFetcher(root)


def read_capped(fetcher: Fetcher, path: str, max_size: int, what: str) -> bytes:
    """All bytes of ``path``, refusing more than ``max_size``. Raises FetchError."""
    parts: list[bytes] = []
    total = 0
    for chunk in fetcher.chunks(path):
        total += len(chunk)
        if total > max_size:
            raise FetchError(
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
            raise FetchError(f"{what} {path} is larger than its recorded {max_size} bytes")
        hasher.update(chunk)
        dest.write(chunk)
    return total
