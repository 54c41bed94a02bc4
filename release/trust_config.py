"""``channels/trust.toml``: who holds the root of trust of the channels, and for how long
each role's metadata is valid.

```toml
[root]                      # the TUF root (and top-level targets) maintainers
threshold = 1
identities = [{ identity = "…", issuer = "…" }]

[dev]                       # what --sign dev uses on the local dev Sigstore instance
threshold = 1
identities = [{ identity = "root@dev.invalid", issuer = "https://dev.invalid" }]

[expires]                   # days
timestamp = 2
snapshot = 7
channel = 30                # channel and line roles
targets = 365
root = 365
```

A repository without the file gets the dev section's defaults and no production
root (``release trust init`` then says what to declare). The file is read through the
project's configuration schema (:mod:`release.config.schema`): unknown keys get a "did
you mean", and every error names the file, the key, what was expected and what was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from release.channel.tuf.metadata import Expiry
from release.config import Identity
from release.config.load import read_toml
from release.config.schema import DEFAULT_SOURCE, Int, Layer, Table, Tables, Type, build, setting
from release.config.schema import type_error as _type_error
from release.errors import ConfigError

TRUST_FILE = "trust.toml"
DEV_ROOT = Identity("root@dev.invalid", "https://dev.invalid")


@dataclass(frozen=True)
class RootHolders:
    identities: tuple[Identity, ...]
    threshold: int


@dataclass(frozen=True)
class TrustConfig:
    """The parsed ``channels/trust.toml`` (``path`` None: the file does not exist)."""

    root: RootHolders
    dev: RootHolders
    expiry: Expiry
    path: Path | None = None

    def holders(self, dev: bool) -> RootHolders:
        """The root maintainers for dev or real signing. Raises :class:`ConfigError`."""
        holders = self.dev if dev else self.root
        if not holders.identities:
            where = self.path or "channels/trust.toml"
            raise ConfigError(
                f"{where} declares no [root] identities",
                hint="list the maintainers' Sigstore identities under [root] identities",
            )
        return holders


class _Days(Type):
    expected = "a positive number of days"

    def convert(self, value: Any, where: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise _type_error(where, self.expected, value)
        return timedelta(days=value)

    def dump(self, value: Any) -> Any:
        return value / timedelta(days=1)


@dataclass(frozen=True)
class HolderSettings:
    """``[root]`` and ``[dev]``: who holds the root, and how many of them must sign."""

    threshold: int = setting("threshold", Int(minimum=1), 1, "signatures a new root needs")
    identities: tuple[Identity, ...] = setting(
        "identities", Tables(Identity), (), "maintainers: [{ identity = …, issuer = … }]"
    )

    def check_settings(self) -> str | None:
        seen: set[Identity] = set()
        for ident in self.identities:
            if "{line}" in ident.identity:
                return f"identities: a root identity has no {{line}} ({ident.identity})"
            if ident in seen:
                return f"identities lists {ident.identity} twice"
            seen.add(ident)
        if self.identities and self.threshold > len(self.identities):
            return (
                f"threshold {self.threshold} is more than the "
                f"{len(self.identities)} identities listed"
            )
        return None


@dataclass(frozen=True)
class ExpirySettings:
    """``[expires]``: how long each role's metadata is valid, in days."""

    timestamp: timedelta = setting("timestamp", _Days(), timedelta(days=2), "timestamp role")
    snapshot: timedelta = setting("snapshot", _Days(), timedelta(days=7), "snapshot role")
    channel: timedelta = setting("channel", _Days(), timedelta(days=30), "channel/line roles")
    targets: timedelta = setting("targets", _Days(), timedelta(days=365), "top-level targets")
    root: timedelta = setting("root", _Days(), timedelta(days=365), "root role")

    def check_settings(self) -> str | None:
        if self.timestamp > self.snapshot:
            return "the timestamp must not outlive the snapshot"
        return None


@dataclass(frozen=True)
class TrustSettings:
    """The whole of ``channels/trust.toml``."""

    root: HolderSettings = setting(
        "root", Table(HolderSettings), doc="root maintainers", factory=HolderSettings
    )
    dev: HolderSettings = setting(
        "dev", Table(HolderSettings), doc="dev root (--sign dev)", factory=HolderSettings
    )
    expires: ExpirySettings = setting(
        "expires", Table(ExpirySettings), doc="metadata validity", factory=ExpirySettings
    )


_DEFAULTS = Layer(
    DEFAULT_SOURCE,
    {"dev": {"identities": [{"identity": DEV_ROOT.identity, "issuer": DEV_ROOT.issuer}]}},
)


def load_trust(channels_dir: Path) -> TrustConfig:
    """``channels_dir/trust.toml``, or the defaults. Raises :class:`ConfigError`."""
    path = channels_dir / TRUST_FILE
    shown = f"{channels_dir.name}/{TRUST_FILE}"
    layers = [_DEFAULTS]
    if path.is_file():
        layers.append(Layer(shown, read_toml(path, shown), shown))
    settings = build(TrustSettings, layers, "trust", {})
    e = settings.expires
    try:
        expiry = Expiry(e.timestamp, e.snapshot, e.channel, e.targets, e.root)
    except ConfigError as exc:
        raise ConfigError(f"{shown}: [expires] {exc.message}") from None
    return TrustConfig(
        root=RootHolders(settings.root.identities, settings.root.threshold),
        dev=RootHolders(settings.dev.identities, settings.dev.threshold),
        expiry=expiry,
        path=path if path.is_file() else None,
    )


def channels_dir_of(config: Any) -> Path:
    """Where ``channels/*.toml`` (and ``trust.toml``) live for a loaded ``ProjectConfig``."""
    return Path(config.root) / str(getattr(config, "channels_dir", "channels"))
