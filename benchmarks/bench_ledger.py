"""Backport ledger: one ``git log -p | git patch-id --stable`` pipeline per range vs one
``git show | git patch-id`` pair per commit (the naive approach), the commit cache, and
the share of backports found on a history with every failure mode.

Builds (``git fast-import``) a main history of ``--commits`` commits and a line cut in
the middle carrying ``--backports`` cherry-picks of later main commits WITHOUT ``-x``
trailers (so matching needs patch-ids), then times ``release stable ledger LINE`` in
process without the cache, with a cold cache (first run) and a warm one (every later
run), and the naive per-commit patch-id loop over the same commits. Then builds
:mod:`benchmarks.synth_backports` (``--synth-commits`` main commits, ten interleaved
lines, ``--synth-backports`` backports made every way real projects make them, and
line-only decoys) and reports the backports found and the false matches.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


def build(path: Path, commits: int, backports: int) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    out: list[str] = []
    t0 = 1_700_000_000
    cut = commits // 2
    changes: dict[int, tuple[str, str, str]] = {}
    for i in range(1, commits + 1):
        subject = f"fix: change {i} (#{10_000 + i})"
        name, content = f"src/{i % 50}/c{i}.txt", f"line {i}\n" * (1 + i % 5)
        changes[i] = (subject, name, content)
        out.append(f"commit refs/heads/main\nmark :{i}\n")
        who = f"Dev <d@example.com> {t0 + i * 600} +0000"
        out.append(f"author {who}\ncommitter {who}\n{_data(subject)}")
        if i > 1:
            out.append(f"from :{i - 1}\n")
        out.append(f"M 644 inline {name}\n{_data(content)}\n")
    # the line: backports of every k-th main commit after the cut, no trailers
    step = max(1, (commits - cut) // max(1, backports))
    parent = cut
    mark = commits
    for picked, i in enumerate(list(range(cut + 1, commits + 1, step))[:backports], 1):
        subject, name, content = changes[i]
        mark += 1
        who = f"Backporter <b@example.com> {t0 + commits * 600 + picked} +0000"
        out.append(f"commit refs/heads/2.1.x\nmark :{mark}\n")
        out.append(f"author {who}\ncommitter {who}\n{_data(subject)}from :{parent}\n")
        out.append(f"M 644 inline {name}\n{_data(content)}\n")
        parent = mark
    out.append(f"tag stable-2.1.0\nfrom :{cut}\ntagger R <r@e.x> {t0} +0000\n{_data('x')}")
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=path,
        input="".join(out).encode(),
        check=True,
        env=env,
    )
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True, env=env)


def naive(repo: Path) -> int:
    """One patch-id pipeline per commit of both ranges."""
    shas = subprocess.run(
        ["git", "rev-list", "--no-merges", "main...2.1.x"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for sha in shas:
        show = subprocess.run(["git", "show", sha], cwd=repo, capture_output=True, check=True)
        subprocess.run(
            ["git", "patch-id", "--stable"],
            cwd=repo,
            input=show.stdout,
            capture_output=True,
            check=True,
        )
    return len(shas)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks ledger")
    p.add_argument("--commits", type=int, default=3000)
    p.add_argument("--backports", type=int, default=300)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--synth-commits", type=int, default=3000)
    p.add_argument("--synth-backports", type=int, default=464)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    from benchmarks import synth_backports
    from release.adapters.commitcache import CommitCache, cache_path
    from release.adapters.git import Git
    from release.ledger import line_ledger, line_ledgers

    def timed(git: Git, cache: CommitCache) -> float:
        t = time.perf_counter()
        line_ledgers(git, [("2.1", "2.1.x")], "main", cache=cache)
        return time.perf_counter() - t

    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        repo = Path(tmp) / "repo"
        t = time.perf_counter()
        build(repo, args.commits, args.backports)
        built = time.perf_counter() - t
        git = Git(repo)
        uncached = [timed(git, CommitCache(git, enabled=False)) for _ in range(args.runs)]
        cache_path(git).unlink(missing_ok=True)
        cold = timed(git, CommitCache(git))
        warm = [timed(git, CommitCache(git)) for _ in range(args.runs)]
        ledger = line_ledger(git, "2.1", "2.1.x", "main")
        matched = sum(1 for e in ledger.entries if e.origin and e.origin.how == "patch-id")
        t = time.perf_counter()
        n = naive(repo)
        base = time.perf_counter() - t
        synth = Path(tmp) / "synth"
        truth = synth_backports.build(
            synth, main_commits=args.synth_commits, backports=args.synth_backports
        )
        t = time.perf_counter()
        found = synth_backports.score(synth, truth)
        synth_s = time.perf_counter() - t
    result = {
        "commits": args.commits,
        "backports": len(ledger.entries),
        "matched_by_patch_id": matched,
        "build_s": round(built, 3),
        "ledger_s": round(statistics.median(uncached), 3),
        "ledger_cold_cache_s": round(cold, 3),
        "ledger_cached_s": round(statistics.median(warm), 3),
        "naive_s": round(base, 3),
        "naive_commits": n,
        "ratio": round(base / statistics.median(uncached), 1),
        "synth": {**found, "main_commits": args.synth_commits, "ledger_s": round(synth_s, 3)},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"ledger of {result['backports']} backports over {args.commits} main commits: "
            f"{result['ledger_s']} s uncached (median of {args.runs}), "
            f"{result['ledger_cold_cache_s']} s filling the cache, "
            f"{result['ledger_cached_s']} s cached; naive per-commit patch-id over "
            f"{n} commits: {result['naive_s']} s; {result['ratio']}x"
        )
        print(
            f"failure modes: {found['found']}/{found['backports']} backports found "
            f"({found['found_pct']} %), {found['false_matches']} false matches, "
            f"{found['possible_shown']} shown as possible; ten lines over "
            f"{args.synth_commits} main commits in {result['synth']['ledger_s']} s"
        )
    ok = (
        matched == len(ledger.entries)
        and result["ratio"] >= 5
        and result["ledger_cached_s"] <= 0.5
        and float(str(found["found_pct"])) >= 99.5
        and found["false_matches"] == 0
    )
    if not ok:
        print(
            "target missed: every backport matched by patch-id, at least 5x, cached <= 0.5 s, "
            ">= 99.5 % found with zero false matches",
            file=sys.stderr,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
