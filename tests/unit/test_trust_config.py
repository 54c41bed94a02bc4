"""channels/trust.toml through the configuration schema: one error naming file and key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from release.config import Identity
from release.errors import ConfigError
from release.trust_config import DEV_ROOT, load_trust


def trust(tmp_path: Path, text: str) -> Path:
    channels = tmp_path / "channels"
    channels.mkdir(exist_ok=True)
    (channels / "trust.toml").write_text(text)
    return channels


def test_defaults_without_the_file(tmp_path: Path) -> None:
    cfg = load_trust(tmp_path / "channels")
    assert cfg.path is None
    assert cfg.root.identities == ()
    assert cfg.dev.identities == (DEV_ROOT,)
    assert cfg.expiry.timestamp == timedelta(days=2)


def test_a_full_file(tmp_path: Path) -> None:
    channels = trust(
        tmp_path,
        "[root]\nthreshold = 2\nidentities = [\n"
        '  { identity = "a@example.com", issuer = "https://i" },\n'
        '  { identity = "b@example.com", issuer = "https://i" },\n]\n'
        "[expires]\ntimestamp = 1\nchannel = 14.5\n",
    )
    cfg = load_trust(channels)
    assert cfg.root.threshold == 2
    assert cfg.root.identities[1] == Identity("b@example.com", "https://i")
    assert cfg.dev.identities == (DEV_ROOT,)
    assert cfg.expiry.channel == timedelta(days=14.5)
    assert cfg.expiry.snapshot == timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rot]\nthreshold = 1\n", 'channels/trust.toml: rot: unknown key; did you mean "root"?'),
        (
            "[root]\nidentities = ['a']\n",
            "channels/trust.toml: [root] identities #1: expected a table (identity, issuer), "
            'got string "a"',
        ),
        (
            "[root]\nidentities = [{ identity = 'a' }]\n",
            "channels/trust.toml: [[root.identities]] #1 issuer: missing; expected",
        ),
        (
            "[root]\nthreshold = 3\nidentities = [{ identity = 'a', issuer = 'i' }]\n",
            "channels/trust.toml: [root]: threshold 3 is more than the 1 identities listed",
        ),
        (
            "[root]\nidentities = [{ identity = 'ci/{line}', issuer = 'i' }]\n",
            "a root identity has no {line}",
        ),
        ("[expires]\ntimestamp = 0\n", "timestamp: expected a positive number of days, got"),
        ("[expires]\ntimestamp = 9\n", "the timestamp must not outlive the snapshot"),
        ("[expires]\nroot = 0.01\n", "[expires] expiry of root must be at least one hour"),
    ],
)
def test_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_trust(trust(tmp_path, text))
    assert message in info.value.message
    assert "\n" not in info.value.message
