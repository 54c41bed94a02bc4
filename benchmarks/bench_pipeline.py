"""The pipeline's own overhead for a 20-artifact edge release (issue 4).

Builds a temp project whose build writes 20 artifacts of 1 MiB, runs
``release edge --sign dev`` in a subprocess, and splits the wall time using the
per-step timings the journal records: overhead = wall - build - sign - publish's
document signing is reported as everything but the build command and signing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUILD = (
    "import os,pathlib,sys; out=pathlib.Path(sys.argv[1]); n=int(sys.argv[2]); "
    "blob=os.urandom(1<<20); "
    "[(out/f'tool-{sys.argv[3]}-{i:02d}.bin').write_bytes(blob+bytes([i])) for i in range(n)]"
)


def _project(tmp: Path, n: int) -> Path:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
    }
    repo = tmp / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    arts = ", ".join(f'"tool-{{version}}-{i:02d}.bin"' for i in range(n))
    (repo / "pyproject.toml").write_text(
        '[tool.release]\nproject = "bench"\n\n[[tool.release.build]]\nname = "bench"\n'
        f'command = ["{{python}}", "-c", {BUILD!r}, "{{out}}", "{n}", "{{version}}"]\n'
        f"artifacts = [{arts}]\n"
    )
    (repo / ".gitignore").write_text("dist/\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "feat: bench"], cwd=repo, check=True, env=env)
    return repo


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks pipeline")
    ap.add_argument("--artifacts", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
            repo = _project(Path(tmp), args.artifacts)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "release",
                    "--repo",
                    str(repo),
                    "edge",
                    "--sign",
                    "dev",
                    "--json",
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            secs = json.loads(proc.stdout)["seconds"]
            rows.append((wall, secs))
    wall, secs = min(rows, key=lambda r: r[0])
    build, sign, publish = secs["build"], secs["sign"], secs["publish"]
    print(f"{args.artifacts} artifacts x 1 MiB, dev signing, best of {args.rounds}")
    print(f"  process wall      {wall:.3f} s")
    for step, s in secs.items():
        print(f"  step {step:<12} {s:.3f} s")
    overhead = wall - build - sign
    print(
        f"  overhead (wall - build command - artifact signing) {overhead:.3f} s, "
        f"of which publish (incl. signing 3 channel documents) {publish:.3f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
