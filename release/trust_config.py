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
root (``release trust init`` then says what to declare).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from release.channel.tuf.metadata import Expiry
from release.config import Identity
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


def _holders(table: Any, where: str, default: tuple[Identity, ...]) -> RootHolders:
    if table is None:
        return RootHolders(default, 1)
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = set(table) - {"threshold", "identities"}
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    raw = table.get("identities", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{where}.identities must be a list of {{identity, issuer}} tables")
    identities: list[Identity] = []
    for i, item in enumerate(raw):
        if (
            not isinstance(item, Mapping)
            or set(item) != {"identity", "issuer"}
            or not all(isinstance(item[k], str) and item[k] for k in ("identity", "issuer"))
        ):
            raise ConfigError(f'{where}.identities[{i}] must be {{ identity = "…", issuer = "…" }}')
        ident = Identity(item["identity"], item["issuer"])
        if "{line}" in ident.identity:
            raise ConfigError(f"{where}.identities[{i}]: a root identity has no {{line}}")
        if ident in identities:
            raise ConfigError(f"{where}.identities lists {ident.identity} twice")
        identities.append(ident)
    threshold = table.get("threshold", 1)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise ConfigError(f"{where}.threshold must be a positive integer")
    if identities and threshold > len(identities):
        raise ConfigError(
            f"{where}.threshold {threshold} is more than the {len(identities)} identities listed"
        )
    return RootHolders(tuple(identities), threshold)


def _expiry(table: Any, where: str) -> Expiry:
    if table is None:
        return Expiry()
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    values: dict[str, timedelta] = {}
    for key, value in table.items():
        if key not in ("timestamp", "snapshot", "channel", "targets", "root"):
            raise ConfigError(f"{where}: unknown role {key!r}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{where}.{key} must be a positive number of days")
        values[key] = timedelta(days=value)
    try:
        expiry = Expiry(**values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc.message}") from exc
    if expiry.timestamp > expiry.snapshot:
        raise ConfigError(f"{where}: the timestamp must not outlive the snapshot")
    return expiry


def load_trust(channels_dir: Path) -> TrustConfig:
    """``channels_dir/trust.toml``, or the defaults. Raises :class:`ConfigError`."""
    path = channels_dir / TRUST_FILE
    if not path.is_file():
        return TrustConfig(RootHolders((), 1), RootHolders((DEV_ROOT,), 1), Expiry())
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    unknown = set(data) - {"root", "dev", "expires"}
    if unknown:
        raise ConfigError(f"{path}: unknown table {sorted(unknown)[0]!r}")
    return TrustConfig(
        root=_holders(data.get("root"), f"{path} [root]", ()),
        dev=_holders(data.get("dev"), f"{path} [dev]", (DEV_ROOT,)),
        expiry=_expiry(data.get("expires"), f"{path} [expires]"),
        path=path,
    )


def channels_dir_of(config: Any) -> Path:
    """Where ``channels/*.toml`` (and ``trust.toml``) live for a loaded ``ProjectConfig``."""
    return Path(config.root) / str(getattr(config, "channels_dir", "channels"))
