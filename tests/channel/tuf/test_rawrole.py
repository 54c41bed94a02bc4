"""The roles a publication writes, built as plain data (rawrole): python-tuf parses each
file and gives back the same bytes (signed canonical bytes and published file), the
signature verifies, and the delegation rule holds (new line, existing line, rotated
channel key, one key per line)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, Targets
from tuf.api.serialization.json import CanonicalJSONSerializer

from release.channel.tuf import metadata as tm
from release.channel.tuf import rawrole
from release.errors import ChannelError

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
EXPIRY = tm.Expiry()
DOC = ("channels/stable/v7.json", (56193, "ab" * 32))


def _keys(n: int) -> list[CryptoSigner]:
    return [CryptoSigner.generate_ed25519() for _ in range(n)]


def _published(raw: rawrole.RawTargets, signer: CryptoSigner) -> Metadata[Targets]:
    """The file a publication writes for ``raw``, read back by python-tuf: the stock
    serializers give the same bytes, and ``signer``'s signature verifies."""
    data = rawrole.signed_file(raw, signer)
    parsed = Metadata[Targets].from_bytes(data)
    assert CanonicalJSONSerializer().serialize(parsed.signed) == tm.canonical(raw.signed)
    assert tm.serialize(parsed) == data
    signature = parsed.signatures[signer.public_key.keyid]
    signer.public_key.verify_signature(signature, parsed.signed_bytes)
    return parsed


def _channel_role(
    previous: rawrole.RawTargets | None,
    key: CryptoSigner,
    line: tuple[str, str] | None,
    per_line: bool = False,
) -> rawrole.RawTargets:
    return rawrole.channel_role(
        version=8,
        now=NOW,
        expiry=EXPIRY,
        document=DOC,
        previous=previous,
        key=key.public_key,
        line=line,
        per_line_keys=per_line,
    )


def _history(key: CryptoSigner, lines: list[str], per_line: bool = False) -> rawrole.RawTargets:
    """A channel role that delegates ``lines``, published and read back as plain data
    (what a publication starts from)."""
    raw: rawrole.RawTargets | None = None
    for ln in lines:
        raw = _channel_role(raw, key, (f"stable.{ln}", f"stable-{ln}.0"), per_line)
    assert raw is not None
    return rawrole.parse_channel_role(rawrole.signed_file(raw, key), "metadata/7.stable.json")


def _delegations(md: Metadata[Targets]) -> dict[str, Any]:
    assert md.signed.delegations is not None
    roles = md.signed.delegations.roles or {}
    return {name: (r.keyids, r.paths, r.threshold, r.terminating) for name, r in roles.items()}


def test_first_channel_role() -> None:
    (key,) = _keys(1)
    md = _published(_channel_role(None, key, ("stable.2.15", "stable-2.15.0")), key)
    assert md.signed.version == 8
    assert md.signed.expires == NOW + EXPIRY.channel
    assert {p: (t.length, t.hashes) for p, t in md.signed.targets.items()} == {
        DOC[0]: (DOC[1][0], {"sha256": DOC[1][1]})
    }
    assert _delegations(md) == {
        "stable.2.15": (
            [key.public_key.keyid],
            ["channels/stable/lines/2.15/*", "releases/stable-2.15.*/*"],
            1,
            True,
        )
    }


@pytest.mark.parametrize("line", ["2.14", "2.99"])
def test_existing_and_new_line(line: str) -> None:
    (key,) = _keys(1)
    before = _history(key, ["2.13", "2.14", "2.15"])
    md = _published(_channel_role(before, key, (f"stable.{line}", f"stable-{line}.1")), key)
    names = list(_delegations(md))
    expected = ["stable.2.13", "stable.2.14", "stable.2.15"]
    assert names == (expected if line == "2.14" else [*expected, "stable.2.99"])
    # an existing line's delegation is kept as it was (its paths come from its first tag)
    assert _delegations(md)["stable.2.14"][1] == [
        "channels/stable/lines/2.14/*",
        "releases/stable-2.14.*/*",
    ]


def test_rotated_channel_key_rekeys_every_line() -> None:
    old, new = _keys(2)
    before = _history(old, ["2.13", "2.14"])
    md = _published(_channel_role(before, new, ("stable.2.14", "stable-2.14.3")), new)
    assert md.signed.delegations is not None
    assert set(md.signed.delegations.keys) == {new.public_key.keyid}
    assert {n: d[0] for n, d in _delegations(md).items()} == {
        "stable.2.13": [new.public_key.keyid],
        "stable.2.14": [new.public_key.keyid],
    }
    assert _delegations(md)["stable.2.13"][1] == [
        "channels/stable/lines/2.13/*",
        "releases/stable-2.13.*/*",
    ]


def test_per_line_keys_keep_the_other_lines_keys() -> None:
    a, b = _keys(2)
    # 2.13 and 2.14 were delegated to a; line 2.15 is signed by its own identity b
    with_b = _channel_role(
        _history(a, ["2.13", "2.14"], True), b, ("stable.2.15", "s-2.15.0"), True
    )
    before = rawrole.parse_channel_role(rawrole.signed_file(with_b, b), "k")
    md = _published(_channel_role(before, a, ("stable.2.14", "stable-2.14.1"), True), a)
    assert {n: d[0] for n, d in _delegations(md).items()} == {
        "stable.2.13": [a.public_key.keyid],
        "stable.2.14": [a.public_key.keyid],
        "stable.2.15": [b.public_key.keyid],
    }
    assert md.signed.delegations is not None
    assert set(md.signed.delegations.keys) == {a.public_key.keyid, b.public_key.keyid}


def test_line_role() -> None:
    (key,) = _keys(1)
    files = [
        ("channels/stable/lines/2.15/v3.json", 7000, "cd" * 32),
        ("releases/stable-2.15.0/linkerd2-cli-stable-2.15.0-linux-amd64", 51_000_000, "01" * 32),
        ("releases/stable-2.15.0/SHA256SUMS", 300, "02" * 32),
    ]
    md = _published(rawrole.line_role(version=3, now=NOW, expiry=EXPIRY, targets=files), key)
    assert md.signed.version == 3
    assert md.signed.delegations is None
    got = [(p, t.length, t.hashes["sha256"]) for p, t in md.signed.targets.items()]
    assert sorted(got) == sorted(files)


def test_escapes_and_non_ascii_fall_back_to_the_stock_encoders() -> None:
    (key,) = _keys(1)
    files = [
        ("releases/stable-2.15.0/nöte ✓.txt", 1, "03" * 32),
        ('releases/stable-2.15.0/quote " back \\ tab \t', 2, "04" * 32),
    ]
    md = _published(rawrole.line_role(version=1, now=NOW, expiry=EXPIRY, targets=files), key)
    assert sorted(md.signed.targets) == sorted(f[0] for f in files)


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
    before = _history(key, ["2.13"])
    before.signed["delegations"]["keys"].clear()
    with pytest.raises(ChannelError, match=r"stable\.2\.13"):
        _channel_role(before, _keys(1)[0], ("stable.2.14", "stable-2.14.0"), True)
