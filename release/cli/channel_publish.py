"""``release channel withdraw|refresh|migrate`` on schema-2 (TUF) stores.

Withdraw and refresh sign with ONE certificate (the channel's identity) every role they
change, then the snapshot and the timestamp; the timestamp is swapped last. Refresh
re-signs snapshot and timestamp, and the channel's roles that expire within half
their validity: schedule it daily (the timestamp expires after 2 days by default).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.cli._args import add_store_signing
from release.cli._output import Output
from release.errors import UsageError

if TYPE_CHECKING:
    from release.channel.tuf.keys import SigstoreOidcSigner
    from release.channel.tuf.repo import TufStore
    from release.config import ChannelConfig, Identity, ProjectConfig
    from release.trust_config import TrustConfig


def is_schema_2(root: Path) -> bool:
    """Whether the store at ``root`` is a TUF (schema 2) store."""
    return (root / "metadata").is_dir()


@contextlib.contextmanager
def tuf_signer(args: argparse.Namespace, ident: Identity) -> Iterator[SigstoreOidcSigner]:
    """One certificate for ``ident`` from the publisher options (``--sign`` …)."""
    if args.sign == "none":
        raise UsageError("a schema 2 store is always signed", hint="pass --sign sigstore|dev")
    from release.adapters.sigstore import SigningSetup
    from release.channel.tuf import keys

    setup = SigningSetup(
        mode=args.sign,
        trust_config=args.trust_config if args.sign == "trust-config" else None,
        identity_token=args.identity_token,
        dev_state_dir=args.dev_state if args.sign == "dev" else None,
    )
    with keys.open_signer(setup, ident) as signer:
        yield signer


def _open(
    args: argparse.Namespace, dev: bool
) -> tuple[ProjectConfig, ChannelConfig, TufStore, TrustConfig, Path]:
    from release.channel.backends.directory import DirectoryBackend
    from release.channel.target import publish_backend
    from release.channel.tuf.repo import TufStore
    from release.config import load_config
    from release.trust_config import channels_dir_of, load_trust

    config = load_config(args.repo)
    channel = config.channel(args.channel)
    root = Path(args.store or config.root / config.out)
    trust = load_trust(channels_dir_of(config))
    # --store names a directory; without it the channel's [publish] target (e.g. S3).
    backend = DirectoryBackend(root) if args.store else publish_backend(channel, root)
    return config, channel, TufStore(backend), trust, root


def _identity(channel: ChannelConfig, dev: bool, line: str | None) -> Identity:
    template = channel.expected_signer(dev)
    if "{line}" not in template.identity:
        return template
    if line is None:
        raise UsageError(f"the signer {template.identity} is per line", hint="pass --line X.Y")
    return template.for_line(line)


def _views(store: TufStore, root: Path, signer: Any, channel: ChannelConfig) -> None:
    from release.channel import target
    from release.channel.signing import SigstoreDocumentSigner
    from release.channel.tuf.reader import render_views

    render_views(
        store,
        root,
        datetime.now(UTC).replace(microsecond=0),
        signer=SigstoreDocumentSigner(signer._signer),
        channel=channel.name,
        base_url=channel.publish_url,
    )
    if target.is_remote(store.backend, root):  # rendered from the bucket: put them back
        target.push_views(root, target.view_keys(root), store.backend)


def _published(out: Output, what: str, result: Any) -> int:
    state = "published" if result.changed else "unchanged (already done)"
    out.result(
        f"{what}: {state}; timestamp v{result.timestamp_version}",
        {
            "changed": result.changed,
            "timestamp_version": result.timestamp_version,
            "snapshot_version": result.snapshot_version,
            "channel_document": result.channel_document,
            "line_document": result.line_document,
            "roles": list(result.roles),
        },
    )
    return 0


def withdraw(args: argparse.Namespace, out: Output, dev: bool) -> int:
    from release.channel.model import parse_version
    from release.channel.strictjson import DocumentError

    _, channel, store, trust, root = _open(args, dev)
    try:
        line = args.line or str(parse_version(channel.kind, args.version).line)
    except DocumentError as exc:
        raise UsageError(exc.message) from exc
    ident = _identity(channel, dev, line)
    now = datetime.now(UTC).replace(microsecond=0)
    with tuf_signer(args, ident) as signer:
        result = store.withdraw(
            channel,
            args.version,
            reason=args.reason,
            replacement=args.replacement,
            now=now,
            signer=signer,
            identity=ident,
            expiry=trust.expiry,
            per_line_keys="{line}" in channel.expected_signer(dev).identity,
        )
        _views(store, root, signer, channel)
    return _published(out, f"withdrew {channel.name} {args.version}", result)


def refresh(args: argparse.Namespace, out: Output, dev: bool) -> int:
    _, channel, store, trust, root = _open(args, dev)
    ident = _identity(channel, dev, args.line)
    now = datetime.now(UTC).replace(microsecond=0)
    with tuf_signer(args, ident) as signer:
        result = store.refresh(channel, now=now, signer=signer, expiry=trust.expiry)
        _views(store, root, signer, channel)
    return _published(out, f"refreshed {channel.name}", result)


def register_migrate(sub: Any) -> None:
    p = sub.add_parser(
        "migrate", help="turn a schema 1 store (index.json v1) into a TUF store, keeping all"
    )
    add_store_signing(p)
    p.add_argument(
        "--channel",
        action="append",
        default=[],
        help="migrate this channel (repeat; default: every channel; with real signing, run "
        "once per channel signer)",
    )
    p.set_defaults(handler=cmd_migrate)


def cmd_migrate(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.sigstore import SigningSetup
    from release.channel.tuf import keys
    from release.channel.tuf import trust as tt
    from release.channel.tuf.migrate import migrate, newest_v1_index
    from release.config import load_config
    from release.trust_config import channels_dir_of, load_trust

    config = load_config(args.repo)
    root = Path(args.store or config.root / config.out)
    dev = args.sign == "dev"
    channels_dir = channels_dir_of(config)
    trust_cfg = load_trust(channels_dir)
    index = newest_v1_index(root)
    names = args.channel or sorted(index.channels)
    first = config.channel(names[0]).expected_signer(dev)
    now = datetime.now(UTC).replace(microsecond=0)
    with tuf_signer(args, first.for_line(_newest_line(index, names[0]))) as opener:
        trust = opener.trust

        def setup(store: Any, lines: dict[str, set[str]]) -> None:
            if not dev:
                tt.install_repo_trust(store, channels_dir)
                return
            want = tt.desired(
                [config.channel(n) for n in lines], trust_cfg, dev=True, trust=trust, lines=lines
            )
            path = opener._signer.trust_config_path
            assert path is not None  # dev signing always writes its trust config
            with tt.dev_maintainers(path) as maintainers:
                tt.ensure_dev_trust(
                    store, want, trust_cfg.holders(True).identities, maintainers, now
                )

        @contextlib.contextmanager
        def open_signer(ident: Identity) -> Iterator[Any]:
            if ident == opener.identity:
                yield opener
                return
            if not dev:
                raise UsageError(
                    f"this run signs as {opener.identity.identity}; {ident.identity} signs "
                    "another channel",
                    hint="migrate one channel per signer: --channel NAME",
                )
            from release.adapters.devsigstore import mint_identity_token

            setup_ = SigningSetup(
                mode="trust-config",
                trust_config=opener._signer.trust_config_path,
                identity_token=mint_identity_token(ident.identity, ident.issuer),
            )
            with keys.open_signer(setup_, ident) as other:
                yield other

        results = migrate(
            root,
            list(config.channels.values()),
            dev=dev,
            open_signer=open_signer,
            now=now,
            trust_setup=setup,
            only=names,
        )
        from release.channel.backends.directory import DirectoryBackend
        from release.channel.tuf.repo import TufStore

        _views(TufStore(DirectoryBackend(root)), root, opener, config.channel(names[0]))
    done = [n for n, r in zip(names, results, strict=True) if r.changed]
    anchor = root / "metadata/1.root.json" if dev else "channels/root.json"
    out.result(
        f"migrated {', '.join(done) or 'nothing (already done)'} to schema 2 in {root}; "
        f"consumers need the root: {anchor}",
        {"migrated": done, "store": str(root)},
    )
    return 0


def _newest_line(index: Any, channel: str) -> str:
    from release.channel.model import line_key

    lines: list[str] = list(index.channels[channel].lines) or ["0.0"]
    return str(max(lines, key=line_key))
