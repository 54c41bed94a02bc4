"""Channel index at scale: 10,000 stable releases across 200 lines.

Measures (1) the wall time of ``release channel latest`` as a fresh process on the
schema 1 layout (index → channel document → line document, pins checked, state file
read; the verified TUF read path is ``bench_channel_client``), (2) the cost of
publishing release 10,001 versus release 11 on the TUF layout (in-process
``TufStore.publish``: new line and channel documents, the line role, the channel role
delegating 200 line roles, snapshot and timestamp, fsync on, signed with Ed25519 so
the store's work is timed, not a Sigstore log; each new release is a patch on the
newest line), and (3) document and metadata sizes.

Targets: ``latest`` median <= 150 ms; publish(10,001) <= 2x publish(11).
Exit status 1 when a target is missed.

Environment: ``BENCH_CHANNEL_LINES`` (200), ``BENCH_CHANNEL_PER_LINE`` (50),
``BENCH_CHANNEL_ROUNDS`` (9 ``latest`` runs; three times as many publish pairs).

Publishes run in adjacent pairs (release 11+k, then release 10,001+k) so a burst of
load on a shared machine hits both sides of a pair; the reported ratio is the
median of the per-pair ratios.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from release.channel import model
from release.channel.backends.directory import DirectoryBackend
from release.channel.model import Artifact, FileRef, Release, Source
from release.channel.store import ChannelStore, atomic_write
from release.channel.tuf.repo import TufStore
from release.config import ChannelConfig, Identity, SupportPolicy
from release.versions import TagFormat

IDENT = Identity("https://ci.example/stable.yml@refs/heads/main", "https://issuer.example")
STABLE = ChannelConfig(
    "stable",
    "stable",
    TagFormat("stable-{version}"),
    signer=IDENT,
    support=SupportPolicy(maintained_lines=2),
)
PROJECT = "bench"
ROOT = Path(__file__).resolve().parent.parent

if importlib.util.find_spec("release.cli.info") is not None:
    RELEASE = [sys.executable, "-m", "release"]
else:  # before the other command modules are merged: the same entry point, ours only
    RELEASE = [
        sys.executable,
        "-c",
        "import sys, release.cli as c; c.COMMAND_MODULES = ('release.cli.channel',); "
        "sys.argv[0] = 'release'; raise SystemExit(c.main())",
    ]


def _release(version: str, at: datetime, store: ChannelStore | None = None) -> Release:
    tag = f"stable-{version}"
    base = f"releases/{tag}/"
    arts = []
    for os_name, arch in (("linux", "amd64"), ("darwin", "arm64")):
        name = f"bench-{tag}-{os_name}-{arch}.tar.gz"
        content = f"{tag} {os_name} {arch}\n".encode() * 32
        bundle = f'{{"bundle": "{name}"}}'.encode()
        if store is not None:  # only releases published for timing need real files
            for rel, data in ((base + name, content), (base + name + ".sigstore.json", bundle)):
                path = store.path(rel)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        arts.append(
            Artifact(
                name=name,
                path=base + name,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                kind="archive",
                os=os_name,
                arch=arch,
                sigstore_bundle=FileRef(
                    base + name + ".sigstore.json", len(bundle), hashlib.sha256(bundle).hexdigest()
                ),
            )
        )
    commit = hashlib.sha1(tag.encode(), usedforsecurity=False).hexdigest()
    return Release(
        version=version,
        tag=tag,
        published_at=at,
        source=Source("https://github.com/bench/bench", commit, f"refs/tags/{tag}"),
        signer=IDENT,
        artifacts=tuple(arts),
        notes=f"### Fixed\n- issue {version}\n",
    )


def build_store(root: Path, lines: int, per_line: int, start: datetime) -> datetime:
    """Write a store of ``lines`` x ``per_line`` releases directly (pure model + files)."""
    store = ChannelStore(root)
    channel: model.ChannelDocument | None = None
    at = start
    for minor in range(lines):
        doc: model.LineDocument | None = None
        for patch in range(per_line):
            at += timedelta(minutes=10)
            doc = model.add_release(
                doc,
                _release(f"2.{minor}.{patch}", at),
                project=PROJECT,
                channel="stable",
                kind="stable",
                tag_format="stable-{version}",
                signer=IDENT,
                now=at,
                version=1,
            )
        assert doc is not None
        data = doc.to_bytes()
        rel = model.line_document_path("stable", doc.line, 1)
        atomic_write(store.path(rel), data, durable=False)
        pin = model.pin_for(rel, 1, data)
        channel = model.update_channel(
            channel, doc, pin, signer=IDENT, policy=STABLE.support, now=at, version=1
        )
    assert channel is not None
    cdata = channel.to_bytes()
    crel = model.channel_document_path("stable", 1)
    atomic_write(store.path(crel), cdata, durable=False)
    entry = model.channel_entry(channel, model.pin_for(crel, 1, cdata), IDENT)
    index = model.next_index(
        None,
        project=PROJECT,
        channel="stable",
        entry=entry,
        signer=IDENT,
        now=at,
        expires_in=timedelta(days=365),
    )
    atomic_write(store.path(model.index_version_path(1)), index.to_bytes(), durable=False)
    atomic_write(store.path("index.json"), index.to_bytes(), durable=False)
    return at


def make_tuf(root: Path, at: datetime) -> Any:
    """Give the schema 1 store at ``root`` TUF metadata (root, targets, the stable role
    and one role per line) the way ``release channel migrate`` does. Returns the
    publisher's signer."""
    from securesystemslib.signer import CryptoSigner

    from release.channel.tuf import metadata as tm
    from release.channel.tuf.migrate import newest_v1_index, read_v1
    from release.channel.tuf.trust import sign_with

    maintainer, publisher = CryptoSigner.generate_ed25519(), CryptoSigner.generate_ed25519()
    store = TufStore(DirectoryBackend(root))
    expiry = tm.Expiry()
    root_md = tm.build_root(
        version=1, now=at, expiry=expiry, root_keys=[maintainer.public_key], threshold=1,
        publisher_keys=[publisher.public_key], trust=None,
    )  # fmt: skip
    delegation = tm.ChannelDelegation("stable", "stable-{version}", (publisher.public_key,))
    targets = tm.build_targets(version=1, now=at, expiry=expiry, channels=[delegation])
    store.install([sign_with(root_md, [maintainer])], sign_with(targets, [maintainer]))
    (v1,) = read_v1(root, newest_v1_index(root))
    store.adopt_channel("stable", v1.document, v1.lines, now=at, signer=publisher)
    return publisher


def time_publishes(
    root: Path, signer: Any, line: int, first_patch: int, at: datetime, n: int
) -> list[float]:
    times = []
    for i in range(n):
        at += timedelta(minutes=10)
        files = ChannelStore(root)
        release = _release(f"2.{line}.{first_patch + i}", at, files)
        store = TufStore(DirectoryBackend(root))  # cold: a pipeline publishes once per process
        start = time.perf_counter()
        result = store.publish(
            STABLE, release, project=PROJECT, now=at, signer=signer, identity=IDENT
        )
        times.append(time.perf_counter() - start)
        assert result.changed
    return times


def time_latest(root: Path, rounds: int, pycache: Path | None) -> tuple[list[float], str]:
    """Wall time of fresh ``release channel latest`` processes.

    With ``pycache``, the package's bytecode is compiled first into that prefix (what an
    installed wheel has); without, every run compiles the source tree (what a checkout
    under PYTHONDONTWRITEBYTECODE=1 does).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)  # the warm-up run fills it for stdlib too
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "release")], env=env, check=True
        )
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    state = Path(tempfile.mkdtemp(prefix="bench-state-"))
    cmd = [*RELEASE, "channel", "latest", "--source", str(root), "--state-dir", str(state)]
    out = ""
    times = []
    for _ in range(rounds + 1):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"release channel latest failed:\n{proc.stderr[-2000:]}")
        out = proc.stdout.strip()
    return times[1:], out  # the first run warms the page cache


def main(argv: list[str] | None = None) -> int:
    lines = int(os.environ.get("BENCH_CHANNEL_LINES", "200"))
    per_line = int(os.environ.get("BENCH_CHANNEL_PER_LINE", "50"))
    rounds = int(os.environ.get("BENCH_CHANNEL_ROUNDS", "9"))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
    with tempfile.TemporaryDirectory(prefix="bench-channel-") as tmp:
        big, small = Path(tmp) / "big", Path(tmp) / "small"
        t0 = time.perf_counter()
        total = lines * per_line
        big_at = build_store(big, lines, per_line, start - timedelta(minutes=10 * (total + 10)))
        small_at = build_store(small, 2, 5, start)
        build_s = time.perf_counter() - t0
        index_size = (big / "index.json").stat().st_size
        channel_size = (big / "channels/stable/v1.json").stat().st_size
        line_size = max(p.stat().st_size for p in (big / "channels/stable/lines").rglob("v*.json"))

        latest, answer = time_latest(big, rounds, Path(tmp) / "pycache")
        latest_nocache, _ = time_latest(big, rounds, None)
        t0 = time.perf_counter()
        big_signer = make_tuf(big, big_at)
        small_signer = make_tuf(small, small_at)
        tuf_s = time.perf_counter() - t0
        baseline = []
        for _ in range(rounds):
            s = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            baseline.append(time.perf_counter() - s)

        small_times: list[float] = []
        big_times: list[float] = []
        pairs = 3 * rounds
        for k in range(pairs):  # adjacent pairs: disk and CPU noise hit both alike
            small_times += time_publishes(
                small, small_signer, 1, 5 + k, small_at + timedelta(hours=k), 1
            )
            big_times += time_publishes(
                big, big_signer, lines - 1, per_line + k, big_at + timedelta(hours=k), 1
            )
        meta = big / "metadata"
        snapshot = max(meta.glob("*.snapshot.json"), key=lambda p: int(p.name.split(".")[0]))
        sizes = {
            "snapshot": snapshot.stat().st_size,
            "stable role": max(p.stat().st_size for p in meta.glob("*.stable.json")),
            "largest line role": max(p.stat().st_size for p in meta.glob("*.stable.*.json")),
            "timestamp": (meta / "timestamp.json").stat().st_size,
        }

    lat_med = statistics.median(latest)
    pub_small, pub_big = statistics.median(small_times), statistics.median(big_times)
    ratio = statistics.median(b / s for b, s in zip(big_times, small_times, strict=True))
    print(f"store: {total} releases in {lines} lines (built in {build_s:.1f} s)")
    print(
        f"sizes: index.json (schema 1) {index_size} B; channel document {channel_size} B; "
        f"largest line document {line_size} B; TUF (Ed25519, made in {tuf_s:.1f} s): "
        + ", ".join(f"{k} {v} B" for k, v in sizes.items())
    )
    print(
        f"release channel latest -> {answer}: median {lat_med * 1000:.0f} ms, best "
        f"{min(latest) * 1000:.0f} ms over {rounds} runs with bytecode cached (as installed); "
        f"{statistics.median(latest_nocache) * 1000:.0f} ms compiling the source each run; "
        f"python -c pass {statistics.median(baseline) * 1000:.0f} ms  target <= 150 ms"
    )
    print(
        f"TUF publish release {total + 1}..{total + pairs}: median {pub_big * 1000:.1f} ms; "
        f"publish release 11..{10 + pairs}: median {pub_small * 1000:.1f} ms; "
        f"median ratio of {pairs} adjacent pairs {ratio:.2f}  target <= 2.00"
    )
    ok = lat_med <= 0.150 and ratio <= 2.0
    print("result:", "ok" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
