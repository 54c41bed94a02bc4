from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from release.checksums import (
    Digest,
    atomic_write,
    hash_file,
    hash_files,
    parse_sums,
    render_sums,
)
from release.errors import ReleaseError, VerificationError


def test_hash_file_streams_large_and_empty_files(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    data = bytes(range(256)) * 20_000 + b"tail"  # > 4 chunks, not chunk-aligned
    big.write_bytes(data)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert hash_file(big) == Digest("big.bin", len(data), hashlib.sha256(data).hexdigest())
    assert hash_file(empty).sha256 == hashlib.sha256(b"").hexdigest()
    assert hash_file(empty).size == 0


def test_hash_files_keeps_input_order(tmp_path: Path) -> None:
    paths = []
    for i in range(7):
        p = tmp_path / f"a{i}"
        p.write_bytes(str(i).encode() * (i * 1000 + 1))
        paths.append(p)
    got = hash_files(paths, workers=3)
    assert [d.name for d in got] == [p.name for p in paths]
    assert [d.sha256 for d in got] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="cannot read"):
        hash_file(tmp_path / "missing")


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum missing")
def test_sums_file_is_accepted_by_sha256sum_c(tmp_path: Path) -> None:
    for name, body in {"b.whl": b"wheel", "a.tar.gz": b"sdist", "c d.txt": b"space"}.items():
        (tmp_path / name).write_bytes(body)
    digests = hash_files(sorted(tmp_path.iterdir()))
    text = render_sums(digests)
    assert text.splitlines()[0].endswith("  a.tar.gz")  # sorted by name
    (tmp_path / "SHA256SUMS").write_text(text)
    ok = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (tmp_path / "b.whl").write_bytes(b"tampered")
    bad = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True)
    assert bad.returncode != 0
    assert parse_sums(text) == {d.name: d.sha256 for d in digests}


def test_parse_sums_rejects_malformed_and_duplicates() -> None:
    good = "a" * 64
    with pytest.raises(VerificationError, match="line 1"):
        parse_sums("zz  file\n")
    with pytest.raises(VerificationError, match="twice"):
        parse_sums(f"{good}  x\n{good}  x\n")


def test_render_refuses_names_that_break_the_format() -> None:
    with pytest.raises(ReleaseError):
        render_sums([Digest("a\nb", 1, "0" * 64)])


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]
