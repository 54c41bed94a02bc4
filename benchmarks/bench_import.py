"""``release channel import`` on a synthetic history of Linkerd's size (tags only).

Builds, with ``git fast-import`` (``benchmarks/synth.py``), a history shaped like
linkerd2's: 371 edge releases and 56 stable releases in 15 lines (``stable-2.11.*`` …
``stable-2.25.*``), backport branches, PR merges and junk tags; or takes ``--repo DIR``.
Then times, as separate processes (wall clock, median of ``--runs``):

* ``release channel import --sign dev`` into an empty store (every release with its
  grouped notes and source commit, dev-signed TUF metadata, the views);
* ``release channel import --merge`` again (nothing to add: the idempotent re-run);
* ``release channel verify`` of the result with the TUF client.

It checks that the imported store lists every release and each line's latest is the
highest tag of that line. Exit status 0 when the import takes at most ``TARGET_S``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.synth import build

TARGET_S = 10.0
# Linkerd's shape: 371 edges, 15 stable lines with 56 releases (11 lines of 4, 4 of 3).
LINKERD_SHAPE = {
    "main_commits": 7030,
    "every": 18,
    "line_every": 432,
    "points": [3] * 11 + [2] * 4,
}


def build_linkerd_sized(path: Path) -> None:
    build(path, **LINKERD_SHAPE)  # type: ignore[arg-type]


def expected_latest(repo: Path) -> dict[tuple[str, str], str]:
    """(channel, line) -> the line's highest version, from the tag names alone."""
    tags = subprocess.run(
        ["git", "tag"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    best: dict[tuple[str, str], tuple[int, ...]] = {}
    for tag in tags:
        m = re.fullmatch(r"(edge|stable)-(\d+)\.(\d+)\.(\d+)", tag)
        if m is None or (m[1] == "edge" and int(m[2]) < 20):
            continue  # junk such as edge-1.2.3
        key = (m[1], f"{m[2]}.{m[3]}")
        nums = (int(m[2]), int(m[3]), int(m[4]))
        best[key] = max(best.get(key, nums), nums)
    return {k: ".".join(map(str, v)) for k, v in best.items()}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, NO_COLOR="1")
    env.pop("CI", None)  # --sign dev on purpose
    return env


def _run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_env(), check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    return took, proc.stdout


def check_store(store: Path, expected: dict[tuple[str, str], str]) -> int:
    """Every line's latest in the imported store (read through the TUF client) is the
    expected one; returns the number of releases listed."""
    from release.channel.tuf.client import open_client

    client = open_client(str(store), root=store / "metadata" / "1.root.json")
    count = 0
    seen = set()
    for name in client.channels():
        for entry in client.channel(name).lines:
            want = expected.get((name, entry.line))
            if entry.latest != want:
                raise SystemExit(f"error: {name} {entry.line}: latest {entry.latest}, want {want}")
            count += len(client.line(name, entry.line).releases)
            seen.add((name, entry.line))
    if seen != set(expected):
        raise SystemExit(f"error: lines missing from the store: {sorted(set(expected) - seen)}")
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks import", description=__doc__)
    ap.add_argument("--repo", type=Path, help="an existing repository (default: synthesize)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        repo = args.repo
        synth_s = 0.0
        if repo is None:
            repo = work / "repo"
            start = time.perf_counter()
            build_linkerd_sized(repo)
            synth_s = time.perf_counter() - start
        release = [sys.executable, "-m", "release"]
        fresh, merge, verify = [], [], []
        for i in range(args.runs):
            store = work / f"store{i}"
            t, _ = _run(
                [*release, "channel", "import", "--store", str(store), "--sign", "dev"], repo
            )
            fresh.append(t)
            t, _ = _run(
                [*release, "channel", "import", "--store", str(store), "--sign", "dev", "--merge"],
                repo,
            )
            merge.append(t)
            root = str(store / "metadata" / "1.root.json")
            t, _ = _run(
                [*release, "channel", "verify", "--source", str(store), "--root", root], repo
            )
            verify.append(t)
        expected = expected_latest(repo)
        releases = check_store(work / "store0", expected)
        result = {
            "releases": releases,
            "lines": len(expected),
            "synthesize_s": round(synth_s, 3),
            "import_s": round(statistics.median(fresh), 3),
            "merge_rerun_s": round(statistics.median(merge), 3),
            "verify_s": round(statistics.median(verify), 3),
            "target_s": TARGET_S,
        }
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(
                f"{releases} releases in {len(expected)} lines (each line's latest checked)\n"
                f"import (empty store, dev-signed): {result['import_s']:.3f} s "
                f"(target <= {TARGET_S:.0f} s)\n"
                f"import --merge (nothing to add): {result['merge_rerun_s']:.3f} s\n"
                f"channel verify:                  {result['verify_s']:.3f} s"
            )
        return 0 if result["import_s"] <= TARGET_S else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
