"""The roles a publication rewrites, built as plain data (rawrole), are byte for byte
what python-tuf's objects give: same canonical bytes signed, same file published, and
python-tuf parses and verifies them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, Targets

from release.channel.tuf import metadata as tm
from release.channel.tuf import rawrole
from release.errors import ChannelError

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
EXPIRY = tm.Expiry()
DOC = ("channels/stable/v7.json", (56193, "ab" * 32))


def _keys(n: int) -> list[CryptoSigner]:
    return [CryptoSigner.generate_ed25519() for _ in range(n)]


def _same(tuf_md: Metadata[Targets], raw: rawrole.RawTargets, signer: CryptoSigner) -> None:
    assert rawrole.canonical(raw.signed) == tm.CANONICAL.serialize(tuf_md.signed)
    data = rawrole.signed_file(raw, signer)
    # Ed25519 signatures are deterministic: the published files are the same bytes.
    assert data == tm.signed_file(tuf_md, signer)
    parsed = Metadata[Targets].from_bytes(data)
    assert parsed.signed == tuf_md.signed
    signature = parsed.signatures[signer.public_key.keyid]
    signer.public_key.verify_signature(signature, parsed.signed_bytes)


def _channel_roles(
    previous_tuf: Metadata[Targets] | None,
    previous_raw: rawrole.RawTargets | None,
    key: CryptoSigner,
    line: tuple[str, str] | None,
    per_line: bool,
) -> tuple[Metadata[Targets], rawrole.RawTargets]:
    from tuf.api.metadata import TargetFile

    tuf_md = tm.build_channel_role(
        version=8,
        now=NOW,
        expiry=EXPIRY,
        document=TargetFile(DOC[1][0], {"sha256": DOC[1][1]}, DOC[0]),
        previous=previous_tuf.signed if previous_tuf else None,
        key=key.public_key,
        line=line,
        per_line_keys=per_line,
    )
    raw = rawrole.channel_role(
        version=8,
        now=NOW,
        expiry=EXPIRY,
        document=DOC,
        previous=previous_raw,
        key=key.public_key,
        line=line,
        per_line_keys=per_line,
    )
    return tuf_md, raw


def _history(key: CryptoSigner, lines: list[str]) -> tuple[Metadata[Targets], rawrole.RawTargets]:
    """A channel role that delegates ``lines``, built by python-tuf, and its file read
    back as plain data (what a publication starts from)."""
    md: Metadata[Targets] | None = None
    for ln in lines:
        md, _ = _channel_roles(md, None, key, (f"stable.{ln}", f"stable-{ln}.0"), False)
    assert md is not None
    data = tm.signed_file(md, key)
    return Metadata[Targets].from_bytes(data), rawrole.parse_channel_role(data, "metadata/7.x")


def test_first_channel_role() -> None:
    (key,) = _keys(1)
    tuf_md, raw = _channel_roles(None, None, key, ("stable.2.15", "stable-2.15.0"), False)
    _same(tuf_md, raw, key)


@pytest.mark.parametrize("line", ["2.15", "2.99"])
def test_existing_and_new_line(line: str) -> None:
    (key,) = _keys(1)
    prev_tuf, prev_raw = _history(key, ["2.13", "2.14", "2.15"])
    tuf_md, raw = _channel_roles(
        prev_tuf, prev_raw, key, (f"stable.{line}", f"stable-{line}.1"), False
    )
    _same(tuf_md, raw, key)
    names = [r["name"] for r in raw.signed["delegations"]["roles"]]
    assert names[-1] == f"stable.{line}"
    assert len(names) == len(set(names))


def test_rotated_channel_key_rekeys_every_line() -> None:
    old, new = _keys(2)
    prev_tuf, prev_raw = _history(old, ["2.13", "2.14"])
    tuf_md, raw = _channel_roles(prev_tuf, prev_raw, new, ("stable.2.14", "stable-2.14.3"), False)
    _same(tuf_md, raw, new)
    assert set(raw.signed["delegations"]["keys"]) == {new.public_key.keyid}


def test_per_line_keys_keep_the_other_lines_keys() -> None:
    a, b = _keys(2)
    prev_tuf, _ = _history(a, ["2.13", "2.14"])
    # line 2.15 is signed by its own identity b; 2.13 and 2.14 keep a
    tuf_md, _ = _channel_roles(prev_tuf, None, b, ("stable.2.15", "stable-2.15.0"), True)
    data = tm.signed_file(tuf_md, b)
    prev_tuf2 = Metadata[Targets].from_bytes(data)
    prev_raw2 = rawrole.parse_channel_role(data, "k")
    tuf_md, raw = _channel_roles(prev_tuf2, prev_raw2, a, ("stable.2.14", "stable-2.14.1"), True)
    _same(tuf_md, raw, a)
    delegated = {r["name"]: r["keyids"] for r in raw.signed["delegations"]["roles"]}
    assert delegated["stable.2.15"] == [b.public_key.keyid]
    assert delegated["stable.2.14"] == [a.public_key.keyid]


def test_line_role() -> None:
    (key,) = _keys(1)
    files = [
        ("channels/stable/lines/2.15/v3.json", 7000, "cd" * 32),
        ("releases/stable-2.15.0/linkerd2-cli-stable-2.15.0-linux-amd64", 51_000_000, "01" * 32),
        ("releases/stable-2.15.0/SHA256SUMS", 300, "02" * 32),
    ]
    tuf_md = tm.build_line_role(
        version=3, now=NOW, expiry=EXPIRY, targets=[tm.target_ref(*f) for f in files]
    )
    _same(tuf_md, rawrole.line_role(version=3, now=NOW, expiry=EXPIRY, targets=files), key)


def test_escapes_and_non_ascii_fall_back_to_the_stock_encoders() -> None:
    (key,) = _keys(1)
    files = [
        ("releases/stable-2.15.0/nöte ✓.txt", 1, "03" * 32),
        ('releases/stable-2.15.0/quote " back \\ tab \t', 2, "04" * 32),
    ]
    tuf_md = tm.build_line_role(
        version=1, now=NOW, expiry=EXPIRY, targets=[tm.target_ref(*f) for f in files]
    )
    _same(tuf_md, rawrole.line_role(version=1, now=NOW, expiry=EXPIRY, targets=files), key)


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"signed": {"_type": "root", "version": 1}}',
        b'{"signed": {"_type": "targets", "version": "7", "targets": {}, '
        b'"delegations": {"keys": {}, "roles": []}}}',
        b'{"signed": {"_type": "targets", "version": 7, "targets": {}}}',
        b'{"signed": {"_type": "targets", "version": 7, "targets": {}, '
        b'"delegations": {"keys": {}, "roles": [{"name": 5, "keyids": []}]}}}',
    ],
)
def test_a_broken_channel_role_is_one_clear_error(data: bytes) -> None:
    with pytest.raises(ChannelError, match=r"metadata/3\.stable\.json"):
        rawrole.parse_channel_role(data, "metadata/3.stable.json")


def test_a_delegation_naming_a_missing_key_is_refused() -> None:
    (key,) = _keys(1)
    _, prev_raw = _history(key, ["2.13"])
    prev_raw.signed["delegations"]["keys"].clear()
    with pytest.raises(ChannelError, match=r"stable\.2\.13"):
        _channel_roles(None, prev_raw, _keys(1)[0], ("stable.2.14", "stable-2.14.0"), True)
