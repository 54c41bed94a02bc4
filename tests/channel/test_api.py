"""``release.channel.api``: the public contract for version checks inside other programs."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import inspect
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from release.channel import api
from release.errors import ReleaseError, UndecidedError, UsageError
from tests.helpers.tufstore import TufWorld


@pytest.fixture
def world(tmp_path: Path) -> TufWorld:
    return TufWorld(tmp_path)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with a strong ETag; counts requests; ``mode`` breaks the server."""

    log: list[tuple[str, int]]
    mode: dict[str, Any]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self) -> Any:
        behaviour = self.mode.get("mode")
        if behaviour == "500":
            self.log.append((self.path, 500))
            self.send_error(500, "broken")
            return None
        if behaviour == "slow":
            time.sleep(float(self.mode.get("delay", 10)))
        path = Path(self.translate_path(self.path))
        try:
            body = path.read_bytes()
        except OSError:
            body = None
        if body is not None:
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.log.append((self.path, 304))  # before the client can see the answer
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return None
            self._etag = etag
        else:
            self._etag = None
        result = super().send_head()
        self.log.append((self.path, 200 if result is not None else 404))
        return result

    def end_headers(self) -> None:
        etag = getattr(self, "_etag", None)
        if etag:
            self.send_header("ETag", etag)
            self._etag = None
        super().end_headers()


@contextmanager
def serve(root: Path, mode: dict[str, Any] | None = None) -> Iterator[tuple[str, list[Any]]]:
    log: list[tuple[str, int]] = []
    handler = type("H", (_Handler,), {"log": log, "mode": mode if mode is not None else {}})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", log
    finally:
        server.shutdown()
        server.server_close()


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in d.rglob("*") if p.is_file()}


# --- the contract -------------------------------------------------------------------------


def test_public_names_and_signatures_are_the_contract() -> None:
    assert set(api.__all__) == {
        "STATUSES",
        "CheckResult",
        "LatestResult",
        "Status",
        "check",
        "download",
        "latest",
    }
    check = inspect.signature(api.check)
    assert list(check.parameters) == [
        "current_version",
        "source",
        "root",
        "root_sha256",
        "channel",
        "state_dir",
        "timeout",
        "max_age",
        "now",
    ]
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY
        for n, p in check.parameters.items()
        if n != "current_version"
    )
    assert check.parameters["timeout"].default == 5.0
    assert list(inspect.signature(api.latest).parameters)[:5] == [
        "source",
        "root",
        "root_sha256",
        "channel",
        "line",
    ]
    assert list(inspect.signature(api.download).parameters)[:3] == ["version", "source", "to"]
    assert [f.name for f in dataclasses.fields(api.CheckResult)] == [
        "status",
        "message",
        "current",
        "channel",
        "line",
        "latest_in_line",
        "latest",
        "verified",
        "cached",
    ]
    assert [f.name for f in dataclasses.fields(api.LatestResult)] == [
        "channel",
        "line",
        "version",
        "tag",
        "verified",
        "cached",
    ]
    assert api.STATUSES == (
        "up-to-date",
        "patch-available",
        "newer-line",
        "eol",
        "withdrawn",
        "unknown",
    )


def test_importing_the_api_loads_no_cli_rich_tuf_or_sigstore() -> None:
    code = (
        "import sys, release.channel.api; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('rich', 'sigstore', 'tuf', "
        "'securesystemslib', 'github') or m.startswith('release.cli')]; "
        "print(','.join(sorted(bad)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- answers ---------------------------------------------------------------------------------


def test_check_answers_every_status_verified(world: TufWorld) -> None:
    common: dict[str, Any] = {
        "source": str(world.root),
        "root": world.root_file,
        "state_dir": world.state_dir,
    }
    r = api.check("2.14.0", **common)
    assert (r.status, r.latest_in_line, r.latest, r.line, r.channel) == (
        "patch-available",
        "2.14.1",
        "2.15.1",
        "2.14",
        "stable",
    )
    assert (r.verified, r.cached, r.update_available) == (True, False, True)
    assert r.message == "2.14.1 is available in your line 2.14"
    assert api.check("stable-2.15.1", **common).status == "up-to-date"
    assert api.check("2.14.1", **common).status == "newer-line"
    assert api.check("2.13.0", **common).status == "eol"
    assert api.check("26.11.1", channel="edge", **common).status == "up-to-date"
    assert api.check("edge-26.11.1", **common).channel == "edge"
    assert not api.check("2.15.1", **common).update_available
    latest = api.latest(**common)
    assert (latest.channel, latest.version, latest.tag, latest.verified) == (
        "stable",
        "2.15.1",
        "stable-2.15.1",
        True,
    )
    assert api.latest(line="2.14", **common).version == "2.14.1"
    # root as bytes, as a program would embed it
    r2 = api.check(
        "2.14.0",
        source=str(world.root),
        root=world.root_file.read_bytes(),
        state_dir=world.fresh_state(),
    )
    assert r2.status == "patch-available"


def test_download_verifies_and_writes_only_on_success(world: TufWorld, tmp_path: Path) -> None:
    files = api.download(
        "stable-2.14.1",
        source=str(world.root),
        root=world.root_file,
        to=tmp_path / "dl",
        os_name="darwin",
        state_dir=world.state_dir,
    )
    assert [f.name for f in files] == [
        "demo-stable-2.14.1-darwin-arm64.tar.gz",
        "demo-stable-2.14.1-darwin-arm64.tar.gz.sigstore.json",
    ]
    tampered = world.root / "releases" / "stable-2.15.1" / "demo-stable-2.15.1-linux-amd64.tar.gz"
    tampered.write_bytes(tampered.read_bytes()[:-1] + b"!")
    with pytest.raises(ReleaseError):
        api.download(
            "2.15.1",
            source=str(world.root),
            root=world.root_file,
            to=tmp_path / "dl2",
            os_name="linux",
            state_dir=world.state_dir,
        )
    assert not (tmp_path / "dl2").exists()


# --- one 304 for a program that checks on every start ----------------------------------------


def test_repeated_check_costs_one_conditional_request(world: TufWorld) -> None:
    with serve(world.root) as (url, log):
        common: dict[str, Any] = {
            "source": url,
            "root": world.root_file,
            "state_dir": world.state_dir,
        }
        first = api.check("2.14.0", **common)
        assert (first.status, first.cached) == ("patch-available", False)
        log.clear()
        t0 = time.perf_counter()
        again = api.check("2.14.0", **common)
        elapsed = time.perf_counter() - t0
        assert (again.status, again.cached, again.verified) == ("patch-available", True, True)
        assert again.message == first.message
        assert log == [("/metadata/timestamp.json", 304)]
        assert elapsed < 2.0  # the timing goal (<= 50 ms) is in benchmarks/bench_api.py
        # A new publication (new timestamp): the full TUF workflow runs again.
        world.repo.publish()
        log.clear()
        fresh = api.check("2.14.0", **common)
        assert (fresh.status, fresh.cached) == ("patch-available", False)
        assert ("/metadata/timestamp.json", 200) in log
        assert len(log) > 1


def test_the_cached_path_imports_neither_tuf_nor_sigstore(world: TufWorld) -> None:
    with serve(world.root) as (url, _):
        api.check("2.14.0", source=url, root=world.root_file, state_dir=world.state_dir)
        code = (
            "import sys; from pathlib import Path; from release.channel import api; "
            f"r = api.check('2.14.0', source={url!r}, root=Path({str(world.root_file)!r}), "
            f"state_dir=Path({str(world.state_dir)!r})); "
            "print(r.status, r.cached, sorted(m for m in ('tuf', 'sigstore') if m in sys.modules))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == "patch-available True []", out.stderr


# --- bad input: one clear line, nothing changed ---------------------------------------------


def test_unreachable_or_broken_stores_are_unknown_and_change_nothing(
    world: TufWorld, tmp_path: Path
) -> None:
    common: dict[str, Any] = {"root": world.root_file, "state_dir": world.state_dir}
    mode: dict[str, Any] = {}
    with serve(world.root, mode) as (url, _):
        assert api.check("2.14.0", source=url, **common).status == "patch-available"
        world.repo.publish()  # a newer timestamp: the next call must go to the network
        before = _files(world.state_dir)
        mode["mode"] = "500"
        r = api.check("2.14.0", source=url, **common)
        assert (r.status, r.verified) == ("unknown", False)
        assert "HTTP 500" in r.message
        assert "\n" not in r.message
        mode.update(mode="slow", delay=5)
        t0 = time.perf_counter()
        r = api.check("2.14.0", source=url, timeout=1.0, **common)
        assert time.perf_counter() - t0 < 2.5
        assert r.status == "unknown"
        assert "within 1 s" in r.message
        mode["mode"] = "500"
        for worker in threading.enumerate():  # the abandoned call ends within its deadline
            if worker.name.startswith("release-channel-"):
                worker.join(10)
        with pytest.raises(UndecidedError):
            api.latest(source=url, **common)
        assert _files(world.state_dir) == before
    empty = tmp_path / "serves-only-404s"
    empty.mkdir()
    with serve(empty) as (url, _):
        r = api.check("2.14.0", source=url, **common)
        assert r.status == "unknown"
        assert "404" in r.message
        assert "\n" not in r.message


def test_bad_arguments_raise_usage_errors(world: TufWorld, tmp_path: Path) -> None:
    common: dict[str, Any] = {"root": world.root_file, "state_dir": world.state_dir}
    with pytest.raises(UsageError, match="is not a directory or URL"):
        api.check("2.14.0", source=str(tmp_path / "missing"), **common)
    with pytest.raises(UsageError) as info:
        api.check("2.14.0", source="https://bob:hunter2@example.org/channel", **common)
    assert "hunter2" not in str(info.value) + str(info.value.hint)
    with pytest.raises(UsageError, match=r"2\.14\.9 is not a release of channel stable"):
        api.check("2.14.9", source=str(world.root), **common)
    with pytest.raises(UsageError, match="is a tag of channel edge") as info:
        api.check("edge-26.11.1", channel="stable", source=str(world.root), **common)
    assert info.value.hint == "did you mean --channel edge?"
    with pytest.raises(UsageError, match="timeout must be positive"):
        api.check("2.14.0", source=str(world.root), timeout=0, **common)
    assert not (tmp_path / "missing").exists()
