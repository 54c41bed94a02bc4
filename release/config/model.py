"""The configuration schema itself: frozen dataclasses whose fields are settings.

Each field made with :func:`~release.config.schema.setting` is a TOML key, with
its type and a one-line doc; ``release config`` and the loader read them from
here. To add a key, add one such field to the dataclass of its table — nothing
else needs to change for it to be validated, merged and printed with its source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from release.config.schema import (
    Bool,
    Day,
    Int,
    Parsed,
    Str,
    StrList,
    StrMap,
    Table,
    TableMap,
    Tables,
    setting,
)
from release.errors import ConfigError, ReleaseError
from release.versions import Line, TagFormat, parse_line

if TYPE_CHECKING:
    from release.channel.backends.location import S3Location

DEFAULT_EDGE_TAG = "edge-{yy}.{m}.{n}"
DEFAULT_STABLE_TAG = "stable-{version}"
DEFAULT_BRANCH_FORMAT = "{major}.{minor}.x"
DEV_ISSUER = "https://dev.invalid"
PUBLISH_TARGETS = ("directory", "pages", "release-assets", "s3")


def _line_name(text: str) -> str | None:
    try:
        return str(parse_line(text))
    except ReleaseError:
        return None


def _url_problem(text: str) -> str | None:
    if not text.startswith(("https://", "http://")):
        return "expected an http(s) URL"
    if "@" in text.split("/", 3)[2]:
        return "expected no credentials in the URL"
    return None


def _branch_format_problem(text: str) -> str | None:
    if "{minor}" not in text and "{line}" not in text:
        return "expected {minor} or {line} in it"
    try:
        text.format(major=1, minor=2, line="1.2")
    except (KeyError, IndexError, ValueError):
        return "expected only the placeholders {major}, {minor} and {line}"
    return None


def _channel_name_problem(text: str) -> str | None:
    # the name becomes a path in the channel store and a TUF role: no separators, no dots first
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", text):
        return "expected a channel name of lowercase letters, digits, - and _"
    return None


def _location_problem(check: str) -> Callable[[str], str | None]:
    """``release.channel.backends.location.<check>`` as a problem finder; the module is
    imported when a value is checked (an S3 table), not by every reader of documents."""

    def problem(text: str) -> str | None:
        from release.channel.backends import location

        try:
            getattr(location, check)(text)
        except ConfigError as exc:
            return exc.message
        return None

    return problem


_bucket_problem = _location_problem("check_bucket")
_prefix_problem = _location_problem("check_prefix")
_endpoint_problem = _location_problem("check_endpoint")


def _target(text: str) -> bool:
    return text.count("-") == 1 and all(text.split("-"))


TAG_FORMAT = Parsed(
    TagFormat, "a tag format such as edge-{yy}.{m}.{n} or v{version}", lambda t: t.template
)
LINE = Parsed(parse_line, 'a line "X.Y"')


@dataclass(frozen=True)
class Identity:
    """An exact Sigstore identity: certificate SAN and OIDC issuer."""

    identity: str = setting("identity", Str(), doc="certificate SAN", required=True)
    issuer: str = setting("issuer", Str(), doc="OIDC issuer URL", required=True)

    def for_line(self, line: Line | str) -> Identity:
        """Fill the only template there is, ``{line}``."""
        return Identity(self.identity.replace("{line}", str(line)), self.issuer)


@dataclass(frozen=True)
class LineSupport:
    released: date | None = setting("released", Day(), None, "the line's first release day")
    eol: date | None = setting("eol", Day(), None, "the line's end-of-life day")

    def check_settings(self) -> str | None:
        if self.released and self.eol and self.eol < self.released:
            return "eol is before released"
        return None


@dataclass(frozen=True)
class SupportPolicy:
    """How long stable lines are supported: a count, a date rule, or explicit dates."""

    maintained_lines: int = setting(
        "maintained-lines", Int(minimum=1), 2, "lines supported at once (newest active)"
    )
    lines: Mapping[str, LineSupport] = setting(
        "lines",
        TableMap(LineSupport, _line_name, 'a table of lines "X.Y" = {released, eol}'),
        doc="explicit dates per line",
        factory=lambda: MappingProxyType({}),
    )
    eol_months: int | None = setting(
        "eol-months",
        Int(minimum=1),
        None,
        "date rule: maintenance from the next line's .0, end of life this many months later",
    )


@dataclass(frozen=True)
class PublishSettings:
    """Where a channel's store goes besides the local directory."""

    target: str = setting("target", Str(choices=PUBLISH_TARGETS), "directory", "store backend")
    pages_branch: str = setting("pages-branch", Str(), "gh-pages", "branch served as pages")
    url: str | None = setting(
        "url",
        Str(check=_url_problem, expected="an http(s) URL without credentials"),
        None,
        "where the store is served (absolute links in install.sh and feeds)",
    )
    # target = "s3" (credentials come from the AWS environment / config chain, never here)
    bucket: str | None = setting("bucket", Str(check=_bucket_problem), None, "S3 bucket")
    prefix: str = setting(
        "prefix", Str(empty=True, check=_prefix_problem), "", "key prefix of the store"
    )
    endpoint_url: str | None = setting(
        "endpoint-url",
        Str(check=_endpoint_problem),
        None,
        "S3-compatible endpoint (R2, GCS, MinIO…)",
    )
    region: str | None = setting("region", Str(), None, "S3 region")

    def check_settings(self) -> str | None:
        if self.target == "s3" and self.bucket is None:
            return 'target = "s3" needs bucket = "…"'
        return None

    @property
    def s3(self) -> S3Location | None:
        """The S3 location of ``target = "s3"`` (else None)."""
        if self.target != "s3" or self.bucket is None:
            return None
        from release.channel.backends.location import S3Location

        return S3Location(self.bucket, self.prefix, self.endpoint_url, self.region)


@dataclass(frozen=True)
class ChannelConfig:
    """One channel: ``channels/NAME.toml`` merged over the defaults for NAME."""

    name: str = setting(
        "name", Str(check=_channel_name_problem), doc="channel name (default: the file name)"
    )
    kind: str = setting("kind", Str(choices=("edge", "stable", "none")), doc="edge|stable|none")
    tag_format: TagFormat = setting("tag-format", TAG_FORMAT, doc="how release tags are named")
    branch: str = setting("branch", Str(), "main", "the development branch")
    description: str = setting("description", Str(empty=True), "", "one line for people")
    branch_format: str = setting(
        "branch-format",
        Str(check=_branch_format_problem),
        DEFAULT_BRANCH_FORMAT,
        "stable line branches, e.g. release/stable-{major}.{minor}",
    )
    prerelease: bool = setting("prerelease", Bool(), False, "mark GitHub releases pre-release")
    signer: Identity | None = setting(
        "signer", Table(Identity, optional=True), None, "identity that signs in CI"
    )
    dev_signer: Identity | None = setting(
        "dev-signer", Table(Identity, optional=True), None, "identity of --sign dev"
    )
    support: SupportPolicy = setting(
        "support", Table(SupportPolicy), doc="support phases", factory=SupportPolicy
    )
    publish: PublishSettings = setting(
        "publish", Table(PublishSettings), doc="publication", factory=PublishSettings
    )
    path: Path | None = None

    def check_settings(self) -> str | None:
        if self.kind in ("edge", "stable") and self.tag_format.kind != self.kind:
            return f"tag-format {self.tag_format.template!r} is not a {self.kind} format"
        return None

    @property
    def publish_target(self) -> str:
        return self.publish.target

    @property
    def pages_branch(self) -> str:
        return self.publish.pages_branch

    @property
    def publish_url(self) -> str | None:
        """``[publish] url`` without a trailing slash, or None."""
        return self.publish.url.rstrip("/") if self.publish.url else None

    @property
    def publish_s3(self) -> S3Location | None:
        return self.publish.s3

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

    name: str = setting("name", Str(), "", "shown in logs (default: build1, build2, …)")
    command: tuple[str, ...] = setting(
        "command",
        StrList(nonempty=True, split=True, expected="a non-empty array of strings (or a string)"),
        (),
        "argv, with placeholders",
        required=True,
    )
    artifacts: tuple[str, ...] = setting(
        "artifacts",
        StrList(nonempty=True, expected="an array listing the file names the command makes"),
        (),
        "file names the command makes",
        required=True,
    )
    env: Mapping[str, str] = setting(
        "env", StrMap(), doc="extra environment", factory=lambda: MappingProxyType({})
    )
    targets: tuple[str, ...] = setting(
        "targets",
        StrList(check=_target, expected="an array of OS-ARCH strings such as linux-amd64"),
        (),
        "OS-ARCH pairs; empty: one build for the host",
    )


@dataclass(frozen=True)
class HistorySettings:
    """``[history]``: explicit choices about tags that parse as releases."""

    ignore_tags: tuple[str, ...] = setting(
        "ignore-tags", StrList(), (), "tags never counted as releases (e.g. a stray tag)"
    )
    keep_tags: tuple[str, ...] = setting(
        "keep-tags", StrList(), (), "tags counted as releases although out of order"
    )


@dataclass(frozen=True)
class ProjectConfig:
    """``release.toml`` or ``[tool.release]``, with the channels it configures."""

    root: Path = Path(".")
    channels: Mapping[str, ChannelConfig] = field(default_factory=lambda: MappingProxyType({}))
    project: str = setting("project", Str(), "", "project name (default: the directory name)")
    repository: str | None = setting("repository", Str(), None, "URL for links and GitHub")
    changelog: str = setting("changelog", Str(), "CHANGELOG.md", "Keep a Changelog file")
    changelog_commit: bool = setting(
        "changelog-commit", Bool(), False, "commit the release section to the changelog"
    )
    channels_dir: str = setting("channels-dir", Str(), "channels", "where channels/*.toml live")
    out: str = setting("out", Str(), "dist/channel", "the local channel store")
    builds: tuple[BuildSpec, ...] = setting(
        "build", Tables(BuildSpec), (), "[[build]] commands and their artifacts"
    )
    first_line: Line = setting("first-line", LINE, Line(1, 0), "the first stable line")
    history: HistorySettings = setting(
        "history", Table(HistorySettings), doc="anomalous tags", factory=HistorySettings
    )
    # Where each effective value came from, and what the loader decided (for `release config`).
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()
    config_file: str | None = None

    @property
    def ignore_tags(self) -> tuple[str, ...]:
        return self.history.ignore_tags

    @property
    def keep_tags(self) -> tuple[str, ...]:
        return self.history.keep_tags

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
        raise ConfigError(
            "no edge channel is configured",
            hint='remove kind = "none" from channels/edge.toml, or add an edge channel',
        )

    def stable_channels(self) -> list[ChannelConfig]:
        return [ch for ch in self.channels.values() if ch.kind == "stable"]

    @property
    def stable(self) -> ChannelConfig:
        """The first stable channel (``stable`` when it exists)."""
        if "stable" in self.channels and self.channels["stable"].kind == "stable":
            return self.channels["stable"]
        stables = self.stable_channels()
        if not stables:
            raise ConfigError(
                "no stable channel is configured",
                hint='remove kind = "none" from channels/stable.toml, or add a stable channel',
            )
        return stables[0]
