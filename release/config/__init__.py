"""Configuration: one typed schema for ``release.toml``, ``[tool.release]`` and ``channels/*.toml``.

- :mod:`release.config.schema` — the engine: settings declared on dataclasses, read
  from layers (defaults first, files last), unknown keys refused with a "did you
  mean", one error naming file, key, expected and got, and the source of each value.
- :mod:`release.config.model` — the schema itself: :class:`ProjectConfig`,
  :class:`ChannelConfig` and their tables.
- :mod:`release.config.load` — which files exist, and how they merge over Linkerd's
  defaults.

**Adding a key is one line**: a field on the dataclass of its table in
:mod:`release.config.model`, made with :func:`~release.config.schema.setting`::

    # [publish] bucket = "releases" in channels/NAME.toml
    bucket: str | None = setting("bucket", Str(), None, "S3 bucket of the store")

It is then type-checked, merged over the defaults, suggested for typos and printed
with its source by ``release config``. A new *table* is a new settings dataclass
plus one :class:`~release.config.schema.Table` field pointing at it. A new file with
its own schema (e.g. ``channels/trust.toml``) reads it with
:func:`load_settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from release.config.load import (
    CONFIG_FILE,
    DEFAULT_CHANNELS,
    RESERVED_CHANNEL_FILES,
    default_channels,
    load_channel,
    load_config,
    read_toml,
)
from release.config.model import (
    DEFAULT_BRANCH_FORMAT,
    DEFAULT_EDGE_TAG,
    DEFAULT_STABLE_TAG,
    DEV_ISSUER,
    BuildSpec,
    ChannelConfig,
    HistorySettings,
    Identity,
    LineSupport,
    ProjectConfig,
    PublishSettings,
    SupportPolicy,
)
from release.config.schema import Layer, Value, build, effective, setting

T = TypeVar("T")

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_BRANCH_FORMAT",
    "DEFAULT_CHANNELS",
    "DEFAULT_EDGE_TAG",
    "DEFAULT_STABLE_TAG",
    "DEV_ISSUER",
    "RESERVED_CHANNEL_FILES",
    "BuildSpec",
    "ChannelConfig",
    "HistorySettings",
    "Identity",
    "LineSupport",
    "ProjectConfig",
    "PublishSettings",
    "SupportPolicy",
    "Value",
    "default_channels",
    "effective_values",
    "load_channel",
    "load_config",
    "load_settings",
    "read_toml",
    "setting",
]


def load_settings(cls: type[T], path: Path, root: Path | None = None) -> T:
    """Read one TOML file into the settings dataclass ``cls`` (the whole file is its table).

    Same checks as every other file: types, unknown keys, file and key in errors.
    Raises :class:`~release.errors.ConfigError`.
    """
    name = str(path if root is None else path.relative_to(root))
    return build(cls, [Layer(name, read_toml(path), name)], "", {})


def effective_values(config: ProjectConfig) -> list[Value]:
    """Every effective setting of ``config`` and its channels, each with its source."""
    values = effective(config, (), config.sources)
    for name, channel in config.channels.items():
        values += effective(channel, ("channels", name), config.sources)
    return values
