"""Hashing throughput of the pipeline against ``openssl dgst -sha256``, same files, one run.

Targets (issue 4): one stream >= 90 % of openssl's; several artifacts on 2 cores
>= 1.7x a single stream. Files are written once and read from the page cache.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from release.checksums import hash_file, hash_files


def _best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks hash")
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-hash-") as tmp:
        paths = []
        block = os.urandom(1 << 20)
        for i in range(args.files):
            p = Path(tmp) / f"artifact-{i}.bin"
            with p.open("wb") as fh:
                for _ in range(args.size_mib):
                    fh.write(block)
            paths.append(p)
        size = args.size_mib * (1 << 20)
        for p in paths:  # warm the page cache
            hash_file(p)
        ours = _best(lambda: hash_file(paths[0]), args.repeat)
        openssl = _best(
            lambda: subprocess.run(
                ["openssl", "dgst", "-sha256", str(paths[0])], check=True, capture_output=True
            ),
            args.repeat,
        )
        multi = _best(lambda: hash_files(paths), args.repeat)
        gbs = lambda secs, n=1: n * size / secs / 1e9  # noqa: E731
        single_rate, multi_rate = gbs(ours), gbs(multi, args.files)
        print(
            f"file size {args.size_mib} MiB, {args.files} files, best of {args.repeat}, "
            f"{os.cpu_count()} cores"
        )
        print(f"openssl dgst -sha256 (1 stream): {gbs(openssl):.2f} GB/s")
        print(
            f"pipeline hash_file   (1 stream): {single_rate:.2f} GB/s  "
            f"ratio {single_rate / gbs(openssl):.2f} of openssl (target >= 0.90)"
        )
        print(
            f"pipeline hash_files  ({args.files} files):  {multi_rate:.2f} GB/s  "
            f"ratio {multi_rate / single_rate:.2f}x one stream (target >= 1.70 on 2 cores)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
