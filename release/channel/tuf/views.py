"""Two ways to read a TUF channel store: verified (python-tuf's ``Updater``) and raw.

Both answer the same questions — which channels ``targets`` delegates, which targets
a role lists, which role a path belongs to — so the channel logic above them is one
piece of code. :class:`VerifiedView` runs the TUF client workflow (root rotation,
timestamp, snapshot, targets, delegations) and attributes every refusal to the file
and role it concerns. :class:`RawView` is the ``--no-verify`` reader: it follows the
same versions but checks no signature, and its answers are labelled UNVERIFIED.

python-tuf's optional signers (AWS, GCP, Azure, …) are not imported: the package's
import guard (:mod:`release.channel.tuf`) keeps ``import boto3`` (0.2 s) off every path.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from release.channel.fetch import Fetcher, FetchError, NotFound, ResponseTooLarge, read_capped
from release.errors import ReleaseError, TrustError

if TYPE_CHECKING:
    from tuf.api._payload import Targets

    from release.channel.tuf.bootstrap import Anchor
    from release.channel.tuf.state import ClientState, VerdictCache

BASE = "store:///"
MAX_DELEGATIONS = 32
META_MAX = {"root": 512 * 1024, "timestamp": 16 * 1024, "snapshot": 2 << 20}
TARGETS_MAX = 5 << 20


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while tuf and sigstore import (thousands of pydantic objects
    that collections would only re-scan), then freeze what was imported."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


_URLLIB3_FETCHER = "tuf.ngclient.urllib3_fetcher"


def _defer_urllib3_fetcher() -> None:
    """``import tuf.ngclient`` loads its default fetcher and with it urllib3 (about
    40 ms); we always pass our own fetcher. Until somebody uses the default one (the
    stock ``Updater`` without ``fetcher=``, sigstore's own TUF updater), the module is
    a stand-in whose ``Urllib3Fetcher(...)`` imports the real one and returns its
    instance."""
    if _URLLIB3_FETCHER in sys.modules or "tuf.ngclient" in sys.modules:
        return
    import types

    class Urllib3Fetcher:
        """Stand-in for ``tuf.ngclient.Urllib3Fetcher``: calling it loads the real one."""

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return real_urllib3_fetcher()(*args, **kwargs)

    stand_in = types.ModuleType(_URLLIB3_FETCHER, Urllib3Fetcher.__doc__)
    stand_in.__dict__["Urllib3Fetcher"] = Urllib3Fetcher
    sys.modules[_URLLIB3_FETCHER] = stand_in


def real_urllib3_fetcher() -> Any:
    """python-tuf's ``Urllib3Fetcher`` class (imports urllib3)."""
    import importlib

    module = sys.modules.get(_URLLIB3_FETCHER)
    if module is not None and getattr(module, "__file__", None) is None:
        del sys.modules[_URLLIB3_FETCHER]  # the stand-in
    return importlib.import_module(_URLLIB3_FETCHER).Urllib3Fetcher


def import_tuf() -> None:
    """Import python-tuf (urllib3 deferred) and our Sigstore key type (without the
    optional cloud signers: see the package's import guard), the cyclic GC paused."""
    if "tuf.ngclient" in sys.modules and "release.channel.tuf.keys" in sys.modules:
        return
    _defer_urllib3_fetcher()
    with gc_paused():
        import tuf.ngclient  # noqa: F401

        from release.channel.tuf import keys

        keys.register()


@dataclass(frozen=True)
class TargetInfo:
    """A target as a role lists it: path, length, hashes, and which role listed it."""

    path: str
    length: int
    hashes: Mapping[str, str]
    role: str

    def check(self, data: bytes, where: str) -> None:
        """Raise TrustError unless ``data`` has this length and these hashes."""
        if len(data) != self.length:
            raise TrustError(
                f"{self.path} (role {self.role}): {len(data)} bytes from {where}, the role "
                f"lists {self.length}",
                hint="the file was changed after it was signed: refusing it",
            )
        for algo, want in self.hashes.items():
            if algo not in ("sha256", "sha384", "sha512"):
                continue
            got = hashlib.new(algo, data).hexdigest()
            if got != want:
                raise TrustError(
                    f"{self.path} (role {self.role}): {algo} {got[:16]}… from {where}, "
                    f"the role lists {want[:16]}…",
                    hint="the file was changed after it was signed: refusing it",
                )
        if "sha256" not in self.hashes and "sha512" not in self.hashes:
            raise TrustError(f"{self.path} (role {self.role}) is listed without a sha256")


def _info(path: str, target: Any, role: str) -> TargetInfo:
    return TargetInfo(path, int(target.length), dict(target.hashes), role)


Loader = Callable[[str, str], "Targets"]


def walk(load: Loader, path: str) -> TargetInfo | None:
    """The target ``path`` as the TUF spec's delegation search finds it (pre-order,
    depth first, terminating roles end the search), or None."""
    stack: list[tuple[str, str]] = [("targets", "root")]
    visited: set[str] = set()
    while stack and len(visited) <= MAX_DELEGATIONS:
        role, parent = stack.pop()
        if role in visited:
            continue
        targets = load(role, parent)
        if path in targets.targets:
            return _info(path, targets.targets[path], role)
        visited.add(role)
        if targets.delegations is None:
            continue
        children: list[tuple[str, str]] = []
        for child, terminating in targets.delegations.get_roles_for_target(path):
            children.append((child, role))
            if terminating:
                stack = []
                break
        stack.extend(reversed(children))
    return None


def _store_fetcher(fetcher: Fetcher) -> Any:
    """A python-tuf ``FetcherInterface`` over our fetcher (``store:///`` URLs)."""
    from tuf.api.exceptions import DownloadHTTPError
    from tuf.ngclient.fetcher import FetcherInterface

    class StoreFetcher(FetcherInterface):
        def _fetch(self, url: str) -> Iterator[bytes]:
            if not url.startswith(BASE):
                raise FetchError(f"refusing to fetch {url!r}: not inside the channel store")
            path = urllib.parse.unquote(url[len(BASE) :])
            try:
                yield from fetcher.chunks(path)
            except NotFound as exc:  # 404, or 403 (python-tuf reads both as absent)
                raise DownloadHTTPError(exc.message, exc.status) from exc

    return StoreFetcher()


def _file_of(role: str, version: int | None) -> str:
    name = urllib.parse.quote(role, "")
    return f"metadata/{version}.{name}.json" if version else f"metadata/{name}.json"


class VerifiedView:
    """The store through ``tuf.ngclient.Updater``: every answer is verified."""

    verified = True

    def __init__(
        self,
        fetcher: Fetcher,
        state: ClientState,
        anchor: Anchor | None,
        cache: VerdictCache,
    ) -> None:
        import_tuf()
        from tuf.ngclient.config import UpdaterConfig
        from tuf.ngclient.updater import Updater

        from release.channel.tuf import keys

        self.fetcher = fetcher
        self.state = state
        self.cache = cache
        self.loaded: dict[str, datetime] = {}
        self._bound: set[str] = set()  # channel roles whose line delegations were checked
        state.prepare()
        bootstrap = _bootstrap(state, anchor)
        config = UpdaterConfig(prefix_targets_with_hash=False)
        origin = (
            anchor.origin if anchor is not None else f"the trusted root in {state.metadata_dir}"
        )
        # The root names the Sigstore instance its keys' signatures chain to.
        self.trust = keys.PRODUCTION
        with self._translate(origin, "root"), gc_paused():
            from tuf.api._payload import Root
            from tuf.api.metadata import Metadata

            raw = bootstrap if bootstrap is not None else state.trusted_root_bytes()
            if raw is None:
                raise TrustError(f"{origin}: no trusted root")
            root_md = Metadata[Root].from_bytes(raw)
            self.trust = keys.trust_of_root(root_md.signed.unrecognized_fields)
            with keys.verification_trust(self.trust, cache):
                self.updater = Updater(
                    str(state.metadata_dir),
                    BASE + "metadata/",
                    None,
                    BASE,
                    _store_fetcher(fetcher),
                    config,
                    bootstrap=bootstrap,
                )

    @contextlib.contextmanager
    def _translate(self, where: str | Callable[[], str], role: str) -> Iterator[None]:
        """Turn python-tuf's exceptions into our errors, naming the file and ``role``."""
        from tuf.api import exceptions as tx
        from tuf.api.serialization import DeserializationError as SerializationError

        file = where if isinstance(where, str) else "?"
        try:
            try:
                yield
            finally:
                file = where if isinstance(where, str) else where()
        except ReleaseError:
            raise
        except tx.DownloadLengthMismatchError as exc:
            raise TrustError(
                f"{file} (role {role}) is longer than allowed: {exc}",
                hint="refusing an oversized or endless response",
            ) from None
        except tx.DownloadError as exc:
            cause = exc.__cause__
            if isinstance(cause, NotFound) and role not in ("root", "timestamp"):
                lister = "the timestamp" if role == "snapshot" else "the snapshot"
                raise TrustError(
                    f"{file} (role {role}) is listed by {lister}, but the store does not "
                    f"have it ({cause.message})",
                    hint="signed metadata is missing or withheld: the store is incomplete or "
                    "under attack; refusing to guess",
                ) from None
            if isinstance(cause, ReleaseError):
                raise cause from None
            raise FetchError(f"cannot fetch {file} (role {role}): {exc}") from None
        except tx.ExpiredMetadataError as exc:
            raise TrustError(
                f"{file} (role {role}) has expired: {exc} (a freeze?)",
                hint="the publisher must re-sign it; an old copy is being served",
            ) from None
        except tx.BadVersionNumberError as exc:
            raise TrustError(
                f"{file} (role {role}): {exc} (rollback refused)",
                hint="the store serves older metadata than this client trusted before",
            ) from None
        except tx.UnsignedMetadataError as exc:
            raise TrustError(
                f"{file} (role {role}) is not signed by the keys its delegator trusts: {exc}",
                hint="somebody without the role's keys changed it: refusing it",
            ) from None
        except tx.RepositoryError as exc:
            raise TrustError(f"{file} (role {role}): {exc}") from None
        except (SerializationError, ValueError, KeyError, TypeError) as exc:
            raise TrustError(f"{file} (role {role}) is malformed: {exc}") from None
        except OSError as exc:
            from release.errors import StateError

            raise StateError(
                f"cannot write the client's trusted metadata in {self.state.metadata_dir}: "
                f"{exc.strerror}",
                hint="pass a writable --state-dir",
            ) from None

    def _step(self, run: Callable[[], Any], file: str | Callable[[], str], role: str) -> Any:
        from release.channel.tuf import keys

        paused = gc_paused() if "sigstore" not in sys.modules else contextlib.nullcontext()
        with self._translate(file, role), keys.verification_trust(self.trust, self.cache), paused:
            return run()

    def refresh(self) -> None:
        """The TUF workflow for the top-level roles, each step's refusals attributed."""
        u = self.updater
        ts = u._trusted_set  # python-tuf 7.0 (pinned): the refresh steps one by one
        self._step(u._load_root, lambda: f"metadata/{ts.root.version + 1}.root.json", "root")
        try:
            self._step(u._load_timestamp, "metadata/timestamp.json", "timestamp")
        except TrustError as exc:
            raise self._chain_hint(exc) from None
        snap = ts.timestamp.snapshot_meta.version
        self._step(u._load_snapshot, f"metadata/{snap}.snapshot.json", "snapshot")
        self.load("targets", "root")
        self.loaded.update(
            root=ts.root.expires, timestamp=ts.timestamp.expires, snapshot=ts.snapshot.expires
        )

    def _chain_hint(self, exc: TrustError) -> TrustError:
        """A timestamp that does not verify may be signed by keys of a root this client
        could not reach: say so when the store's newest root is further along."""
        import json

        trusted = self.updater._trusted_set.root.version
        try:
            newest = json.loads(read_capped(self.fetcher, "metadata/root.json", 1 << 19, "root"))
            version = int(newest["signed"]["version"])
        except (ReleaseError, ValueError, KeyError, TypeError):
            return exc
        if version <= trusted + 1:
            return exc
        return TrustError(
            exc.message,
            hint=f"the store's newest root is version {version}, but "
            f"metadata/{trusted + 1}.root.json is missing: the rotation chain is broken, "
            "so newer keys cannot be trusted",
        )

    def load(self, role: str, parent: str) -> Targets:
        snapshot = self.updater._trusted_set.snapshot
        meta = snapshot.meta.get(f"{role}.json")
        file = _file_of(role, meta.version if meta is not None else None)
        targets: Targets = self._step(lambda: self.updater._load_targets(role, parent), file, role)
        self.loaded[role] = targets.expires
        if parent == "targets" and role not in self._bound:
            check_line_binding(self.load("targets", "root"), role, targets, file)
            self._bound.add(role)
        return targets

    def channel_roles(self) -> list[str]:
        top = self.load("targets", "root")
        if top.delegations is None or top.delegations.roles is None:
            return []
        return list(top.delegations.roles)

    def published(self, role: str) -> bool:
        """Whether the trusted snapshot lists ``role``: a role ``targets`` delegates up
        front (a real root declares every configured channel) is absent until its
        channel's first publication."""
        return f"{role}.json" in self.updater._trusted_set.snapshot.meta

    def snapshot_file(self) -> str:
        return f"metadata/{self.updater._trusted_set.snapshot.version}.snapshot.json"

    def signed_role_file(self, role: str) -> str | None:
        """``metadata/1.<role>.json`` when the store holds it signed by the keys the
        top-level ``targets`` delegates ``role`` to, else None (absent, malformed or not
        signed by those keys: no evidence). A role's first version is always 1 and the
        store never deletes an immutable file, so a signed one proves that the role was
        published once. Raises FetchError when the store cannot be read."""
        from tuf.api import exceptions as tx
        from tuf.api.metadata import Metadata
        from tuf.api.serialization import DeserializationError

        from release.channel.tuf import keys

        path = _file_of(role, 1)
        try:
            data = read_capped(self.fetcher, path, TARGETS_MAX, path)
        except (NotFound, ResponseTooLarge):
            return None
        top = self.load("targets", "root")
        try:
            md = Metadata.from_bytes(data)
            if md.signed.type != "targets":
                return None
            with keys.verification_trust(self.trust, self.cache):
                top.verify_delegate(role, md.signed_bytes, md.signatures)
        except (DeserializationError, tx.UnsignedMetadataError, ValueError, KeyError, TypeError):
            return None
        return path

    def role_keys(self, role: str) -> list[str]:
        """Identities of the keys ``targets`` delegates channel ``role`` to."""
        top = self.load("targets", "root")
        if top.delegations is None or top.delegations.roles is None:
            return []
        delegated = top.delegations.roles.get(role)
        if delegated is None:
            return []
        out = []
        for kid in delegated.keyids:
            key = top.delegations.keys.get(kid)
            if key is not None:
                out.append(str(key.keyval.get("identity", kid)))
        return out

    def role_targets(self, role: str, parent: str = "targets") -> dict[str, TargetInfo]:
        t = self.load(role, parent)
        return {p: _info(p, f, role) for p, f in t.targets.items()}

    def targetinfo(self, path: str) -> TargetInfo | None:
        return walk(self.load, path)

    def read(self, info: TargetInfo, cap: int) -> bytes:
        """The target's bytes, checked against ``info``. Raises TrustError/FetchError."""
        try:
            data = read_capped(self.fetcher, info.path, min(info.length, cap), info.path)
        except ResponseTooLarge as exc:
            raise TrustError(
                f"{info.path} (role {info.role}) is longer than the {info.length} bytes the "
                "role lists",
                hint="the file was changed after it was signed: refusing it",
            ) from exc
        info.check(data, self.fetcher.description)
        return data

    def expires(self) -> datetime:
        return min(self.loaded.values())


LINES_FIELD = "x-release-channels"  # release.channel.tuf.trust.LINES_FIELD (no import: light)


def check_line_binding(top: Targets, channel: str, role: Targets, file: str) -> None:
    """A channel whose signer has ``{line}``: every line identity may sign the channel
    role, so the maintainers' top-level targets binds each line to its identity, and
    the channel role may only delegate line ``L`` to ``L``'s identity, over ``L``'s
    paths, and list nothing but its channel documents. Without this, the holder of one
    line's identity could re-delegate another line to itself. Raises TrustError naming
    the file and the role."""
    delegated = (top.delegations.roles or {}).get(channel) if top.delegations else None
    binding = delegated.unrecognized_fields.get(LINES_FIELD) if delegated else None
    if not isinstance(binding, dict):
        return
    where = f"{file} (role {channel})"
    hint = "one line's identity cannot sign for another line: refusing it"
    for path in role.targets:
        if not path.startswith(f"channels/{channel}/v") or "/" in path[len(channel) + 10 :]:
            raise TrustError(
                f"{where} lists {path}: role {channel} may list only its channel documents "
                f"(line documents and release files belong to the line roles {channel}.X.Y)",
                hint=hint,
            )
    issuer = (binding.get("signer") or {}).get("issuer")
    bound = {**(binding.get("retired-lines") or {}), **(binding.get("lines") or {})}
    delegations = role.delegations
    for name, d in ((delegations.roles or {}) if delegations else {}).items():
        line = name[len(channel) + 1 :] if name.startswith(f"{channel}.") else ""
        expected = bound.get(line)
        if expected is None:
            raise TrustError(
                f"{where} delegates {name}, but targets v{top.version} authorises no "
                f"identity for line {line or name} of {channel}",
                hint=hint,
            )
        assert delegations is not None
        keys = [delegations.keys.get(k) for k in d.keyids]
        got = [str(k.keyval.get("identity")) if k else "?" for k in keys]
        key = keys[0] if len(keys) == 1 else None
        if (
            d.threshold != 1
            or key is None
            or (key.keytype, key.scheme) != ("sigstore-oidc", "Fulcio")
            or key.keyval != {"identity": expected, "issuer": issuer}
        ):
            raise TrustError(
                f"{where} delegates line role {name} to {', '.join(got) or 'no key'}; "
                f"targets v{top.version} binds line {line} to {expected}",
                hint=hint,
            )
        for pattern in d.paths or []:
            if not _line_path(channel, line, pattern):
                raise TrustError(
                    f"{where} gives line role {name} the path {pattern}, outside line {line}",
                    hint=hint,
                )
        if d.path_hash_prefixes:
            raise TrustError(f"{where} delegates {name} by path hash prefixes", hint=hint)


def _line_path(channel: str, line: str, pattern: str) -> bool:
    """Whether ``pattern`` stays within line ``line``: its documents, or release tags
    that spell the line then a dot (``releases/acme-2.15.*/*``)."""
    if pattern == f"channels/{channel}/lines/{line}/*":
        return True
    if not (pattern.startswith("releases/") and pattern.endswith(f"{line}.*/*")):
        return False
    prefix = pattern[len("releases/") : -len(f"{line}.*/*")]
    return (
        not any(c in prefix for c in "*?[]/")
        and not prefix[-1:].isdigit()
        and not (prefix.endswith("."))
    )


def _bootstrap(state: ClientState, anchor: Anchor | None) -> bytes | None:
    """The root to start from: the anchor, or None to continue from the state's root.

    An anchor this client already passed on its way to its trusted root is not a
    reason to start again; one that is not in that chain is refused.
    """
    if anchor is None:
        return None
    local = state.trusted_root_bytes()
    if local is None:
        return anchor.data
    import json

    try:
        local_version = int(json.loads(local)["signed"]["version"])
    except (ValueError, KeyError, TypeError):
        return anchor.data  # python-tuf refuses a broken local root below anyway
    if anchor.version > local_version:
        return anchor.data
    seen = state.trusted_root_bytes(anchor.version)
    if seen is not None and hashlib.sha256(seen).hexdigest() == anchor.sha256:
        return None
    raise TrustError(
        f"the root from {anchor.origin} (version {anchor.version}, sha256 "
        f"{anchor.sha256[:16]}…) is not the version {anchor.version} this client trusted "
        f"for {state.canonical} (state {state.path})",
        hint="if the project really replaced its root, forget the state: "
        f"release channel state forget --source {state.canonical}",
    )


class RawView:
    """``--no-verify``: the same versions and delegations, no signature checked."""

    verified = False

    def __init__(self, fetcher: Fetcher) -> None:
        import_tuf()
        self.fetcher = fetcher
        self._roles: dict[str, Targets] = {}
        self._snapshot: Any = None

    def _md(self, path: str, cap: int) -> Any:
        from tuf.api.metadata import Metadata

        data = read_capped(self.fetcher, path, cap, path)
        try:
            return Metadata.from_bytes(data)
        except Exception as exc:
            raise TrustError(f"{path} is malformed: {exc}") from None

    def refresh(self) -> None:
        ts = self._md("metadata/timestamp.json", META_MAX["timestamp"])
        version = ts.signed.snapshot_meta.version
        self._snapshot = self._md(f"metadata/{version}.snapshot.json", META_MAX["snapshot"]).signed

    def load(self, role: str, parent: str) -> Targets:
        if role not in self._roles:
            meta = self._snapshot.meta.get(f"{role}.json")
            if meta is None:
                raise TrustError(f"role {role} is delegated by {parent} but not in the snapshot")
            md = self._md(_file_of(role, meta.version), TARGETS_MAX)
            self._roles[role] = md.signed
        return self._roles[role]

    def channel_roles(self) -> list[str]:
        top = self.load("targets", "root")
        if top.delegations is None or top.delegations.roles is None:
            return []
        return list(top.delegations.roles)

    def published(self, role: str) -> bool:
        return f"{role}.json" in self._snapshot.meta

    def snapshot_file(self) -> str:
        return f"metadata/{self._snapshot.version}.snapshot.json"

    def signed_role_file(self, role: str) -> str | None:
        return None  # nothing is verified here: no evidence either way

    def role_keys(self, role: str) -> list[str]:
        return []

    def role_targets(self, role: str, parent: str = "targets") -> dict[str, TargetInfo]:
        t = self.load(role, parent)
        return {p: _info(p, f, role) for p, f in t.targets.items()}

    def targetinfo(self, path: str) -> TargetInfo | None:
        return walk(self.load, path)

    def read(self, info: TargetInfo, cap: int) -> bytes:
        return read_capped(self.fetcher, info.path, min(info.length, cap), info.path)
