"""Reading the configuration files and merging them over the defaults.

Where configuration lives:

- project settings: ``release.toml`` at the repository root, *or* ``[tool.release]``
  in ``pyproject.toml`` (both at once is an error);
- channels: one ``channels/NAME.toml`` each (``channels/trust.toml`` is not a
  channel: it holds the trust root settings).

Every repository starts from Linkerd's two channels, ``edge`` (``edge-{yy}.{m}.{n}``
from ``main``) and ``stable`` (``stable-{version}`` on ``{major}.{minor}.x``). A
channel file overrides only the keys it sets. A default channel stays in force
unless a file disables it (``kind = "none"``) or defines another channel of the
same kind under another name (``channels/nightly.toml`` with ``kind = "edge"``
replaces the default edge channel). ``release config`` shows each decision.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from release.config.model import (
    DEFAULT_EDGE_TAG,
    DEFAULT_STABLE_TAG,
    DEV_ISSUER,
    ChannelConfig,
    ProjectConfig,
)
from release.config.schema import (
    DEFAULT_SOURCE,
    Layer,
    Sources,
    Str,
    build,
    check_unknown,
    settings_of,
)
from release.config.schema import type_error as _type_error
from release.errors import ConfigError

CONFIG_FILE = "release.toml"
#: Files in the channels directory that are not channels (they have their own schema).
RESERVED_CHANNEL_FILES = frozenset({"trust.toml"})
#: The default channels (Linkerd's conventions): name -> kind.
DEFAULT_CHANNELS: Mapping[str, str] = MappingProxyType({"edge": "edge", "stable": "stable"})


def read_toml(path: Path, shown: str | None = None) -> dict[str, Any]:
    """Parse a TOML file. Raises :class:`ConfigError` naming the file (as ``shown``)."""
    import tomllib  # only where a file is read: not on a consumer's read path

    shown = shown or str(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {shown}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown} is not valid TOML: {exc}") from exc


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _project_name(root: Path) -> Layer:
    """The default project name: ``[project] name`` of pyproject.toml, else the directory."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        name = read_toml(pyproject, "pyproject.toml").get("project", {})
        if isinstance(name, Mapping) and isinstance(name.get("name"), str) and name["name"]:
            return Layer("default (pyproject.toml [project] name)", {"project": name["name"]})
    return Layer("default (the directory name)", {"project": root.name})


def project_layer(root: Path) -> Layer | None:
    """The project settings file as a layer: ``release.toml`` or ``[tool.release]``.

    Raises :class:`ConfigError` when both exist or either is malformed.
    """
    tool_table: Mapping[str, Any] | None = None
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = read_toml(pyproject, "pyproject.toml")
        tool = data.get("tool")
        if tool is not None and not isinstance(tool, Mapping):
            raise _type_error("pyproject.toml: tool", "a table ([tool])", tool)
        if tool is not None and "release" in tool:
            tool_table = tool["release"]
            if not isinstance(tool_table, Mapping):
                raise _type_error(
                    "pyproject.toml: [tool] release",
                    "a table ([tool.release])",
                    tool_table,
                    hint="write [tool.release] and one key = value per line below it",
                )
    release_toml = root / CONFIG_FILE
    if release_toml.is_file():
        if tool_table is not None:
            raise ConfigError(
                "both release.toml and [tool.release] in pyproject.toml configure this project",
                hint="keep one: move the keys of [tool.release] into release.toml "
                "(without the prefix) and delete the table, or delete release.toml",
            )
        return Layer(CONFIG_FILE, read_toml(release_toml, CONFIG_FILE), CONFIG_FILE)
    if tool_table is not None:
        return Layer(
            "pyproject.toml [tool.release]", tool_table, "pyproject.toml", ("tool", "release")
        )
    return None


def _default_layer(name: str, kind: str) -> Layer:
    table: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "tag-format": DEFAULT_EDGE_TAG if kind == "edge" else DEFAULT_STABLE_TAG,
        "prerelease": kind == "edge",
        "dev-signer": {"identity": f"{name}@dev.invalid", "issuer": DEV_ISSUER},
    }
    return Layer(DEFAULT_SOURCE, table)


@dataclasses.dataclass(frozen=True)
class _File:
    path: Path
    layer: Layer
    name: str
    kind: str


def _read_channel_file(path: Path, root: Path) -> _File:
    rel = _rel(path, root)
    raw = read_toml(path, rel)
    layer = Layer(rel, raw, rel)
    name_type = settings_of(ChannelConfig)["name"][1].type
    if "name" in raw:
        name = name_type.convert(raw["name"], layer.where("name"))
    else:
        name = name_type.convert(path.stem, f"{rel}: the file name (the channel's name)")
    if "kind" in raw:
        kind = Str(choices=("edge", "stable", "none")).convert(raw["kind"], layer.where("kind"))
    else:
        kind = DEFAULT_CHANNELS.get(name) or ("edge" if name.startswith("edge") else "stable")
    return _File(path, layer, name, kind)


def build_channel(file: _File | None, name: str, kind: str, sources: Sources) -> ChannelConfig:
    layers = [_default_layer(name, kind)]
    fixed: dict[str, Any] = {}
    if file is not None:
        layers.append(file.layer)
        fixed["path"] = file.path
    return build(ChannelConfig, layers, f"channels.{name}", sources, fixed)


def load_channel(path: Path) -> ChannelConfig:
    """Load one ``channels/NAME.toml`` over the defaults for its name.

    Raises :class:`ConfigError` (also for a channel disabled with ``kind = "none"``).
    """
    file = _read_channel_file(path, path.parent)
    if file.kind == "none":
        raise ConfigError(f'{path}: the channel {file.name!r} is disabled (kind = "none")')
    return build_channel(file, file.name, file.kind, {})


def load_channels(
    channels_dir: Path, root: Path, sources: Sources, notes: list[str]
) -> dict[str, ChannelConfig]:
    """Every channel in force: the files in ``channels_dir`` merged over the defaults."""
    files: dict[str, _File] = {}
    paths = sorted(channels_dir.glob("*.toml")) if channels_dir.is_dir() else []
    for path in paths:
        if path.name in RESERVED_CHANNEL_FILES:
            continue
        file = _read_channel_file(path, root)
        if file.name in files:
            other = _rel(files[file.name].path, root)
            raise ConfigError(
                f"{file.layer.where()}: channel {file.name!r} is defined twice (also in {other})",
                hint="each channel has one file; set a different name = … in one of them",
            )
        files[file.name] = file
    channels: dict[str, ChannelConfig] = {}
    for name, default_kind in DEFAULT_CHANNELS.items():
        if name in files:
            continue
        others = sorted(n for n, f in files.items() if f.kind == default_kind)
        if others:
            notes.append(
                f"the default {name} channel gives way to {', '.join(others)} "
                f"(a {default_kind} channel); add channels/{name}.toml to keep it"
            )
            continue
        notes.append(f"channel {name}: Linkerd defaults (no channels/{name}.toml)")
        channels[name] = build_channel(None, name, default_kind, sources)
    for name, file in sorted(files.items()):
        if file.kind == "none":
            check_unknown(ChannelConfig, file.layer)
            notes.append(f'channel {name}: disabled by {file.layer.source} (kind = "none")')
            continue
        channels[name] = build_channel(file, name, file.kind, sources)
    edges = sorted(c.name for c in channels.values() if c.kind == "edge")
    if len(edges) > 1:
        raise ConfigError(
            f"more than one edge channel: {', '.join(edges)}",
            hint='keep one; disable the default one with kind = "none" in channels/edge.toml',
        )
    return dict(sorted(channels.items()))


def load_config(root: Path) -> ProjectConfig:
    """Load the configuration of the repository at ``root``. Raises :class:`ConfigError`."""
    root = root.resolve()
    sources: Sources = {}
    layers = [_project_name(root)]
    file_layer = project_layer(root)
    if file_layer is not None:
        layers.append(file_layer)
    config = build(ProjectConfig, layers, "", sources, {"root": root})
    builds = tuple(
        b if b.name else dataclasses.replace(b, name=f"build{i + 1}")
        for i, b in enumerate(config.builds)
    )
    notes: list[str] = []
    channels = load_channels(root / config.channels_dir, root, sources, notes)
    return dataclasses.replace(
        config,
        builds=builds,
        channels=MappingProxyType(channels),
        sources=MappingProxyType(sources),
        notes=tuple(notes),
        config_file=None if file_layer is None else file_layer.source,
    )


def default_channels() -> dict[str, ChannelConfig]:
    """Linkerd's conventions, for repositories without channels/*.toml."""
    return {name: build_channel(None, name, kind, {}) for name, kind in DEFAULT_CHANNELS.items()}
