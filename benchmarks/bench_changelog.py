"""``release changelog`` against git-cliff on a Linkerd-sized history.

Builds a synthetic history with ``git fast-import`` (≥ 9,000 commits, ≥ 450 tags,
stable branches, PR merges, junk tags; a few seconds), or takes ``--repo DIR``,
then times, in the same run and as separate processes (wall clock):

* ``release changelog --all``  vs  ``git-cliff --repository DIR`` (no config): the
  whole history, one section per release. Target: at least 20x faster.
* ``release changelog`` (latest edge..HEAD), one range. Target: ≤ 0.3 s.
  ``git-cliff --unreleased`` is shown for reference.

Exit status 0 when both targets are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.synth import build

FULL_RATIO_TARGET = 20.0
ONE_RANGE_TARGET_S = 0.3


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, NO_COLOR="1")
    return env


def _time(cmd: list[str], runs: int) -> tuple[float, int]:
    """Median wall time of ``runs`` runs, and the output size of the last run."""
    times = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=_env(), check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(
                f"error: {' '.join(cmd)} failed ({proc.returncode}): "
                + proc.stderr.decode(errors="replace").strip()[-500:]
            )
        size = len(proc.stdout)
    return statistics.median(times), size


def _git_cliff() -> str:
    found = shutil.which("git-cliff") or shutil.which(
        "git-cliff", path=str(Path(sys.executable).parent)
    )
    if not found:
        raise SystemExit(
            "error: git-cliff is not installed\nhint: pip install -e '.[bench]' (PyPI git-cliff)"
        )
    return found


def _count(repo: Path, *args: str) -> int:
    out = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env=_env(), check=True
    ).stdout
    return int(out.strip()) if args[0] == "rev-list" else len(out.splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks changelog", description=__doc__)
    parser.add_argument("--repo", type=Path, help="existing repository (default: synthesize one)")
    parser.add_argument("--commits", type=int, default=9000, help="main commits to synthesize")
    parser.add_argument("--runs", type=int, default=5, help="runs of each release command")
    parser.add_argument("--baseline-runs", type=int, default=1, help="runs of git-cliff")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    cliff = _git_cliff()

    with tempfile.TemporaryDirectory(prefix="bench-changelog-") as tmp:
        repo = args.repo
        if repo is None:
            repo = Path(tmp) / "repo"
            start = time.perf_counter()
            build(repo, main_commits=args.commits)
            print(f"synthesized {repo} in {time.perf_counter() - start:.1f} s", flush=True)
        commits = _count(repo, "rev-list", "--all", "--count")
        tags = _count(repo, "tag")
        print(f"history: {commits} commits, {tags} tags", flush=True)
        if commits < 9000 or tags < 450:
            print("warning: smaller than the reference size (9,000 commits, 450 tags)")

        release = [sys.executable, "-m", "release", "--repo", str(repo), "changelog"]
        ours_all, ours_all_size = _time([*release, "--all"], args.runs)
        ours_one, _ = _time(release, args.runs)
        cliff_all, cliff_all_size = _time([cliff, "--repository", str(repo)], args.baseline_runs)
        cliff_one, _ = _time([cliff, "--repository", str(repo), "--unreleased"], args.baseline_runs)

    ratio = cliff_all / ours_all
    full_ok = ratio >= FULL_RATIO_TARGET
    one_ok = ours_one <= ONE_RANGE_TARGET_S
    results = {
        "commits": commits,
        "tags": tags,
        "release_all_s": round(ours_all, 3),
        "git_cliff_all_s": round(cliff_all, 3),
        "ratio_all": round(ratio, 1),
        "release_one_range_s": round(ours_one, 3),
        "git_cliff_unreleased_s": round(cliff_one, 3),
        "release_all_bytes": ours_all_size,
        "git_cliff_all_bytes": cliff_all_size,
        "full_target_met": full_ok,
        "one_range_target_met": one_ok,
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"release changelog --all    {ours_all:8.3f} s  (median of {args.runs})")
        print(f"git-cliff (whole history)  {cliff_all:8.3f} s  (median of {args.baseline_runs})")
        print(
            f"ratio                      {ratio:8.1f} x  "
            f"target >= {FULL_RATIO_TARGET:.0f}x: {'PASS' if full_ok else 'FAIL'}"
        )
        print(
            f"release changelog (1 range){ours_one:8.3f} s  "
            f"target <= {ONE_RANGE_TARGET_S} s: {'PASS' if one_ok else 'FAIL'}"
        )
        print(f"git-cliff --unreleased     {cliff_one:8.3f} s  (reference)")
    return 0 if full_ok and one_ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
