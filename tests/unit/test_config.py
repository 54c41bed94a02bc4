"""Loading [tool.release] and channels/*.toml into validated dataclasses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from release.channel.backends.location import S3Location
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
        ("kind = 'beta'\n", 'kind: expected one of "edge", "stable", "none", got string "beta"'),
        ("tag-format = 'x-{foo}'\n", "tag-format: expected a tag format"),
        ("kind = 'stable'\ntag-format = 'edge-{yy}.{m}.{n}'\n", "is not a stable format"),
        ("branch-format = 'release'\n", "branch-format: expected {minor} or {line} in it"),
        ("branch-format = 'r/{minor}{x}'\n", "expected only the placeholders"),
        ("[publish]\ntarget = 'ftp'\n", "\\[publish\\] target: expected one of"),
        ("[publish]\ntarget = 's3'\n", 'target = "s3" needs bucket'),
        ("[publish]\ntarget = 's3'\nbucket = 'B_'\n", "bucket: invalid S3 bucket name"),
        ("[publish]\ntarget = 's3'\nbucket = 'rel'\nprefix = 'a/../b'\n", "refusing S3 prefix"),
        ("[publish]\ntarget = 's3'\nbucket = 'rel'\nprefix = 3\n", "prefix: expected a string"),
        (
            "[publish]\ntarget = 's3'\nbucket = 'rel'\nsecret-access-key = 'x'\n",
            "secret-access-key",
        ),
        (
            "[publish]\ntarget = 's3'\nbucket = 'rel'\nendpoint-url = 'https://k:s@h'\n",
            "must not carry credentials",
        ),
        ("[support]\nmaintained-lines = 0\n", "maintained-lines: expected an integer >= 1"),
        ("[support.lines.'2.x']\neol = 2026-01-01\n", 'expected a table of lines "X.Y"'),
        (
            "[support.lines.'2.1']\nreleased = 2026-02-01\neol = 2026-01-01\n",
            "eol is before released",
        ),
        (
            "[support.lines.'2.1']\neol = 'soon'\n",
            'eol: expected a TOML date .*, got string "soon"',
        ),
        ("[signer]\nidentity = 'x'\n", "\\[signer\\] issuer: missing; expected a non-empty"),
        ("name = = 1\n", "is not valid TOML"),
        ("[support]\nlines = 5\n", "\\[support\\] lines: expected a table .*, got integer 5"),
        ("publish = 'pages'\n", 'publish: expected a table .*, got string "pages"'),
        ("prerelease = 'yes'\n", 'prerelease: expected true or false, got string "yes"'),
    ],
)
def test_channel_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "stable.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_channel(path)
    assert str(info.value).startswith("stable.toml")  # the file is named


def test_s3_publish_target(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        '[publish]\ntarget = "s3"\nbucket = "releases.example"\nprefix = "/channels/demo/"\n'
        'endpoint-url = "https://acc.r2.cloudflarestorage.com"\nregion = "auto"\n'
    )
    channel = load_channel(path)
    assert channel.publish_target == "s3"
    assert channel.publish_s3 == S3Location(
        "releases.example", "channels/demo", "https://acc.r2.cloudflarestorage.com", "auto"
    )
    path.write_text('[publish]\ntarget = "pages"\n')
    assert load_channel(path).publish_s3 is None


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
        ("first-line = 'two'\n", 'first-line: expected a line "X.Y", got string "two"'),
        ("[[tool.release.build]]\ncommand = []\nartifacts = ['a']\n", "#1 command: expected"),
        ("[[tool.release.build]]\ncommand = ['x']\n", "#1 artifacts: missing; expected"),
        (
            "[[tool.release.build]]\ncommand = ['x']\nartifacts = ['a']\nenv = {A = 1}\n",
            "env.A: expected a string, got integer 1",
        ),
        (
            "[[tool.release.build]]\ncommand = ['x']\nartifacts = ['a']\ntargets = ['linux']\n",
            'targets: expected an array of OS-ARCH strings .*, got string "linux"',
        ),
        ("build = 'make'\n", 'build: expected an array of tables, got string "make"'),
        ("build = ['echo hi']\n", 'build #1: expected a table .*, got string "echo hi"'),
        ("repository = 5\n", "repository: expected a non-empty string, got integer 5"),
        ("changelog-commit = 'yes'\n", "changelog-commit: expected true or false"),
        ("changelog-comit = true\n", 'changelog-comit: unknown key; did you mean "changelog-c'),
    ],
)
def test_tool_release_errors(tmp_path: Path, tool: str, message: str) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.release]\n" + tool})
    with pytest.raises(ConfigError, match=message) as info:
        load_config(tmp_path)
    assert str(info.value).startswith("pyproject.toml: [")


def test_a_stable_file_keeps_the_default_edge_channel(tmp_path: Path) -> None:
    write(tmp_path, {"channels/stable.toml": "branch-format = 'release/stable-{major}.{minor}'\n"})
    config = load_config(tmp_path)
    assert set(config.channels) == {"edge", "stable"}
    assert config.edge.tag_format.template == "edge-{yy}.{m}.{n}"
    assert config.stable.branch_for(Line(2, 15)) == "release/stable-2.15"
    assert config.stable.tag_format.template == "stable-{version}"  # default kept
    assert config.sources["channels.stable.branch-format"] == "channels/stable.toml"
    assert config.sources["channels.stable.tag-format"] == "default"
    assert config.sources["channels.edge.kind"] == "default"


def test_nested_tables_merge_key_by_key(tmp_path: Path) -> None:
    write(tmp_path, {"channels/edge.toml": "[dev-signer]\nidentity = 'me@dev.invalid'\n"})
    edge = load_config(tmp_path).edge
    assert edge.dev_signer == Identity("me@dev.invalid", DEV_ISSUER)
    assert edge.prerelease


def test_kind_none_disables_a_default_channel(tmp_path: Path) -> None:
    write(tmp_path, {"channels/edge.toml": "kind = 'none'\n"})
    config = load_config(tmp_path)
    assert set(config.channels) == {"stable"}
    assert any("edge: disabled by channels/edge.toml" in n for n in config.notes)
    with pytest.raises(ConfigError, match="no edge channel") as info:
        _ = config.edge
    assert "kind" in (info.value.hint or "")
    (tmp_path / "channels/edge.toml").write_text("kind = 'none'\nbranch-fromat = 'x'\n")
    with pytest.raises(ConfigError, match='did you mean "branch-format"'):
        load_config(tmp_path)


def test_another_edge_channel_replaces_the_default_one(tmp_path: Path) -> None:
    write(tmp_path, {"channels/nightly.toml": "kind = 'edge'\n"})
    config = load_config(tmp_path)
    assert set(config.channels) == {"nightly", "stable"}
    assert any("default edge channel gives way to nightly" in n for n in config.notes)


def test_release_toml_is_an_alternative_to_tool_release(tmp_path: Path) -> None:
    write(tmp_path, {"release.toml": "project = 'gadget'\nrepository = 'https://g/x'\n"})
    config = load_config(tmp_path)
    assert (config.project, config.repository) == ("gadget", "https://g/x")
    assert config.config_file == "release.toml"
    assert config.sources["project"] == "release.toml"
    assert config.sources["changelog"] == "default"
    write(tmp_path, {"release.toml": "[[build]]\ncommand = 'make'\nartifacts = ['a']\n"})
    assert load_config(tmp_path).builds[0].name == "build1"
    write(tmp_path, {"release.toml": "projet = 'x'\n"})
    with pytest.raises(ConfigError, match=r'release\.toml: projet: unknown key; did you mean "pro'):
        load_config(tmp_path)


def test_release_toml_and_tool_release_together_are_refused(tmp_path: Path) -> None:
    write(tmp_path, {"release.toml": "project = 'a'\n", "pyproject.toml": "[tool.release]\n"})
    with pytest.raises(ConfigError, match=r"both release\.toml and \[tool\.release\]") as info:
        load_config(tmp_path)
    assert "keep one" in (info.value.hint or "")
    # a pyproject.toml without [tool.release] is not a conflict
    write(tmp_path, {"pyproject.toml": "[project]\nname = 'a'\n[tool.ruff]\n"})
    assert load_config(tmp_path).project == "a"


def test_tool_release_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool]\nrelease = 'x'\n"})
    with pytest.raises(ConfigError, match=r'\[tool\] release: expected a table .*got string "x"'):
        load_config(tmp_path)


def test_trust_toml_is_not_a_channel(tmp_path: Path) -> None:
    write(tmp_path, {"channels/trust.toml": "threshold = 1\n"})
    assert set(load_config(tmp_path).channels) == {"edge", "stable"}


def test_unknown_table_in_a_channel_file_is_named_with_a_guess(tmp_path: Path) -> None:
    write(tmp_path, {"channels/stable.toml": "[suport]\nmaintained-lines = 3\n"})
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value) == 'channels/stable.toml: suport: unknown key; did you mean "support"?'
    assert "tag-format" in (info.value.hint or "")


@pytest.mark.parametrize("name", ["../edge", "Edge", "a/b", ".hidden", ""])
def test_channel_names_are_safe_path_components(tmp_path: Path, name: str) -> None:
    write(tmp_path, {"channels/x.toml": f"name = {name!r}\nkind = 'stable'\n"})
    with pytest.raises(ConfigError, match=r"channels/x\.toml: name: expected"):
        load_config(tmp_path)


def test_a_file_name_that_is_no_channel_name_is_named(tmp_path: Path) -> None:
    write(tmp_path, {"channels/My Channel.toml": "kind = 'stable'\n"})
    with pytest.raises(ConfigError, match=r"My Channel\.toml: the file name .*: expected"):
        load_config(tmp_path)
