from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import timedelta
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from release.channel import model
from release.channel.client import ChannelClient
from release.channel.fetch import DirectoryFetcher
from release.channel.store import ChannelStore
from release.errors import ChannelError, SigningError, VerificationError
from tests.helpers.channelkit import (
    EDGE,
    EDGE_ID,
    NOW,
    PROJECT,
    STABLE,
    STABLE_ID,
    KeyRoot,
    KeySigner,
    make_release,
    publish,
)

SCHEMAS = {
    model.TYPE_INDEX: "index.schema.json",
    model.TYPE_CHANNEL: "channel.schema.json",
    model.TYPE_LINE: "line.schema.json",
}


def documents(root: Path) -> list[Path]:
    """Every immutable document (not bundles) in the store."""
    return sorted(p for p in root.rglob("v*.json") if re.fullmatch(r"v\d+\.json", p.name))


def validate_store(root: Path) -> int:
    """Validate every document in the store against the published JSON Schemas."""
    validators = {}
    for kind, name in SCHEMAS.items():
        schema = json.loads((root / "schema" / name).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[kind] = jsonschema.Draft202012Validator(schema)
    count = 0
    for path in [root / "index.json", *documents(root)]:
        doc = json.loads(path.read_bytes())
        errors = list(validators[doc["type"]].iter_errors(doc))
        assert not errors, f"{path}: {errors[0].message}"
        count += 1
    return count


@pytest.fixture
def keys() -> KeyRoot:
    return KeyRoot()


@pytest.fixture
def store(tmp_path: Path) -> ChannelStore:
    return ChannelStore(tmp_path / "store")


def test_publish_writes_immutable_signed_documents_then_swaps_the_index(
    store: ChannelStore, keys: KeyRoot
) -> None:
    signer = keys.signer(STABLE_ID)
    publish(store, STABLE, "2.14.0", signer)
    publish(store, STABLE, "2.15.0", signer, now=NOW + timedelta(days=1))
    publish(store, EDGE, "26.11.1", keys.signer(EDGE_ID), now=NOW + timedelta(days=2))
    root = store.root
    index_bytes = (root / "index.json").read_bytes()
    index = model.parse_index(index_bytes).document
    assert index.version == 3
    assert (root / "index/v3.json").read_bytes() == index_bytes
    assert index.published_by == "edge"
    assert index.signer == EDGE_ID
    for doc in documents(root):
        assert (doc.parent / (doc.name + ".sigstore.json")).is_file(), doc
    assert validate_store(root) == 1 + 3 + 3 + 3  # index.json, index/v*, channels, lines
    pkg = resources.files("release.channel") / "schema"
    for name in SCHEMAS.values():
        assert (root / "schema" / name).read_bytes() == (pkg / name).read_bytes()
    assert store.read_index() == index
    stable = store.read_channel("stable")
    assert stable is not None
    assert stable.latest == "2.15.0"
    assert [(e.line, e.support.phase) for e in stable.lines] == [
        ("2.14", "maintenance"),
        ("2.15", "active"),
    ]


def test_publishing_the_same_release_again_is_a_no_op(store: ChannelStore, keys: KeyRoot) -> None:
    signer = keys.signer(STABLE_ID)
    release = make_release(store, STABLE, "2.15.0", signer)
    first = store.publish(STABLE, release, project=PROJECT, now=NOW, signer=signer)
    before = (store.root / "index.json").read_bytes()
    again = store.publish(
        STABLE, release, project=PROJECT, now=NOW + timedelta(hours=1), signer=signer
    )
    assert (first.changed, again.changed) == (True, False)
    assert again.index_version == first.index_version == 1
    assert (store.root / "index.json").read_bytes() == before
    changed = replace(release, notes="different notes")
    with pytest.raises(ChannelError, match=r"stable 2.15.0 is already published"):
        store.publish(STABLE, changed, project=PROJECT, now=NOW, signer=signer)


def test_missing_or_changed_release_files_stop_the_publish_before_any_document(
    store: ChannelStore, keys: KeyRoot
) -> None:
    signer = keys.signer(STABLE_ID)
    publish(store, STABLE, "2.15.0", signer)
    before = (store.root / "index.json").read_bytes()
    docs_before = documents(store.root)
    release = make_release(store, STABLE, "2.15.1", signer)
    art = store.root / release.artifacts[0].path
    original = art.read_bytes()
    art.write_bytes(original + b"tampered")
    with pytest.raises(VerificationError, match=r"store has .* the release record says"):
        store.publish(STABLE, release, project=PROJECT, now=NOW, signer=signer)
    art.write_bytes(original)
    (store.root / release.checksums.path).unlink()  # type: ignore[union-attr]
    with pytest.raises(ChannelError, match=r"SHA256SUMS is not in the channel store"):
        store.publish(STABLE, release, project=PROJECT, now=NOW, signer=signer)
    assert (store.root / "index.json").read_bytes() == before
    assert documents(store.root) == docs_before


def test_artifact_bundles_are_verified_when_a_verifier_is_given(
    store: ChannelStore, keys: KeyRoot
) -> None:
    signer = keys.signer(STABLE_ID)
    release = make_release(
        store, STABLE, "2.15.0", signer, platforms=(("linux", "amd64"), ("darwin", "arm64"))
    )
    a, b = (store.root / x.sigstore_bundle.path for x in release.artifacts)
    a_bytes = a.read_bytes()
    a.write_bytes(b.read_bytes())  # the bundle of another file
    release = replace(
        release,
        artifacts=(
            replace(
                release.artifacts[0],
                sigstore_bundle=store.file_ref(release.artifacts[0].sigstore_bundle.path),
            ),
            release.artifacts[1],
        ),
    )
    with pytest.raises(VerificationError, match=r"signature does not match"):
        store.publish(
            STABLE, release, project=PROJECT, now=NOW, signer=signer, verifier=keys.verifier()
        )
    a.write_bytes(a_bytes)
    good = make_release(
        store, STABLE, "2.15.0", signer, platforms=(("linux", "amd64"), ("darwin", "arm64"))
    )
    assert store.publish(
        STABLE, good, project=PROJECT, now=NOW, signer=signer, verifier=keys.verifier()
    ).changed


def test_a_channel_signer_cannot_publish_on_another_channel(
    store: ChannelStore, keys: KeyRoot
) -> None:
    edge_signer = keys.signer(EDGE_ID)
    release = make_release(store, STABLE, "2.15.0", edge_signer)
    with pytest.raises(VerificationError, match=r"channel stable line 2.15 expects"):
        store.publish(STABLE, release, project=PROJECT, now=NOW, signer=edge_signer)
    assert store.read_index() is None


def test_orphans_never_block_and_are_never_overwritten(store: ChannelStore, keys: KeyRoot) -> None:
    signer = keys.signer(STABLE_ID)
    orphan = store.root / "channels/stable/lines/2.15/v1.json"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crashed publisher\n")
    (store.root / "index").mkdir()
    (store.root / "index/v1.json").write_bytes(b"orphan index\n")
    result = publish(store, STABLE, "2.15.0", signer)
    assert orphan.read_bytes() == b"left by a crashed publisher\n"
    assert (store.root / "index/v1.json").read_bytes() == b"orphan index\n"
    index = store.read_index()
    assert index is not None
    assert index.version == 2
    doc = store.read_channel("stable")
    assert doc is not None
    assert doc.lines[0].document.path.endswith("/lines/2.15/v2.json")
    assert result.version == "2.15.0"


class CrashingSigner(KeySigner):
    """Dies when asked to sign an index version: a crash before the swap."""

    def sign(self, path: Path) -> Path:
        if path.parent.name == "index":
            raise SigningError("simulated crash while signing the index")
        return super().sign(path)


def test_a_crash_before_the_swap_leaves_the_previous_index_valid(
    store: ChannelStore, keys: KeyRoot
) -> None:
    signer = keys.signer(STABLE_ID)
    publish(store, STABLE, "2.15.0", signer)
    before = (store.root / "index.json").read_bytes()
    crashing = CrashingSigner(signer.key, signer.identity)
    release = make_release(store, STABLE, "2.15.1", signer)
    with pytest.raises(SigningError, match=r"simulated crash"):
        store.publish(STABLE, release, project=PROJECT, now=NOW, signer=crashing)
    assert (store.root / "index.json").read_bytes() == before
    client = ChannelClient(DirectoryFetcher(store.root), now=NOW, verifier=keys.verifier())
    assert client.latest("stable") == "2.15.0"
    assert client.verify_all() == {"channels": 1, "lines": 1, "releases": 1}
    orphan = store.root / "index/v2.json"
    assert orphan.is_file()
    assert not (store.root / "index/v2.json.sigstore.json").exists()
    # the re-run computes the same bytes: it adopts the unsigned orphan and signs it
    result = store.publish(STABLE, release, project=PROJECT, now=NOW, signer=signer)
    assert (result.changed, result.index_version) == (True, 2)
    assert (store.root / "index/v2.json.sigstore.json").is_file()
    # a re-run with another clock reading computes other bytes: v2 is kept, v3 written
    release3 = make_release(store, STABLE, "2.15.2", signer)
    with pytest.raises(SigningError):
        store.publish(STABLE, release3, project=PROJECT, now=NOW, signer=crashing)
    later = store.publish(
        STABLE, release3, project=PROJECT, now=NOW + timedelta(seconds=5), signer=signer
    )
    assert later.index_version == 4
    assert (store.root / "index/v3.json").is_file()
    fresh = ChannelClient(DirectoryFetcher(store.root), now=NOW, verifier=keys.verifier())
    assert fresh.latest("stable") == "2.15.2"
    assert fresh.verify_all()["releases"] == 3


def test_withdraw_and_refresh(store: ChannelStore, keys: KeyRoot) -> None:
    signer = keys.signer(STABLE_ID)
    for v in ("2.15.0", "2.15.1"):
        publish(store, STABLE, v, signer)
    w = store.withdraw(
        STABLE,
        "2.15.1",
        reason="data loss bug",
        replacement="2.15.0",
        project=PROJECT,
        now=NOW,
        signer=signer,
    )
    assert w.changed
    again = store.withdraw(
        STABLE,
        "2.15.1",
        reason="data loss bug",
        replacement="2.15.0",
        project=PROJECT,
        now=NOW,
        signer=signer,
    )
    assert not again.changed
    doc = store.read_channel("stable")
    assert doc is not None
    assert doc.latest == "2.15.0"
    with pytest.raises(ChannelError, match=r"no release 2.16.0 to withdraw"):
        store.withdraw(STABLE, "2.16.0", reason="x", project=PROJECT, now=NOW, signer=signer)
    later = NOW + timedelta(days=20)
    r = store.refresh(STABLE, project=PROJECT, now=later, signer=signer)
    index = store.read_index()
    assert index is not None
    assert (index.version, index.expires) == (
        r.index_version,
        later + timedelta(days=30),
    )
    assert validate_store(store.root) > 0
    written = store.render_views(later)
    assert "index.html" in written
    assert "data loss bug; use 2.15.0" in (store.root / "index.html").read_text()


def _race(store: ChannelStore, keys: KeyRoot, channel_lines: list[tuple[str, str]], n: int) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(len(channel_lines))

    def publisher(line: str) -> None:
        try:
            signer = keys.signer(STABLE_ID)
            releases = [make_release(store, STABLE, f"{line}.{p}", signer) for p in range(n)]
            start.wait()
            for r in releases:
                store.publish(STABLE, r, project=PROJECT, now=NOW, signer=signer)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publisher, args=(line,)) for _, line in channel_lines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_two_publishers_racing_100_times_lose_no_release(
    store: ChannelStore, keys: KeyRoot
) -> None:
    _race(store, keys, [("stable", "1.0"), ("stable", "2.0")], 100)
    client = ChannelClient(DirectoryFetcher(store.root), now=NOW, verifier=keys.verifier())
    assert client.verify_all() == {"channels": 1, "lines": 2, "releases": 200}
    for line in ("1.0", "2.0"):
        assert [r.version for r in client.line("stable", line).releases] == [
            f"{line}.{p}" for p in range(100)
        ]
    index = store.read_index()
    assert index is not None
    assert index.version >= 200
    assert validate_store(store.root) >= 1 + 3 * 200


PROCESS_PUBLISHER = """
import sys
from pathlib import Path
from tests.helpers.channelkit import KeyRoot, STABLE, STABLE_ID, NOW, PROJECT, make_release
from release.channel.store import ChannelStore
store = ChannelStore(Path(sys.argv[1]))
signer = KeyRoot().signer(STABLE_ID)
rs = [make_release(store, STABLE, f"{sys.argv[2]}.{p}", signer) for p in range(int(sys.argv[3]))]
for r in rs:
    store.publish(STABLE, r, project=PROJECT, now=NOW, signer=signer)
"""


def test_two_publisher_processes_lose_no_release(store: ChannelStore) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS_PUBLISHER, str(store.root), line, "25"], cwd=Path.cwd()
        )
        for line in ("3.0", "4.0")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    doc = store.read_channel("stable")
    assert doc is not None
    assert {e.line: (e.latest, e.releases) for e in doc.lines} == {
        "3.0": ("3.0.24", 25),
        "4.0": ("4.0.24", 25),
    }


def test_wheel_ships_the_schemas(tmp_path: Path) -> None:
    import zipfile

    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"release/channel/schema/{n}" for n in SCHEMAS.values()} <= names


def test_provenance_is_recorded_and_verified_before_publishing(
    store: ChannelStore, keys: KeyRoot
) -> None:
    signer = keys.signer(STABLE_ID)
    release = make_release(store, STABLE, "2.15.0", signer)
    prov = store.root / f"releases/{release.tag}/provenance.intoto.jsonl"
    prov.write_text('{"_type": "https://in-toto.io/Statement/v1"}\n')
    (prov.parent / (prov.name + ".sigstore.json")).write_text("{}")
    record = store.describe_provenance(release.tag, "provenance.intoto.jsonl")
    assert record.sigstore_bundle is not None
    assert record.sigstore_bundle.path.endswith("provenance.intoto.jsonl.sigstore.json")
    with_prov = replace(release, provenance=record)
    prov.write_text("changed\n")
    with pytest.raises(VerificationError, match=r"provenance.intoto.jsonl: store has"):
        store.publish(STABLE, with_prov, project=PROJECT, now=NOW, signer=signer)
    prov.write_text('{"_type": "https://in-toto.io/Statement/v1"}\n')
    assert store.publish(STABLE, with_prov, project=PROJECT, now=NOW, signer=signer).changed
    doc = store.read_channel("stable")
    assert doc is not None
    line = store.read_line(doc, "2.15")
    assert line is not None
    assert line.releases[0].provenance == record
    assert validate_store(store.root) == 4
