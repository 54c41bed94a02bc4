"""The channel's ``install.sh`` against ``curl`` of the same 20 MiB artifact, on loopback.

A store with one release whose linux/amd64 artifact is a 20 MiB binary is served by a
threaded HTTP server on 127.0.0.1. Alternating, N rounds (median and best reported):

* ``curl -fsS -o FILE URL`` of the artifact (the baseline: the download alone);
* ``dash install.sh`` (no sigstore/cosign on PATH): download, size + sha256 against the
  embedded value, ``SHA256SUMS`` cross-check, bundle fetch, install into a temp dir.

Target: the script's overhead over curl stays under 0.5 s (hashing 20 MiB and three
small extra requests); exits 1 when it does not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from release.channel.model import Release, Source
from release.channel.store import ChannelStore
from tests.helpers.channelkit import STABLE, STABLE_ID, KeyRoot, serve_directory


def _store(root: Path, size_mib: int) -> str:
    keys = KeyRoot()
    signer = keys.signer(STABLE_ID)
    store = ChannelStore(root, durable=False)
    tag = "stable-2.15.0"
    d = root / "releases" / tag
    d.mkdir(parents=True)
    name = f"bench-{tag}-linux-amd64"
    art = d / name
    with art.open("wb") as fh:
        block = os.urandom(1 << 20)
        for _ in range(size_mib):
            fh.write(block)
    signer.sign(art)
    described = store.describe_artifact(tag, name, kind="binary", os="linux", arch="amd64")
    (d / "SHA256SUMS").write_text(f"{described.sha256}  {name}\n")
    now = datetime.now(UTC).replace(microsecond=0)
    release = Release(
        version="2.15.0",
        tag=tag,
        published_at=now,
        source=Source("https://github.com/bench/bench", "e" * 40, f"refs/tags/{tag}"),
        signer=STABLE_ID,
        artifacts=(described,),
        checksums=store.file_ref(f"releases/{tag}/SHA256SUMS"),
    )
    store.publish(STABLE, release, project="bench", now=now, signer=signer)
    return described.path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks install")
    ap.add_argument("--size-mib", type=int, default=20)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--shell", default="dash" if shutil.which("dash") else "sh")
    args = ap.parse_args(argv)
    for tool in ("curl", args.shell):
        if shutil.which(tool) is None:
            print(f"error: {tool} is not installed")
            return 2
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        root = Path(tmp) / "store"
        artifact = _store(root, args.size_mib)
        with serve_directory(root) as url:
            base = url.rstrip("/")
            ChannelStore(root, durable=False).render_views(
                datetime.now(UTC).replace(microsecond=0), base_url=base
            )
            script = root / "channels" / "stable" / "install.sh"
            env = {
                "PATH": "/usr/bin:/bin",
                "HOME": tmp,
                "OS": "linux",
                "ARCH": "amd64",
                "BIN_NAME": "bench",
            }
            curl_times, script_times = [], []
            for i in range(args.runs):
                dest = Path(tmp) / f"curl-{i}"
                t0 = time.perf_counter()
                subprocess.run(
                    ["curl", "-fsS", "-o", str(dest), f"{base}/{artifact}"], check=True, env=env
                )
                curl_times.append(time.perf_counter() - t0)
                dest.unlink()
                target = Path(tmp) / f"bin-{i}"
                t0 = time.perf_counter()
                subprocess.run(
                    [args.shell, str(script)],
                    check=True,
                    env={**env, "INSTALL_DIR": str(target)},
                    capture_output=True,
                )
                script_times.append(time.perf_counter() - t0)
                assert (target / "bench").stat().st_size == args.size_mib << 20
                shutil.rmtree(target)
    curl_med, script_med = statistics.median(curl_times), statistics.median(script_times)
    overhead = script_med - curl_med
    print(f"{args.size_mib} MiB artifact from loopback, {args.runs} runs, {os.cpu_count()} cores")
    print(f"curl -o (download only):   median {curl_med:.3f} s  best {min(curl_times):.3f} s")
    print(
        f"{args.shell} install.sh (verify+install): median {script_med:.3f} s  "
        f"best {min(script_times):.3f} s"
    )
    print(
        f"overhead {overhead:.3f} s, ratio {script_med / curl_med:.2f}x curl "
        "(target: overhead < 0.5 s)"
    )
    return 0 if overhead < 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
