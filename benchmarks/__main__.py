"""Run benchmarks: ``python -m benchmarks NAME…`` (``all`` runs every ``bench_*.py``)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    available = sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    names = argv or ["all"]
    if names == ["all"]:
        names = available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    status = 0
    for name in names:
        print(f"== {name}")
        module = importlib.import_module(f"benchmarks.bench_{name}")
        status = max(status, int(module.main() or 0))
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
