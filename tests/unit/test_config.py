"""Loading [tool.release] and channels/*.toml into validated dataclasses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from release.config import (
    DEV_ISSUER,
    Identity,
    load_channel,
    load_config,
)
from release.errors import ConfigError
from release.versions import EdgeVersion, Line, StableVersion

ROOT = Path(__file__).resolve().parents[2]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_defaults_follow_linkerd(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.project == tmp_path.name
    assert set(config.channels) == {"edge", "stable"}
    assert config.edge.tag_format.format(EdgeVersion(2026, 11, 1)) == "edge-26.11.1"
    assert config.stable.tag_format.format(StableVersion(2, 15, 0)) == "stable-2.15.0"
    assert config.stable.branch_for(Line(2, 15)) == "2.15.x"
    assert config.edge.prerelease
    assert not config.stable.prerelease
    assert config.edge.expected_signer(dev=True) == Identity("edge@dev.invalid", DEV_ISSUER)
    assert config.first_line == Line(1, 0)
    assert config.repository is None
    assert config.changelog == "CHANGELOG.md"
    with pytest.raises(ConfigError, match="declares no \\[signer\\]"):
        config.edge.expected_signer(dev=False)


def test_this_repository_dogfoods_its_channels() -> None:
    config = load_config(ROOT)
    assert config.project == "release-channels"
    assert config.repository == "https://github.com/release-channels/release-channels"
    assert config.edge.signer is not None
    assert config.edge.signer.issuer == "https://token.actions.githubusercontent.com"
    assert config.stable.support.maintained_lines == 2
    assert config.builds
    assert config.builds[0].name == "python"


def test_full_channel_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": (
                '[tool.release]\nproject = "demo"\nrepository = "https://github.com/o/demo"\n'
                'first-line = "2.0"\nchannels-dir = "ch"\n'
                '[[tool.release.build]]\nname = "b"\ncommand = "make dist"\n'
                'artifacts = ["demo-{version}.tgz"]\ntargets = ["linux-amd64"]\n'
            ),
            "ch/nightly.toml": 'kind = "edge"\ntag-format = "nightly/{yy}.{m}.{n}"\n',
            "ch/lts.toml": (
                'kind = "stable"\ntag-format = "v{major}.{minor}.{patch}"\n'
                'branch-format = "release/{line}"\n'
                '[signer]\nidentity = "https://ci/{line}"\nissuer = "https://issuer"\n'
                "[support]\nmaintained-lines = 3\n"
                '[support.lines."2.1"]\nreleased = 2026-01-01\neol = 2027-01-01\n'
                '[publish]\ntarget = "pages"\n'
            ),
        },
    )
    config = load_config(tmp_path)
    assert list(config.channels) == ["lts", "nightly"]
    assert config.edge.name == "nightly"
    assert config.stable.name == "lts"
    assert config.first_line == Line(2, 0)
    assert config.builds[0].command == ("make", "dist")
    assert config.builds[0].targets == ("linux-amd64",)
    lts = config.channel("lts")
    assert lts.branch_for(Line(2, 1)) == "release/2.1"
    assert lts.signer is not None
    assert lts.signer.for_line(Line(2, 1)).identity == "https://ci/2.1"
    assert lts.support.maintained_lines == 3
    assert lts.support.lines["2.1"].eol == date(2027, 1, 1)
    assert lts.publish_target == "pages"
    assert lts.tag_format.parse("v2.1.3") == StableVersion(2, 1, 3)
    with pytest.raises(ConfigError, match="unknown channel 'beta'") as info:
        config.channel("beta")
    assert info.value.hint == "channels: lts, nightly"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind = 'beta'\n", "kind must be 'edge' or 'stable'"),
        ("tag-format = 'x-{foo}'\n", "tag format"),
        ("kind = 'stable'\ntag-format = 'edge-{yy}.{m}.{n}'\n", "is not a stable format"),
        ("branch-format = 'release'\n", "branch-format must contain"),
        ("[publish]\ntarget = 's3'\n", "publish.target"),
        ("[support]\nmaintained-lines = 0\n", "maintained-lines must be a positive integer"),
        ("[support.lines.'2.x']\neol = 2026-01-01\n", "is not a line X.Y"),
        (
            "[support.lines.'2.1']\nreleased = 2026-02-01\neol = 2026-01-01\n",
            "eol is before released",
        ),
        ("[support.lines.'2.1']\neol = 'soon'\n", "must be a TOML date"),
        ("[signer]\nidentity = 'x'\n", "issuer must be a non-empty string"),
        ("name = = 1\n", "is not valid TOML"),
    ],
)
def test_channel_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "stable.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_channel(path)


def test_project_errors(tmp_path: Path) -> None:
    write(tmp_path, {"channels/a.toml": "kind = 'edge'\n", "channels/b.toml": "kind = 'edge'\n"})
    with pytest.raises(ConfigError, match="more than one edge channel: a, b"):
        load_config(tmp_path)
    (tmp_path / "channels/b.toml").write_text("name = 'a'\nkind = 'stable'\n")
    with pytest.raises(ConfigError, match="defined twice"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        ("first-line = 'two'\n", "first-line"),
        ("[[tool.release.build]]\ncommand = []\nartifacts = ['a']\n", "command must be"),
        ("[[tool.release.build]]\ncommand = ['x']\n", "artifacts must list"),
        ("[[tool.release.build]]\ncommand = ['x']\nartifacts = ['a']\nenv = {A = 1}\n", "env"),
        (
            "[[tool.release.build]]\ncommand = ['x']\nartifacts = ['a']\ntargets = ['linux']\n",
            "targets",
        ),
        ("build = 'make'\n", "must be an array of tables"),
    ],
)
def test_tool_release_errors(tmp_path: Path, tool: str, message: str) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.release]\n" + tool})
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_only_stable_channels_means_no_edge(tmp_path: Path) -> None:
    write(tmp_path, {"channels/stable.toml": "kind = 'stable'\n"})
    config = load_config(tmp_path)
    with pytest.raises(ConfigError, match="no edge channel") as info:
        _ = config.edge
    assert info.value.hint == "add channels/edge.toml"
    assert config.stable.name == "stable"
