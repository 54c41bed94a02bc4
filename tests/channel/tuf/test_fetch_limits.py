"""The HTTP fetcher against misbehaving loopback servers: slow, endless, redirecting."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from release.channel.fetch import (
    Deadline,
    DirectoryFetcher,
    FetchError,
    HttpFetcher,
    NotFound,
    ResponseTooLarge,
    check_url,
    read_capped,
)
from release.errors import UsageError
from tests.helpers.tufstore import TufWorld

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def serve(handle: Handler) -> Iterator[str]:
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with suppress(BrokenPipeError, ConnectionResetError):
                handle(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def one_byte_a_second(h: http.server.BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "1000000")
    h.end_headers()
    for _ in range(60):
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.2)


def trickled_headers(h: http.server.BaseHTTPRequestHandler) -> None:
    h.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for i in range(600):
        h.wfile.write(f"X-Slow-{i}: y\r\n".encode())
        h.wfile.flush()
        time.sleep(0.01)


def test_a_slow_server_trips_the_minimum_rate() -> None:
    with serve(one_byte_a_second) as url:
        fetcher = HttpFetcher(url, deadline=Deadline(total=30, min_rate=100, grace=0.5))
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"below the minimum rate of 100 bytes/s") as info:
            read_capped(fetcher, "metadata/timestamp.json", 1 << 20, "timestamp")
        assert time.monotonic() - started < 5
        assert info.value.exit_code == 3
        assert "--min-rate" in (info.value.hint or "")


def test_trickled_headers_hit_the_total_deadline() -> None:
    with serve(trickled_headers) as url:
        fetcher = HttpFetcher(url, deadline=Deadline(total=1.0, min_rate=0, grace=0.5))
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"gave up after 1 s \(total deadline\)"):
            read_capped(fetcher, "x.json", 1 << 20, "file")
        assert time.monotonic() - started < 4


def test_an_endless_response_is_cut_at_the_cap() -> None:
    def endless(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()
        while True:
            h.wfile.write(b"x" * 65536)

    with serve(endless) as url, pytest.raises(ResponseTooLarge, match=r"larger than 100000"):
        read_capped(HttpFetcher(url), "metadata/timestamp.json", 100_000, "timestamp")


def redirect_to(target: str) -> Handler:
    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        if h.path.startswith("/moved/"):
            body = b"hello"
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(302)
        h.send_header("Location", target + h.path.lstrip("/"))
        h.end_headers()

    return handle


def test_redirects_only_within_the_same_host() -> None:
    with serve(redirect_to("/moved/")) as url:  # a control: same host, accepted
        assert read_capped(HttpFetcher(url), "a.json", 100, "file") == b"hello"
    elsewhere = r"refusing redirect to 'http://198\.51\.100\.7/"
    with (
        serve(redirect_to("http://198.51.100.7/")) as url,
        pytest.raises(FetchError, match=elsewhere),
    ):
        read_capped(HttpFetcher(url), "a.json", 100, "file")
    # another port is another host
    with (
        serve(redirect_to("http://localhost:1/")) as url,
        pytest.raises(FetchError, match=r"refusing redirect"),
    ):
        read_capped(HttpFetcher(url), "a.json", 100, "file")


def test_404_is_not_found_and_other_statuses_are_errors() -> None:
    def status(code: int) -> Handler:
        def handle(h: http.server.BaseHTTPRequestHandler) -> None:
            h.send_response(code)
            h.send_header("Content-Length", "0")
            h.end_headers()

        return handle

    with serve(status(404)) as url, pytest.raises(NotFound, match=r"HTTP 404"):
        read_capped(HttpFetcher(url), "missing.json", 100, "file")
    with serve(status(500)) as url, pytest.raises(FetchError, match=r"HTTP 500") as info:
        read_capped(HttpFetcher(url), "x.json", 100, "file")
    assert not isinstance(info.value, NotFound)


def test_urls_and_paths_that_leave_the_store(tmp_path: Path) -> None:
    for bad in ("http://example.com/", "ftp://127.0.0.1/", "file:///tmp/x"):
        with pytest.raises(UsageError, match=r"refusing channel source"):
            check_url(bad)
    with pytest.raises(UsageError, match=r"credentials") as info:
        check_url("https://user:s3cret@example.com/")
    assert "s3cret" not in info.value.message
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "link").symlink_to("/etc")
    fetcher = DirectoryFetcher(tmp_path / "store")
    for bad in ("../x", "/etc/passwd", "https://evil.example/x"):
        with pytest.raises(FetchError, match=r"relative path|must not contain"):
            read_capped(fetcher, bad, 100, "file")
    with pytest.raises(FetchError, match=r"resolves outside the channel store"):
        read_capped(fetcher, "link/hostname", 10_000, "file")


def test_the_tuf_client_over_loopback_http_and_a_slow_store(tmp_path: Path) -> None:
    from tests.helpers.channelkit import serve_directory

    world = TufWorld(tmp_path)
    with serve_directory(world.root) as url:
        from release.channel.tuf.client import open_client

        c = open_client(url, root=world.root_file, state_dir=tmp_path / "s", env={})
        assert c.latest("stable") == "2.15.1"
        files = c.download("stable", "2.15.1", tmp_path / "dl", os_name="darwin")
        assert files[0].name == "demo-stable-2.15.1-darwin-arm64.tar.gz"

    def slow_store(h: http.server.BaseHTTPRequestHandler) -> None:
        rel = h.path.lstrip("/")
        data = (world.root / rel).read_bytes() if (world.root / rel).is_file() else None
        if data is None:
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        for i in range(len(data)):
            h.wfile.write(data[i : i + 1])
            h.wfile.flush()
            time.sleep(0.05)

    from release.channel.tuf.client import open_client

    with serve(slow_store) as url:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"minimum rate|total deadline"):
            open_client(
                url,
                root=world.root_file,
                state_dir=tmp_path / "s2",
                env={},
                deadline=Deadline(total=3, min_rate=200, grace=0.5),
            ).latest("stable")
        assert time.monotonic() - started < 8


def test_deadline_check_is_pure() -> None:
    d = Deadline(total=10, min_rate=100, grace=2)
    d.check("u", 0.0, 0, 1.0)  # within the grace period nothing is required
    d.check("u", 0.0, 500, 4.0)  # 125 bytes/s
    with pytest.raises(FetchError, match=r"below the minimum rate"):
        d.check("u", 0.0, 100, 4.0)
    with pytest.raises(FetchError, match=r"total deadline"):
        d.check("u", 0.0, 10**9, 10.5)
    _: Any = None


def test_a_store_that_answers_403_for_missing_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A readable but unlistable bucket (public S3 GetObject without ListBucket) answers
    403 for a key it does not have, e.g. the next root version every refresh probes."""
    import urllib.parse

    from release.channel.fetch import Forbidden
    from release.channel.tuf.client import open_client
    from release.cli import main

    world = TufWorld(tmp_path)
    asked: list[str] = []

    def bucket(h: http.server.BaseHTTPRequestHandler) -> None:
        rel = urllib.parse.unquote(h.path.lstrip("/"))
        asked.append(rel)
        path = world.root / rel
        if not path.is_file():
            body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            h.send_response(403)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        data = path.read_bytes()
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    with serve(bucket) as url:
        with pytest.raises(Forbidden, match=r"HTTP 403"):
            read_capped(HttpFetcher(url), "metadata/99.root.json", 100, "root")
        c = open_client(url, root=world.root_file, state_dir=tmp_path / "s", env={})
        assert c.latest("stable") == "2.15.1"
        assert any(p.endswith(".root.json") and p not in ("metadata/1.root.json",) for p in asked)
        files = c.download("stable", "2.15.1", tmp_path / "dl", os_name="linux")
        assert files[0].name == "demo-stable-2.15.1-linux-amd64.tar.gz"

        argv = ["channel", "latest", "--source", url, "--root", str(world.root_file)]
        argv += ["--state-dir", str(tmp_path / "cli-state")]
        assert main(argv) == 0
        assert capsys.readouterr().out.strip().endswith("2.15.1")
        asked.clear()
        assert main(argv) == 0  # unchanged store: answered from verified state
        assert capsys.readouterr().out.strip().endswith("2.15.1")
        assert not any("snapshot" in p for p in asked), asked

        # A file the metadata needs is still required: 403 for it is a refusal.
        snapshot = max(
            (world.root / "metadata").glob("*.snapshot.json"),
            key=lambda p: int(p.name.split(".")[0]),
        )
        snapshot.rename(tmp_path / "hidden.json")
        code = main([*argv[:-1], str(tmp_path / "fresh-state")])
        err = capsys.readouterr().err
        assert code != 0
        assert "snapshot" in err
        assert "Traceback" not in err
