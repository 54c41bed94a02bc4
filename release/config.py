"""Configuration: ``[tool.release]`` in pyproject.toml and ``channels/*.toml``.

Everything is loaded into frozen, validated dataclasses. A repository with no
configuration at all gets Linkerd's conventions: an ``edge`` channel tagged
``edge-{yy}.{m}.{n}`` and a ``stable`` channel tagged ``stable-{version}`` on
branches ``{major}.{minor}.x``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from release.errors import ConfigError, InvalidVersion
from release.versions import Line, TagFormat, parse_line

DEFAULT_EDGE_TAG = "edge-{yy}.{m}.{n}"
DEFAULT_STABLE_TAG = "stable-{version}"
DEFAULT_BRANCH_FORMAT = "{major}.{minor}.x"
DEV_ISSUER = "https://dev.invalid"


@dataclass(frozen=True)
class Identity:
    """An exact Sigstore identity: certificate SAN and OIDC issuer."""

    identity: str
    issuer: str

    def for_line(self, line: Line | str) -> Identity:
        """Fill the only template there is, ``{line}``."""
        return Identity(self.identity.replace("{line}", str(line)), self.issuer)


@dataclass(frozen=True)
class LineSupport:
    released: date | None = None
    eol: date | None = None


@dataclass(frozen=True)
class SupportPolicy:
    """How long stable lines are supported: a count, or explicit dates per line."""

    maintained_lines: int = 2
    lines: Mapping[str, LineSupport] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    kind: str  # "edge" | "stable"
    tag_format: TagFormat
    branch: str = "main"
    description: str = ""
    branch_format: str = DEFAULT_BRANCH_FORMAT
    prerelease: bool = False
    signer: Identity | None = None
    dev_signer: Identity | None = None
    support: SupportPolicy = field(default_factory=SupportPolicy)
    publish_target: str = "directory"
    pages_branch: str = "gh-pages"
    path: Path | None = None

    def branch_for(self, line: Line) -> str:
        """The branch of a stable line, e.g. ``2.15.x``."""
        return self.branch_format.format(major=line.major, minor=line.minor, line=str(line))

    def expected_signer(self, dev: bool) -> Identity:
        """The identity bundles of this channel must carry. Raises :class:`ConfigError`."""
        ident = self.dev_signer if dev else self.signer
        if ident is None:
            which = "dev-signer" if dev else "signer"
            raise ConfigError(
                f"channel {self.name!r} declares no [{which}] identity",
                hint=f"add [{which}] identity = … and issuer = … to channels/{self.name}.toml",
            )
        return ident


@dataclass(frozen=True)
class BuildSpec:
    """One build command. Placeholders: {version} {pep440} {tag} {os} {arch} {out} {python}."""

    name: str
    command: tuple[str, ...]
    artifacts: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    targets: tuple[str, ...] = ()  # "os-arch" pairs; empty: one build for the host


@dataclass(frozen=True)
class ProjectConfig:
    root: Path
    project: str
    channels: Mapping[str, ChannelConfig]
    repository: str | None = None
    changelog: str = "CHANGELOG.md"
    changelog_commit: bool = False
    out: str = "dist/channel"
    builds: tuple[BuildSpec, ...] = ()
    first_line: Line = Line(1, 0)

    def channel(self, name: str) -> ChannelConfig:
        """The channel called ``name``. Raises :class:`ConfigError`."""
        try:
            return self.channels[name]
        except KeyError:
            known = ", ".join(sorted(self.channels)) or "none"
            raise ConfigError(f"unknown channel {name!r}", hint=f"channels: {known}") from None

    @property
    def edge(self) -> ChannelConfig:
        for ch in self.channels.values():
            if ch.kind == "edge":
                return ch
        raise ConfigError("no edge channel is configured", hint="add channels/edge.toml")

    def stable_channels(self) -> list[ChannelConfig]:
        return [ch for ch in self.channels.values() if ch.kind == "stable"]

    @property
    def stable(self) -> ChannelConfig:
        """The first stable channel (``stable`` when it exists)."""
        if "stable" in self.channels and self.channels["stable"].kind == "stable":
            return self.channels["stable"]
        stables = self.stable_channels()
        if not stables:
            raise ConfigError("no stable channel is configured", hint="add channels/stable.toml")
        return stables[0]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def _str(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return value


def _identity(table: Any, where: str) -> Identity | None:
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table with identity and issuer")
    return Identity(_str(table, "identity", where), _str(table, "issuer", where))


def _date(value: Any, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    raise ConfigError(f"{where} must be a TOML date (YYYY-MM-DD)")


def _support(table: Mapping[str, Any], where: str) -> SupportPolicy:
    count = table.get("maintained-lines", 2)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ConfigError(f"{where}.maintained-lines must be a positive integer")
    lines: dict[str, LineSupport] = {}
    for key, entry in dict(table.get("lines", {})).items():
        try:
            line = parse_line(key)
        except Exception:
            raise ConfigError(f"{where}.lines: {key!r} is not a line X.Y") from None
        released = _date(entry.get("released"), f"{where}.lines.{key}.released")
        eol = _date(entry.get("eol"), f"{where}.lines.{key}.eol")
        if released and eol and eol < released:
            raise ConfigError(f"{where}.lines.{key}: eol is before released")
        lines[str(line)] = LineSupport(released, eol)
    return SupportPolicy(count, MappingProxyType(lines))


def load_channel(path: Path) -> ChannelConfig:
    """Load one ``channels/NAME.toml``. Raises :class:`ConfigError`."""
    data = _read_toml(path)
    where = str(path)
    name = _str(data, "name", where, path.stem)
    kind = _str(data, "kind", where, "edge" if name.startswith("edge") else "stable")
    if kind not in ("edge", "stable"):
        raise ConfigError(f"{where}: kind must be 'edge' or 'stable', not {kind!r}")
    default_tag = DEFAULT_EDGE_TAG if kind == "edge" else DEFAULT_STABLE_TAG
    try:
        tag_format = TagFormat(_str(data, "tag-format", where, default_tag))
    except InvalidVersion as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if tag_format.kind != kind:
        raise ConfigError(f"{where}: tag-format {tag_format.template!r} is not a {kind} format")
    publish = data.get("publish", {})
    target = publish.get("target", "directory")
    if target not in ("directory", "pages", "release-assets"):
        raise ConfigError(f"{where}: publish.target must be directory, pages or release-assets")
    branch_format = _str(data, "branch-format", where, DEFAULT_BRANCH_FORMAT)
    if "{minor}" not in branch_format and "{line}" not in branch_format:
        raise ConfigError(f"{where}: branch-format must contain {{minor}} or {{line}}")
    return ChannelConfig(
        name=name,
        kind=kind,
        tag_format=tag_format,
        branch=_str(data, "branch", where, "main"),
        description=str(data.get("description", "")),
        branch_format=branch_format,
        prerelease=bool(data.get("prerelease", kind == "edge")),
        signer=_identity(data.get("signer"), f"{where} [signer]"),
        dev_signer=_identity(data.get("dev-signer"), f"{where} [dev-signer]")
        or Identity(f"{name}@dev.invalid", DEV_ISSUER),
        support=_support(data.get("support", {}), f"{where} [support]"),
        publish_target=target,
        pages_branch=_str(publish, "pages-branch", where, "gh-pages"),
        path=path,
    )


def default_channels() -> dict[str, ChannelConfig]:
    """Linkerd's conventions, for repositories without channels/*.toml."""
    return {
        "edge": ChannelConfig(
            "edge",
            "edge",
            TagFormat(DEFAULT_EDGE_TAG),
            prerelease=True,
            dev_signer=Identity("edge@dev.invalid", DEV_ISSUER),
        ),
        "stable": ChannelConfig(
            "stable",
            "stable",
            TagFormat(DEFAULT_STABLE_TAG),
            dev_signer=Identity("stable@dev.invalid", DEV_ISSUER),
        ),
    }


def _builds(raw: Any) -> tuple[BuildSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("[[tool.release.build]] must be an array of tables")
    specs = []
    for i, entry in enumerate(raw):
        where = f"[[tool.release.build]] #{i + 1}"
        cmd = entry.get("command")
        if isinstance(cmd, str):
            cmd = cmd.split()
        if not isinstance(cmd, list) or not cmd or not all(isinstance(c, str) for c in cmd):
            raise ConfigError(f"{where}: command must be a non-empty list of strings")
        arts = entry.get("artifacts")
        if not isinstance(arts, list) or not arts or not all(isinstance(a, str) for a in arts):
            raise ConfigError(f"{where}: artifacts must list the file names the command makes")
        env = entry.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise ConfigError(f"{where}: env must be a table of strings")
        targets = entry.get("targets", [])
        if not isinstance(targets, list) or not all(
            isinstance(t, str) and t.count("-") == 1 for t in targets
        ):
            raise ConfigError(f"{where}: targets must be a list of OS-ARCH strings")
        specs.append(
            BuildSpec(
                name=str(entry.get("name", f"build{i + 1}")),
                command=tuple(cmd),
                artifacts=tuple(arts),
                env=MappingProxyType(dict(env)),
                targets=tuple(targets),
            )
        )
    return tuple(specs)


def load_config(root: Path) -> ProjectConfig:
    """Load the configuration of the repository at ``root``. Raises :class:`ConfigError`."""
    root = root.resolve()
    tool: dict[str, Any] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        tool = dict(_read_toml(pyproject).get("tool", {}).get("release", {}))
    channels_dir = root / str(tool.get("channels-dir", "channels"))
    channels: dict[str, ChannelConfig] = {}
    if channels_dir.is_dir():
        for path in sorted(channels_dir.glob("*.toml")):
            ch = load_channel(path)
            if ch.name in channels:
                raise ConfigError(f"{path}: channel {ch.name!r} is defined twice")
            channels[ch.name] = ch
    if not channels:
        channels = default_channels()
    edges = [c.name for c in channels.values() if c.kind == "edge"]
    if len(edges) > 1:
        raise ConfigError(f"more than one edge channel: {', '.join(edges)}")
    first_line_text = tool.get("first-line", "1.0")
    try:
        first_line = parse_line(str(first_line_text))
    except Exception:
        raise ConfigError(f"[tool.release] first-line {first_line_text!r} is not X.Y") from None
    return ProjectConfig(
        root=root,
        project=str(tool.get("project", root.name)),
        channels=MappingProxyType(channels),
        repository=tool.get("repository"),
        changelog=str(tool.get("changelog", "CHANGELOG.md")),
        changelog_commit=bool(tool.get("changelog-commit", False)),
        out=str(tool.get("out", "dist/channel")),
        builds=_builds(tool.get("build")),
        first_line=first_line,
    )
