"""The verified read path on a TUF channel store of 10,000 stable releases (200 lines).

Builds the store's documents as ``bench_channel`` does, then signs every TUF role
(root, targets, snapshot, timestamp, the ``stable`` role and 200 line roles) with
real Sigstore keys of the local dev instance (one certificate per identity, a Rekor
entry per signature), exactly the key type channels use. Then it times, as fresh
processes:

- ``release channel latest --root R`` from an empty state directory (the full TUF
  workflow: six signatures verified through sigstore, two documents fetched);
  target <= 1.0 s;
- the same command repeated against the unchanged store with the state of a
  previous run (the remembered verified answer: no newer root, the same timestamp
  bytes, nothing expired; tuf and sigstore are not imported); target <= 150 ms;

next to ``python -c pass``. Exit status 1 when a target is missed.

Environment: ``BENCH_CHANNEL_LINES`` (200), ``BENCH_CHANNEL_PER_LINE`` (50),
``BENCH_CHANNEL_ROUNDS`` (7).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.bench_channel import ROOT, build_store

FIRST_TARGET = 1.0
REPEAT_TARGET = 0.150
MAINTAINER = ("maintainer@dev.invalid", "https://dev.invalid")
WORKFLOW = ("stable@dev.invalid", "https://dev.invalid")


def sign_store(store: Path, scratch: Path) -> Path:
    """TUF metadata for ``store`` signed through the dev Sigstore instance; returns root."""
    from release.adapters.devsigstore import DevSigstore, mint_identity_token
    from release.adapters.sigstore import SigningSetup
    from release.channel.tuf import keys
    from release.config import Identity
    from tests.helpers.tufstore import TufRepo

    with DevSigstore(scratch / "devsigstore") as dev:
        trust_config = dev.write_trust_config(scratch / "trust-config.json")
        trust = keys.SigstoreTrust.from_file(trust_config)
        signers = {}
        stack = []
        for who in (MAINTAINER, WORKFLOW):
            ident = Identity(*who)
            setup = SigningSetup(
                mode="trust-config",
                trust_config=trust_config,
                identity_token=mint_identity_token(ident.identity, ident.issuer),
            )
            cm = keys.open_signer(setup, ident)
            signers[who] = cm.__enter__()
            stack.append(cm)
        try:

            def signer_for(role: str) -> keys.SigstoreOidcSigner:
                return signers[MAINTAINER if role in ("root", "targets") else WORKFLOW]

            repo = TufRepo(
                store,
                datetime.now(UTC),
                signer_for=signer_for,
                root_fields=keys.root_fields_for(trust),
            )
            repo.publish()
        finally:
            for cm in reversed(stack):
                cm.__exit__(None, None, None)
    root = scratch / "root.json"
    root.write_bytes(repo.root_bytes(1))
    return root


def _run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or proc.stdout.strip() != "2.199.49":
        raise SystemExit(f"{' '.join(cmd[-6:])} failed:\n{proc.stdout}{proc.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    lines = int(os.environ.get("BENCH_CHANNEL_LINES", "200"))
    per_line = int(os.environ.get("BENCH_CHANNEL_PER_LINE", "50"))
    rounds = int(os.environ.get("BENCH_CHANNEL_ROUNDS", "7"))
    scratch = Path(tempfile.mkdtemp(prefix="bench-channel-client-"))
    try:
        store = scratch / "store"
        t0 = time.perf_counter()
        build_store(store, lines, per_line, datetime.now(UTC) - timedelta(days=400))
        root = sign_store(store, scratch)
        print(
            f"store: {lines * per_line} releases in {lines} lines, "
            f"{len(list((store / 'metadata').iterdir()))} metadata files, "
            f"built and signed in {time.perf_counter() - t0:.1f} s"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "release")], env=env, check=True
        )
        base = [sys.executable, "-m", "release", "channel", "latest", "--source", str(store)]
        pass_times = [_pass(env) for _ in range(rounds)]
        first: list[float] = []
        repeat: list[float] = []
        warm = scratch / "warm-state"
        _run([*base, "--root", str(root), "--state-dir", str(warm)], env)  # page cache
        for i in range(rounds):
            fresh = scratch / f"state-{i}"
            first.append(_run([*base, "--root", str(root), "--state-dir", str(fresh)], env))
            repeat.append(_run([*base, "--root", str(root), "--state-dir", str(warm)], env))
        f, r, p = (statistics.median(x) for x in (first, repeat, pass_times))
        print(f"python -c pass           median {p * 1000:7.1f} ms")
        print(
            f"first verified latest    median {f * 1000:7.1f} ms  (target <= "
            f"{FIRST_TARGET * 1000:.0f} ms)  runs: " + " ".join(f"{x * 1000:.0f}" for x in first)
        )
        print(
            f"repeated verified latest median {r * 1000:7.1f} ms  (target <= "
            f"{REPEAT_TARGET * 1000:.0f} ms)  runs: " + " ".join(f"{x * 1000:.0f}" for x in repeat)
        )
        ok = f <= FIRST_TARGET and r <= REPEAT_TARGET
        print("targets met" if ok else "TARGET MISSED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _pass(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
