"""Any TOML a user can write either loads or is one ConfigError: never another exception."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.config import ChannelConfig, ProjectConfig
from release.config.load import _default_layer
from release.config.schema import Layer, build, settings_of
from release.errors import ConfigError


def _keys(cls: type[Any]) -> list[str]:
    return list(settings_of(cls))


KEYS = sorted(
    {*_keys(ChannelConfig), *_keys(ProjectConfig), "identity", "issuer", "lines", "target"}
    | {"maintained-lines", "eol-months", "released", "eol", "command", "artifacts", "env"}
    | {"2.13", "2.x", "targets", "ignore-tags", "suport", "bucket", "url"}
)
SCALARS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["edge", "stable", "none", "pages", "s3", "edge-{yy}.{m}.{n}", "v{version}"]),
    st.sampled_from(["{major}.{minor}.x", "release/{line}", "https://x", "linux-amd64"]),
    st.integers(-3, 10**20),
    st.booleans(),
    st.floats(allow_nan=False),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    ),
    max_leaves=12,
)
TABLES = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6)


@settings(max_examples=150, deadline=None)
@given(TABLES)
def test_any_channel_file_loads_or_is_one_config_error(table: dict[str, Any]) -> None:
    layers = [_default_layer("stable", "stable"), Layer("stable.toml", table, "stable.toml")]
    try:
        build(ChannelConfig, layers, "channels.stable", {})
    except ConfigError as exc:
        message = exc.message
    else:
        return
    assert "\n" not in message
    assert message.startswith("stable.toml")


@settings(max_examples=150, deadline=None)
@given(TABLES)
def test_any_project_table_loads_or_is_one_config_error(table: dict[str, Any]) -> None:
    layer = Layer("pyproject.toml", table, "pyproject.toml", ("tool", "release"))
    try:
        build(ProjectConfig, [layer], "", {}, {"root": Path("/x")})
    except ConfigError as exc:
        message = exc.message
    else:
        return
    assert "\n" not in message
    # the file, then the table: [tool.release…] or, for arrays of tables,
    # [[tool.release.build]] #N
    assert message.startswith(("pyproject.toml: [tool.release", "pyproject.toml: [[tool.release"))


def test_a_value_with_a_newline_stays_on_one_line() -> None:
    layer = Layer("stable.toml", {"kind": "edge\nstable"}, "stable.toml")
    with pytest.raises(ConfigError) as info:
        build(ChannelConfig, [_default_layer("stable", "stable"), layer], "", {})
    assert info.value.message.endswith('got string "edge\\nstable"')
