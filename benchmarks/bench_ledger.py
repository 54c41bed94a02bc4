"""Backport ledger: one ``git log -p | git patch-id --stable`` pipeline per range vs one
``git show | git patch-id`` pair per commit (the naive approach).

Builds (``git fast-import``) a main history of ``--commits`` commits and a line cut in
the middle carrying ``--backports`` cherry-picks of later main commits WITHOUT ``-x``
trailers (so matching needs patch-ids), then times ``release stable ledger LINE`` in
process, and the naive per-commit patch-id loop over the same commits.
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
    p.add_argument("--commits", type=int, default=4000)
    p.add_argument("--backports", type=int, default=300)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    from release.adapters.git import Git
    from release.ledger import line_ledger

    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        repo = Path(tmp) / "repo"
        t = time.perf_counter()
        build(repo, args.commits, args.backports)
        built = time.perf_counter() - t
        git = Git(repo)
        ours = []
        for _ in range(args.runs):
            t = time.perf_counter()
            ledger = line_ledger(git, "2.1", "2.1.x", "main")
            ours.append(time.perf_counter() - t)
        matched = sum(1 for e in ledger.entries if e.origin and e.origin.how == "patch-id")
        t = time.perf_counter()
        n = naive(repo)
        base = time.perf_counter() - t
    result = {
        "commits": args.commits,
        "backports": len(ledger.entries),
        "matched_by_patch_id": matched,
        "build_s": round(built, 3),
        "ledger_s": round(statistics.median(ours), 3),
        "naive_s": round(base, 3),
        "naive_commits": n,
        "ratio": round(base / statistics.median(ours), 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"ledger of {result['backports']} backports over {args.commits} main commits: "
            f"{result['ledger_s']} s (median of {args.runs}); naive per-commit patch-id over "
            f"{n} commits: {result['naive_s']} s; {result['ratio']}x"
        )
    ok = matched == len(ledger.entries) and result["ratio"] >= 5
    if not ok:
        print("target missed: every backport matched by patch-id, at least 5x", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
