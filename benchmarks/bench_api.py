"""``release.channel.api.check`` repeated against an unchanged HTTP store, in-process.

A TUF channel store (edge + stable, the test suite's ``TufWorld``) is served on
127.0.0.1 by a threaded HTTP server that answers ``If-None-Match`` with ``304``. The
first ``check`` runs the whole TUF workflow; then N repeated calls (what a program
that checks on every start costs) are timed, and the requests they sent are counted.

Targets: every repeated call sends exactly one request, answered ``304``; median
<= 50 ms in-process. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from release.channel import api
from tests.channel.test_api import serve
from tests.helpers.tufstore import TufWorld


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks api")
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        world = TufWorld(Path(tmp))
        with serve(world.root) as (url, log):
            common = {"source": url, "root": world.root_file, "state_dir": world.state_dir}
            t0 = time.perf_counter()
            first = api.check("2.14.0", **common)  # type: ignore[arg-type]
            cold = time.perf_counter() - t0
            requests_cold = len(log)
            times = []
            log.clear()
            for _ in range(args.runs):
                t0 = time.perf_counter()
                r = api.check("2.14.0", **common)  # type: ignore[arg-type]
                times.append(time.perf_counter() - t0)
                assert r.cached, r
                assert r.status == first.status
            statuses = [code for _, code in log]
    median = statistics.median(times)
    one_each = statuses == [304] * args.runs
    print(f"first check (full TUF workflow): {cold * 1000:.1f} ms, {requests_cold} requests")
    print(
        f"repeated check, {args.runs} runs: median {median * 1000:.1f} ms, "
        f"p90 {sorted(times)[int(0.9 * len(times))] * 1000:.1f} ms, "
        f"best {min(times) * 1000:.1f} ms (target <= 50 ms)"
    )
    print(
        f"requests per repeated check: {len(statuses) / args.runs:g}, all 304: {one_each} "
        "(target: exactly one 304)"
    )
    return 0 if one_each and median <= 0.050 else 1


if __name__ == "__main__":
    raise SystemExit(main())
