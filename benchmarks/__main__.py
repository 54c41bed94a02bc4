"""``python -m benchmarks NAME [ARGS…]`` runs ``benchmarks/bench_NAME.py:main(ARGS)``.

``python -m benchmarks all`` (or no name) runs every benchmark with default arguments;
``python -m benchmarks --list`` names them.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))


def run(name: str, argv: list[str]) -> int:
    if name not in available():
        print(f"error: no benchmark {name!r}", file=sys.stderr)
        print(f"hint: choose one of: {', '.join(available())}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"benchmarks.bench_{name}")
    code: int = module.main(argv)
    return code


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--list":
        print("\n".join(available()))
        return 0
    if not argv or argv[0] == "all":
        worst = 0
        for name in available():
            print(f"== {name}", flush=True)
            worst = max(worst, run(name, []))
        return worst
    return run(argv[0], argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
