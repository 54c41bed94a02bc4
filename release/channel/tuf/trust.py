"""The root of trust of a channel store: root and top-level targets, and their rotation.

The repository declares who holds the root (``channels/trust.toml``) and who publishes
each channel (``channels/*.toml`` ``[signer]``). From that, :func:`desired` says what
the root and the top-level targets must contain; :func:`next_root` and
:func:`next_targets` build the next versions. A new root is accepted only when a
threshold of the OLD root and a threshold of the NEW root signed it
(:func:`check_root_step`), one version at a time (:func:`check_chain`).

Real roots live in the repository (``channels/root.json``: the newest;
``channels/tuf/{N}.root.json``, ``channels/tuf/{N}.targets.json``: every version), where
``release trust init|rotate|sign`` put them and the publisher copies them into the
store. Dev roots (``--sign dev``) are made on the fly inside the store, signed by the
dev identities of ``trust.toml`` on the local dev Sigstore instance.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from securesystemslib.signer._key import Key
from securesystemslib.signer._signer import Signer
from tuf.api._payload import Root, Targets
from tuf.api.exceptions import RepositoryError, UnsignedMetadataError
from tuf.api.metadata import Metadata

from release.channel.tuf import metadata as tm
from release.channel.tuf.keys import (
    SigstoreOidcKey,
    SigstoreTrust,
    trust_of_root,
    verification_trust,
)
from release.channel.tuf.metadata import ChannelDelegation, Expiry, serialize
from release.config import ChannelConfig, Identity
from release.errors import ChannelError, VerificationError
from release.trust_config import TrustConfig

REPO_ROOT = "root.json"
REPO_DIR = "tuf"


LINES_FIELD = "x-release-channels"
"""Unrecognized field of a channel's delegation in the top-level targets (signed by the
maintainers) binding each line of a ``{line}`` channel to its identity::

    {"signer": {"identity": "...@refs/heads/release/{line}", "issuer": "..."},
     "lines": {"2.15": "...@refs/heads/release/2.15"},
     "retired-lines": {"2.12": "...@refs/heads/release/2.12"}}

Any line identity may sign the channel role (every line's publication changes the
channel document), so the channel role alone cannot say which key signs which line
role: the client checks each line role's delegation against this binding
(``release.channel.tuf.views``). Retired lines keep their identity here so what they
published stays readable, but that identity is no key of any role any more."""


@dataclass(frozen=True)
class LineBinding:
    """The line identities of one ``{line}`` channel: authorised and retired lines."""

    template: Identity
    lines: tuple[str, ...]
    retired: tuple[str, ...] = ()

    def to_field(self) -> dict[str, Any]:
        return {
            "signer": {"identity": self.template.identity, "issuer": self.template.issuer},
            "lines": {ln: self.template.for_line(ln).identity for ln in self.lines},
            "retired-lines": {ln: self.template.for_line(ln).identity for ln in self.retired},
        }


@dataclass(frozen=True)
class Desired:
    """What root and top-level targets must say, from the repository's declarations."""

    root_keys: tuple[Key, ...]
    threshold: int
    publisher_keys: tuple[Key, ...]
    channels: tuple[ChannelDelegation, ...]
    trust: SigstoreTrust
    expiry: Expiry
    bindings: Mapping[str, LineBinding] = field(default_factory=dict)


def channel_identities(
    channel: ChannelConfig, dev: bool, lines: Iterable[str] = ()
) -> list[Identity]:
    """The identities that sign ``channel``'s roles: its signer, or with ``{line}`` one
    per line in ``lines``. Raises :class:`ConfigError`."""
    ident = channel.expected_signer(dev)
    if "{line}" not in ident.identity:
        return [ident]
    return [ident.for_line(line) for line in sort_lines(lines)]


def sort_lines(lines: Iterable[str]) -> list[str]:
    """``X.Y`` lines, oldest first, by number (2.9 before 2.10)."""
    return sorted(set(lines), key=lambda ln: tuple(int(p) for p in ln.split(".")))


def desired(
    channels: Sequence[ChannelConfig],
    trust_cfg: TrustConfig,
    *,
    dev: bool,
    trust: SigstoreTrust,
    lines: Mapping[str, Iterable[str]] | None = None,
    retired: Mapping[str, Iterable[str]] | None = None,
) -> Desired:
    """What root and targets must say. ``lines``: the authorised lines of each channel
    whose signer has ``{line}`` (each line identity is a key); ``retired``: its retired
    lines (bound to their identity for readers, no key any more).
    Raises :class:`ConfigError`."""
    holders = trust_cfg.holders(dev)
    publishers: dict[str, Key] = {}
    delegations = []
    bindings: dict[str, LineBinding] = {}
    for ch in sorted(channels, key=lambda c: c.name):
        mine = (lines or {}).get(ch.name, ())
        ch_keys = tuple(SigstoreOidcKey.from_identity(i) for i in channel_identities(ch, dev, mine))
        template = ch.expected_signer(dev)
        if "{line}" in template.identity:
            gone = set((retired or {}).get(ch.name, ())) - set(mine)
            bindings[ch.name] = LineBinding(
                template, tuple(sort_lines(mine)), tuple(sort_lines(gone))
            )
        for key in ch_keys:
            publishers[key.keyid] = key
        delegations.append(ChannelDelegation(ch.name, ch.tag_format.template, ch_keys))
    return Desired(
        root_keys=tuple(SigstoreOidcKey.from_identity(i) for i in holders.identities),
        threshold=holders.threshold,
        publisher_keys=tuple(publishers.values()),
        channels=tuple(delegations),
        trust=trust,
        expiry=trust_cfg.expiry,
        bindings=bindings,
    )


def binding_of(targets: Targets | None, channel: str) -> dict[str, Any] | None:
    """The line binding (:data:`LINES_FIELD`) of ``channel`` in ``targets``, or None."""
    roles = targets.delegations.roles if targets and targets.delegations else None
    role = (roles or {}).get(channel)
    value = role.unrecognized_fields.get(LINES_FIELD) if role is not None else None
    return value if isinstance(value, dict) else None


def authorised_lines(targets: Targets | None, channel: str) -> tuple[set[str], set[str]]:
    """(authorised, retired) lines of a ``{line}`` channel in ``targets`` (empty sets
    when it binds none)."""
    binding = binding_of(targets, channel) or {}
    lines, gone = binding.get("lines"), binding.get("retired-lines")
    return (
        set(lines) if isinstance(lines, dict) else set(),
        set(gone) if isinstance(gone, dict) else set(),
    )


def _keyids(root: Root, role: str) -> set[str]:
    return set(root.roles[role].keyids)


def root_matches(root: Root, want: Desired) -> bool:
    """Whether ``root`` already says what ``want`` declares (keys, thresholds, trust)."""
    root_ids = {k.keyid for k in want.root_keys}
    pub_ids = {k.keyid for k in want.publisher_keys}
    return (
        _keyids(root, "root") == root_ids
        and _keyids(root, "targets") == root_ids
        and root.roles["root"].threshold == want.threshold
        and root.roles["targets"].threshold == want.threshold
        and _keyids(root, "snapshot") == pub_ids
        and _keyids(root, "timestamp") == pub_ids
        and trust_of_root(root.unrecognized_fields).same_keys(want.trust)
    )


def targets_matches(targets: Targets, want: Desired) -> bool:
    roles = targets.delegations.roles if targets.delegations else None
    if roles is None or set(roles) != {c.name for c in want.channels}:
        return False
    for ch in want.channels:
        role = roles[ch.name]
        if set(role.keyids) != {k.keyid for k in ch.keys} or role.paths != tm.channel_paths(
            ch.name, ch.tag_format
        ):
            return False
        binding = want.bindings.get(ch.name)
        if role.unrecognized_fields.get(LINES_FIELD) != (binding.to_field() if binding else None):
            return False
    return True


def next_root(prev: Root | None, want: Desired, now: datetime) -> Metadata[Root]:
    return tm.build_root(
        version=(prev.version if prev else 0) + 1,
        now=now,
        expiry=want.expiry,
        root_keys=want.root_keys,
        threshold=want.threshold,
        publisher_keys=want.publisher_keys,
        trust=want.trust,
    )


def next_targets(prev: Targets | None, want: Desired, now: datetime) -> Metadata[Targets]:
    md = tm.build_targets(
        version=(prev.version if prev else 0) + 1,
        now=now,
        expiry=want.expiry,
        channels=want.channels,
    )
    roles = md.signed.delegations.roles if md.signed.delegations else None
    for name, binding in want.bindings.items():
        if roles is not None and name in roles:
            roles[name].unrecognized_fields[LINES_FIELD] = binding.to_field()
    return md


def parse_root(data: bytes, where: str) -> Metadata[Root]:
    try:
        md = Metadata[Root].from_bytes(data)
    except (RepositoryError, ValueError, KeyError, TypeError) as exc:
        raise ChannelError(f"{where} is not TUF root metadata: {exc}") from exc
    if not isinstance(md.signed, Root):
        raise ChannelError(f"{where} is not TUF root metadata")
    return md


def _verify(delegator: Root, role: str, md: Metadata[Any], what: str) -> None:
    try:
        with verification_trust(trust_of_root(delegator.unrecognized_fields)):
            delegator.verify_delegate(role, md.signed_bytes, md.signatures)
    except UnsignedMetadataError as exc:
        raise VerificationError(f"{what}: {exc}") from exc


def check_root_step(old: Root | None, new: Metadata[Root], where: str = "root") -> None:
    """``new`` is the next root after ``old``, signed by a threshold of both.

    Raises :class:`VerificationError` naming the version and the missing threshold.
    """
    version = new.signed.version
    expected = (old.version if old else 0) + 1
    if version != expected:
        raise VerificationError(
            f"{where}: root v{version} does not follow v{expected - 1} (a rotation step is "
            "missing)",
            hint="every root version must be published, one after the other",
        )
    if old is not None:
        _verify(
            old,
            "root",
            new,
            f"{where}: root v{version} is not signed by a threshold of v{old.version}",
        )
    _verify(new.signed, "root", new, f"{where}: root v{version} is not signed by its own threshold")


def check_chain(roots: Sequence[bytes]) -> list[Metadata[Root]]:
    """Every root from v1 in order, each checked against the one before.

    Raises :class:`VerificationError` (a missing step, a threshold not met).
    """
    out: list[Metadata[Root]] = []
    prev: Root | None = None
    for data in roots:
        md = parse_root(data, "root")
        check_root_step(prev, md, f"root v{md.signed.version}")
        out.append(md)
        prev = md.signed
    return out


def check_targets(root: Root, targets: Metadata[Targets]) -> None:
    _verify(
        root,
        "targets",
        targets,
        f"targets v{targets.signed.version} is not signed by the root maintainers' threshold",
    )


def sign_with(md: Metadata[Any], signers: Sequence[Signer]) -> bytes:
    """Add one signature per signer (keeping those there) and serialize."""
    for signer in signers:
        md.sign(signer, append=True)
    return serialize(md)


# --- the repository's own files -------------------------------------------------------


def repo_roots(channels_dir: Path) -> list[bytes]:
    """Every ``channels/tuf/{N}.root.json``, by version (empty: no root declared)."""
    folder = channels_dir / REPO_DIR
    found: dict[int, bytes] = {}
    for path in folder.glob("*.root.json") if folder.is_dir() else ():
        head = path.name.split(".", 1)[0]
        if head.isdigit():
            found[int(head)] = path.read_bytes()
    return [found[v] for v in sorted(found)]


def repo_targets(channels_dir: Path) -> bytes | None:
    folder = channels_dir / REPO_DIR
    found: dict[int, Path] = {}
    for path in folder.glob("*.targets.json") if folder.is_dir() else ():
        head = path.name.split(".", 1)[0]
        if head.isdigit():
            found[int(head)] = path
    return found[max(found)].read_bytes() if found else None


def write_repo(channels_dir: Path, root: bytes | None, targets: bytes | None) -> list[Path]:
    """Save a root and/or targets version in the repository (``channels/tuf``)."""
    from release.files import write_atomic

    written = []
    folder = channels_dir / REPO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    if root is not None:
        md = parse_root(root, "root")
        path = folder / f"{md.signed.version}.root.json"
        write_atomic(path, root)
        write_atomic(channels_dir / REPO_ROOT, root)
        written += [path, channels_dir / REPO_ROOT]
    if targets is not None:
        version = Metadata[Targets].from_bytes(targets).signed.version
        path = folder / f"{version}.targets.json"
        write_atomic(path, targets)
        written.append(path)
    return written


# --- making sure a store carries the declared trust -----------------------------------


MaintainerSigners = Callable[[Sequence[Identity]], contextlib.AbstractContextManager[list[Signer]]]


def ensure_dev_trust(
    store: Any,
    want: Desired,
    holders: Sequence[Identity],
    open_maintainers: MaintainerSigners,
    now: datetime,
) -> bool:
    """Give a dev store the root and targets ``want`` declares, signed on the spot.

    Returns True when something was (re)issued. Raises :class:`ChannelError` when the
    store's root names another Sigstore instance (a dev instance that was reset).
    """
    root_md = store.root()
    state = store.read_state() if root_md is not None else None
    old_root = root_md.signed if root_md is not None else None
    if old_root is not None and not trust_of_root(old_root.unrecognized_fields).same_keys(
        want.trust
    ):
        raise ChannelError(
            "this dev channel store was signed by another dev Sigstore instance",
            hint="dev stores are throwaway: remove the store directory and publish again",
        )
    new_root = None
    if old_root is None or not root_matches(old_root, want):
        new_root = next_root(old_root, want, now)
    targets = state.targets.signed if state is not None else None
    new_targets = None
    if targets is None or new_root is not None or not targets_matches(targets, want):
        new_targets = next_targets(targets, want, now)
    if new_root is None and new_targets is None:
        return False
    old_holders = [
        Identity(k.keyval["identity"], k.keyval["issuer"])
        for kid, k in (old_root.keys.items() if old_root else [])
        if kid in old_root.roles["root"].keyids  # type: ignore[union-attr]
    ]
    everyone = list(dict.fromkeys([*holders, *old_holders]))
    with open_maintainers(everyone) as signers:
        roots = []
        if new_root is not None:
            roots.append(sign_with(new_root, signers))
            check_root_step(old_root, new_root)
        current = new_root.signed if new_root is not None else old_root
        assert current is not None
        new_signers = [s for s in signers if s.public_key.keyid in current.roles["targets"].keyids]
        targets_bytes = sign_with(new_targets, new_signers) if new_targets else None
        if new_targets is not None:
            check_targets(current, new_targets)
    store.install(roots, targets_bytes)
    return True


def install_repo_trust(store: Any, channels_dir: Path) -> None:
    """Copy the repository's root chain and newest targets into the store, checking every
    root step and the targets' signatures. Raises ChannelError / VerificationError."""
    roots = repo_roots(channels_dir)
    if not roots:
        raise ChannelError(
            f"no root of trust in {channels_dir / REPO_DIR}",
            hint="run `release trust init` (maintainers) and commit channels/root.json and "
            "channels/tuf/; or publish with --sign dev",
        )
    chain = check_chain(roots)
    current = store.root()
    if current is not None:
        mine = next((md for md in chain if md.signed.version == current.signed.version), None)
        if mine is None or mine.signed != current.signed:
            raise VerificationError(
                f"the store's root v{current.signed.version} is not in the repository's "
                "root chain (channels/tuf)",
                hint="publish from the repository that holds this store's roots",
            )
    targets = repo_targets(channels_dir)
    if targets is None:
        raise ChannelError(f"no top-level targets in {channels_dir / REPO_DIR}")
    check_targets(chain[-1].signed, Metadata[Targets].from_bytes(targets))
    store.install(roots, targets)


@contextlib.contextmanager
def dev_maintainers(trust_config: Path) -> Iterator[MaintainerSigners]:
    """Open signers for dev root identities on the running dev instance ``trust_config``."""
    from release.adapters.devsigstore import mint_identity_token
    from release.adapters.sigstore import SigningSetup
    from release.channel.tuf import keys

    @contextlib.contextmanager
    def open_them(identities: Sequence[Identity]) -> Iterator[list[Signer]]:
        with contextlib.ExitStack() as stack:
            signers: list[Signer] = []
            for ident in identities:
                setup = SigningSetup(
                    mode="trust-config",
                    trust_config=trust_config,
                    identity_token=mint_identity_token(ident.identity, ident.issuer),
                )
                signers.append(stack.enter_context(keys.open_signer(setup, ident)))
            yield signers

    yield open_them


# --- who may publish: the publisher's and the preflight's refusals ---------------------


def _line_in(template: str, identity: str) -> str | None:
    """The line ``identity`` fills into ``template`` (``…/release/{line}``), or None."""
    head, sep, tail = template.partition("{line}")
    if not sep or not identity.startswith(head) or not identity.endswith(tail):
        return None
    line = identity[len(head) : len(identity) - len(tail)]
    return line if line and all(p.isdigit() for p in line.split(".")) else None


def unauthorised(
    targets: Targets, channel: str, identity: str, line: str | None = None
) -> tuple[str, str]:
    """(message, hint) refusing ``identity`` on ``channel`` in ``targets``: for a
    ``{line}`` channel it names the line, the identity, the targets version and the fix."""
    binding = binding_of(targets, channel)
    version = targets.version
    if binding is None:
        return (
            f"{identity} is not a key of role {channel} in targets v{version}: refusing to "
            f"sign {channel} metadata",
            "one channel's signer cannot publish on another channel; a new signer needs "
            "`release trust rotate` (signed by the maintainers' threshold)",
        )
    signer = binding.get("signer") or {}
    template = str(signer.get("identity", ""))
    line = line or _line_in(template, identity)
    authorised, retired = authorised_lines(targets, channel)
    shown = ", ".join(sort_lines(authorised)) or "none"
    what = f"line {line}" if line else "this identity's line"
    if line is not None and line in retired:
        why = f"line {line} was retired in targets v{version}"
    else:
        why = f"targets v{version} does not authorise line {line or '?'}"
    return (
        f"{what} of channel {channel} cannot be published: {why} (identity {identity}; "
        f"authorised lines: {shown})",
        f"the maintainers authorise it with `release trust rotate --line {line or 'X.Y'}` "
        "signed by their threshold (channels/trust.toml); commit channels/root.json and "
        "channels/tuf/, then release again",
    )


def publish_problems(
    channels_dir: Path,
    channel: str,
    identity: Identity,
    line: str,
    *,
    store_root: bytes | None = None,
) -> list[str]:
    """Why the repository's root of trust would refuse ``identity`` publishing ``line``
    of ``channel`` (empty: it may). Reads ``channels/tuf`` and checks the root chain and
    the targets' signatures, so a release is refused before anything is tagged;
    ``store_root``: the store's ``metadata/root.json``, which must be in that chain."""
    roots = repo_roots(channels_dir)
    if not roots:
        return [
            f"no root of trust in {channels_dir / REPO_DIR} (run `release trust init` as a "
            "maintainer and commit channels/root.json and channels/tuf/; or sign with --sign dev)"
        ]
    data = repo_targets(channels_dir)
    if data is None:
        return [f"no top-level targets in {channels_dir / REPO_DIR} (run `release trust rotate`)"]
    try:
        chain = check_chain(roots)
        targets = Metadata[Targets].from_bytes(data)
        check_targets(chain[-1].signed, targets)
    except (ChannelError, VerificationError) as exc:
        return [exc.message + (f" ({exc.hint})" if exc.hint else "")]
    except (RepositoryError, ValueError, KeyError, TypeError) as exc:
        return [f"the targets in {channels_dir / REPO_DIR} are not TUF metadata: {exc}"]
    if store_root is not None:
        try:
            theirs = parse_root(store_root, "the store's metadata/root.json").signed
        except ChannelError as exc:
            return [exc.message]
        mine = next((md for md in chain if md.signed.version == theirs.version), None)
        if mine is None or mine.signed != theirs:
            return [
                f"the store's root v{theirs.version} is not in the repository's root chain "
                f"({channels_dir / REPO_DIR}): publish from the repository that holds this "
                "store's roots, or to another store"
            ]
    signed = targets.signed
    roles = signed.delegations.roles if signed.delegations else None
    if not roles or channel not in roles:
        return [
            f"channel {channel} is not delegated by targets v{signed.version} (the maintainers "
            "add it with `release trust rotate` after adding channels/"
            f"{channel}.toml)"
        ]
    keyid = SigstoreOidcKey.from_identity(identity).keyid
    if keyid not in roles[channel].keyids:
        message, hint = unauthorised(signed, channel, identity.identity, line)
        return [f"{message} ({hint})"]
    root = chain[-1].signed
    if keyid not in root.roles["timestamp"].keyids:
        return [
            f"{identity.identity} is not a key of role timestamp in root v{root.version} "
            "(the maintainers run `release trust rotate`)"
        ]
    return []
