"""Where the client's root of trust comes from: never from the server alone.

In order of precedence:

1. ``--root FILE``;
2. ``--root-sha256 HEX``: a root fetched from the store (``metadata/root.json``,
   ``metadata/1.root.json`` or another version of the chain) whose sha256 is HEX;
3. ``$RELEASE_CHANNEL_ROOT`` (a file);
4. ``channels/root.json`` of the repository the command runs in (``--repo``, default
   the current directory, or its nearest parent holding one);
5. ``--dev`` (a local dev-signed store): the store's ``metadata/1.root.json``, accepted
   only when it names the local dev Sigstore instance this machine runs (its trust
   config): nobody else can sign for that instance;
6. the root this client already trusts for the source (its state);
7. ``--trust-on-first-use``: whatever ``metadata/1.root.json`` the store serves,
   pinned and printed loudly.

Without any of these the client refuses to guess (:class:`UndecidedError`, exit 3).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from release.channel.fetch import Fetcher, NotFound, read_capped
from release.errors import ConfigError, TrustError, UndecidedError, UsageError

ROOT_MAX = 512 * 1024
REPO_ROOT = Path("channels") / "root.json"
ENV_ROOT = "RELEASE_CHANNEL_ROOT"
NO_ROOT_HINT = (
    "give the channel's root of trust out of band: --root FILE (or $RELEASE_CHANNEL_ROOT), "
    "run inside the project's repository (its channels/root.json), or --root-sha256 HEX "
    "to pin a root the store serves"
)


@dataclass(frozen=True)
class Anchor:
    """A root given out of band: its bytes, where it came from, and what it says."""

    data: bytes
    origin: str
    version: int
    tofu: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def identities(self) -> list[str]:
        """The identities (or key ids) of the root role's keys, for the TOFU message."""
        try:
            signed = json.loads(self.data)["signed"]
            keyids = signed["roles"]["root"]["keyids"]
            out = []
            for kid in keyids:
                val = signed["keys"][kid].get("keyval", {})
                out.append(str(val.get("identity") or kid[:16]))
            return out
        except (ValueError, KeyError, TypeError, AttributeError):
            return []


def parse_root(data: bytes, origin: str) -> Anchor:
    """Check that ``data`` looks like TUF root metadata. Raises ConfigError naming ``origin``."""
    try:
        signed = json.loads(data)["signed"]
        kind = signed["_type"]
        version = signed["version"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{origin} is not TUF root metadata ({type(exc).__name__}: {exc})",
            hint="pass the root.json published as metadata/N.root.json of the store",
        ) from None
    if kind != "root" or not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConfigError(
            f"{origin} is TUF {kind!r} metadata (version {version!r}), not a root",
            hint="pass the root.json published as metadata/N.root.json of the store",
        )
    return Anchor(data, origin, version)


def _read_file(path: Path, origin: str) -> Anchor:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the root {path} ({origin}): {exc.strerror}") from exc
    return parse_root(data, f"{origin} {path}")


def find_repo_root(start: Path) -> Path | None:
    """``channels/root.json`` in ``start`` or its nearest parent, up to the git top level."""
    try:
        here = start.resolve()
    except OSError:
        return None
    for directory in (here, *here.parents):
        candidate = directory / REPO_ROOT
        if candidate.is_file():
            return candidate
        if (directory / ".git").exists():
            return None
    return None


def _fetch_root(fetcher: Fetcher, path: str) -> bytes | None:
    try:
        return read_capped(fetcher, path, ROOT_MAX, "root")
    except NotFound:
        return None


def pinned_root(fetcher: Fetcher, sha256: str) -> Anchor:
    """The root of the store's chain whose sha256 is ``sha256``. Raises TrustError."""
    want = sha256.lower()
    if not re.fullmatch(r"[0-9a-f]{64}", want):
        raise UsageError(f"--root-sha256 {sha256!r} is not 64 hex digits")
    origin = f"--root-sha256 {want[:16]}…"
    newest = _fetch_root(fetcher, "metadata/root.json")
    tried = ["metadata/root.json"]
    candidates = [newest, _fetch_root(fetcher, "metadata/1.root.json")]
    tried.append("metadata/1.root.json")
    for data in candidates:
        if data is not None and hashlib.sha256(data).hexdigest() == want:
            return parse_root(data, origin)
    if newest is not None:
        latest = parse_root(newest, f"{fetcher.description} metadata/root.json").version
        for v in range(2, min(latest, 256)):
            data = _fetch_root(fetcher, f"metadata/{v}.root.json")
            tried.append(f"metadata/{v}.root.json")
            if data is not None and hashlib.sha256(data).hexdigest() == want:
                return parse_root(data, origin)
    raise TrustError(
        f"no root (role root) of {fetcher.description} has sha256 {want}: tried {', '.join(tried)}",
        hint="the store serves another root than the one you pinned: refusing it",
    )


def tofu_root(fetcher: Fetcher) -> Anchor:
    """Trust on first use: the store's own first root. Raises UndecidedError if none."""
    for path in ("metadata/1.root.json", "metadata/root.json"):
        data = _fetch_root(fetcher, path)
        if data is not None:
            anchor = parse_root(data, f"trust on first use: {fetcher.description} {path}")
            return Anchor(anchor.data, anchor.origin, anchor.version, tofu=True)
    raise UndecidedError(
        f"{fetcher.description} serves no metadata/1.root.json nor metadata/root.json",
        hint="is this a schema-2 (TUF) channel store?",
    )


def dev_root(fetcher: Fetcher, trust_config: Path) -> Anchor:
    """The store's first root, if it names the local dev instance of ``trust_config``.

    Raises ConfigError (no dev instance here) or TrustError (another instance).
    """
    from release.channel.tuf import keys

    try:
        local = keys.SigstoreTrust.from_file(trust_config)
    except ConfigError as exc:
        raise ConfigError(
            f"--dev: no local dev Sigstore trust config at {trust_config} ({exc.message})",
            hint="sign something with --sign dev on this machine first, or pass --root FILE",
        ) from exc
    data = _fetch_root(fetcher, "metadata/1.root.json")
    if data is None:
        raise UndecidedError(
            f"{fetcher.description} serves no metadata/1.root.json",
            hint="is this a schema-2 (TUF) channel store?",
        )
    anchor = parse_root(data, f"--dev: {fetcher.description} metadata/1.root.json")
    try:
        named = keys.trust_of_root(json.loads(data)["signed"])
    except (ConfigError, ValueError, KeyError, TypeError):
        named = None
    if named is None or not named.same_keys(local):  # service URLs change on each start
        raise TrustError(
            f"metadata/1.root.json (role root) of {fetcher.description} does not name the "
            f"local dev Sigstore instance of {trust_config}",
            hint="--dev trusts only stores signed on this machine's dev instance; "
            "pass the channel's root with --root FILE",
        )
    return anchor


def resolve_anchor(
    *,
    fetcher: Fetcher,
    root_file: Path | None,
    root_sha256: str | None,
    repo: Path | None,
    state_has_root: bool,
    trust_on_first_use: bool,
    env: Mapping[str, str] | None = None,
    dev_trust_config: Path | None = None,
) -> Anchor | None:
    """The out-of-band root, or None to use the root the state already trusts.

    Raises UndecidedError when there is no root at all, ConfigError for an unreadable
    root, TrustError when ``root_sha256`` matches nothing the store serves.
    """
    env = os.environ if env is None else env
    if root_file is not None:
        return _read_file(Path(root_file), "--root")
    if root_sha256:
        return pinned_root(fetcher, root_sha256)
    if env.get(ENV_ROOT):
        return _read_file(Path(env[ENV_ROOT]), f"${ENV_ROOT}")
    if repo is not None:
        found = find_repo_root(repo)
        if found is not None:
            return _read_file(found, "the repository's")
    if dev_trust_config is not None:
        return dev_root(fetcher, dev_trust_config)
    if state_has_root:
        return None
    if trust_on_first_use:
        return tofu_root(fetcher)
    raise UndecidedError(
        f"no root of trust for {fetcher.description}: nothing given out of band and no "
        "client state for this source",
        hint=NO_ROOT_HINT,
    )
