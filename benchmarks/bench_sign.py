"""``release sign`` vs the stock ``python -m sigstore sign``: 50 artifacts of 1 MiB.

Both CLIs run as fresh processes against the same local Sigstore instance
(:class:`release.adapters.devsigstore.DevSigstore`, loopback only) and sign the
same files with one certificate. ``release sign`` also verifies every bundle
before writing it; the stock CLI does not. Rounds alternate between the two
(and who goes first); median and best wall times are compared. Exit status 1 if
ours is slower at the median.

Options: ``--files`` (default 50), ``--size-mib`` (1), ``--rounds`` (7).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from release.adapters.devsigstore import DevSigstore, mint_identity_token

IDENTITY = ("edge@dev.invalid", "https://dev.invalid")

# `python -m release` as shipped. Before every command module of the CLI exists on a
# branch, run the same entry point with only the signing commands registered.
if importlib.util.find_spec("release.cli.info") is not None:
    RELEASE = [sys.executable, "-m", "release"]
else:
    RELEASE = [
        sys.executable,
        "-c",
        "import sys, release.cli as c; c.COMMAND_MODULES = ('release.cli.signing',); "
        "sys.argv[0] = 'release'; raise SystemExit(c.main())",
    ]


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks sign")
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--size-mib", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    n_files, mib, rounds = args.files, args.size_mib, args.rounds
    with tempfile.TemporaryDirectory(prefix="bench-sign-") as tmp:
        root = Path(tmp)
        ours_dir, stock_dir = root / "ours", root / "stock"
        ours_dir.mkdir()
        stock_dir.mkdir()
        files: list[str] = []
        for i in range(n_files):
            data = os.urandom(mib << 20)
            (ours_dir / f"artifact-{i:03}.bin").write_bytes(data)
            (stock_dir / f"artifact-{i:03}.bin").write_bytes(data)
            files.append(f"artifact-{i:03}.bin")
        with DevSigstore(root / "state") as dev:
            trust_config = dev.write_trust_config(root / "trust-config.json")
            env = dict(os.environ)
            env["SIGSTORE_IDENTITY_TOKEN"] = mint_identity_token(*IDENTITY)
            ours_cmd = [*RELEASE, "sign", "--trust-config", str(trust_config)]
            ours_cmd += [str(ours_dir / f) for f in files]
            stock_cmd = [sys.executable, "-m", "sigstore", "--trust-config", str(trust_config)]
            stock_cmd += ["sign", "--overwrite", *(str(stock_dir / f) for f in files)]
            ours_times: list[float] = []
            stock_times: list[float] = []
            for i in range(rounds):  # alternate who goes first: the machine is shared
                order = [(ours_cmd, ours_times), (stock_cmd, stock_times)]
                for cmd, times in order if i % 2 else reversed(order):
                    times.append(_timed(cmd, env))
            entries = len(dev.entries)
        missing = [f for f in files if not (ours_dir / f"{f}.sigstore.json").is_file()]
        if missing:
            raise SystemExit(f"release sign wrote no bundle for {missing[:3]}")
    ours, stock = statistics.median(ours_times), statistics.median(stock_times)
    print(f"files: {n_files} x {mib} MiB, rounds: {rounds}, log entries: {entries}")
    print(f"release sign (sign + verify each): median {ours:.3f} s  {_fmt(ours_times)}")
    print(f"python -m sigstore sign:           median {stock:.3f} s  {_fmt(stock_times)}")
    best = min(ours_times) / min(stock_times)
    print(f"ratio ours/stock: median {ours / stock:.2f}, best {best:.2f}")
    print("(<= 1.00 means release sign is as fast or faster)")
    return 0 if ours <= stock else 1


def _fmt(times: list[float]) -> str:
    return "[" + ", ".join(f"{t:.3f}" for t in times) + "]"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
