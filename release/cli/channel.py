"""``release channel …``: read, verify and download releases; publish channel documents.

The consumer commands (``latest``, ``list``, ``show``, ``check``, ``download``,
``verify``, ``state``) live in :mod:`release.cli.channel_read` and verify schema-2
(TUF) stores from a root given out of band. A schema-1 store in a directory (no
``metadata/``, before ``release channel migrate``) is still read by the v1 handlers
below: ``latest`` checks structure, pins, expiry and the state file without sigstore
(``--verify`` adds signatures); ``check`` exits 0 when up to date, 1 when action is
advised and 3 when the answer is unknown.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.cli._args import SIGN_MODES, add_store_signing
from release.cli._output import Output

if TYPE_CHECKING:
    from release.channel.client import Anchor, ChannelClient
    from release.channel.signing import DocumentSigner, DocumentVerifier
    from release.channel.store import ChannelStore
    from release.config import ChannelConfig, Identity, ProjectConfig
from release.errors import ChannelError, ReleaseError, UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "channel",
        help="read, verify and download releases from a channel index",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    sub = parser.add_subparsers(dest="channel_command", metavar="ACTION")
    sub.required = True

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--source",
        help="channel store: a directory or https:// URL "
        "(default: $RELEASE_CHANNEL_SOURCE, else [tool.release] out)",
    )
    common.add_argument("--channel", help="channel name (default: stable if present)")
    common.add_argument(
        "--state-dir",
        type=Path,
        help="client state (default: $XDG_STATE_HOME/release-channels/client)",
    )
    legacy = common.add_argument_group("schema-1 stores only (v1 index, before migrate)")
    legacy.add_argument(
        "--channels-dir",
        type=Path,
        help="trust the signers of these channels/*.toml (default: trust on first use, then pin)",
    )
    legacy.add_argument("--trust-config", type=Path, help="Sigstore ClientTrustConfig JSON")
    legacy.add_argument("--trusted-root", type=Path, help="Sigstore trusted root JSON")
    legacy.add_argument("--staging", action="store_true", help="Sigstore staging instance")
    legacy.add_argument(
        "--dev",
        action="store_true",
        help="the local dev Sigstore instance (its trust config in the dev state dir)",
    )
    legacy.add_argument(
        "--offline",
        action="store_true",
        help="do not refresh the Sigstore trust root over the network",
    )
    common.add_argument("--max-index-size", type=int, default=1 << 20, help=argparse.SUPPRESS)

    from release.cli.channel_read import add_consumer_options, register_consumer

    add_consumer_options(common)
    register_consumer(sub, common)

    from release.cli.channel_publish import register_migrate

    register_migrate(sub)

    from release.cli.channel_import import register_import

    register_import(sub)

    publisher = argparse.ArgumentParser(add_help=False)
    add_store_signing(
        publisher,
        modes=(*SIGN_MODES, "none"),
        sign_help="how to sign the new documents (trust-config: the instance --trust-config names)",
    )
    publisher.add_argument("--channel", required=True, help="channel name (channels/NAME.toml)")
    publisher.add_argument("--line", help="line X.Y for signers templated with {line}")
    publisher.add_argument(
        "--expires-days", type=int, default=30, help="days until the new index expires"
    )

    p = sub.add_parser("withdraw", parents=[publisher], help="withdraw a published release")
    p.add_argument("version")
    p.add_argument("--reason", required=True, help="why (shown to every client)")
    p.add_argument("--replacement", help="the version to use instead")
    p.set_defaults(handler=cmd_withdraw)

    p = sub.add_parser(
        "refresh",
        parents=[publisher],
        help="re-sign timestamp, snapshot and expiring roles (schedule it daily)",
    )
    p.set_defaults(handler=cmd_refresh)

    p = sub.add_parser(
        "page",
        parents=[common],
        help="render the views: index.html, versions.json, feeds, install scripts",
    )
    p.add_argument("--out", type=Path, help="write only the page, to this file")
    p.add_argument("--base-url", help="where the store is served (absolute links)")
    p.set_defaults(handler=cmd_page)

    from release.cli import channel_sync

    channel_sync.register(sub)


def make_verifier(args: argparse.Namespace) -> DocumentVerifier:
    """The Sigstore verifier chosen by --trust-config / --trusted-root / --staging."""
    from release.channel.signing import SigstoreDocumentVerifier

    trust_config = args.trust_config
    if args.dev and trust_config is None:
        from release.adapters.sigstore import DEV_TRUST_CONFIG_NAME, default_dev_state_dir

        trust_config = default_dev_state_dir(os.environ) / DEV_TRUST_CONFIG_NAME
        if not trust_config.is_file():
            raise UsageError(
                f"no dev trust config at {trust_config}",
                hint="sign something with --sign dev first, or pass --trust-config",
            )
    return SigstoreDocumentVerifier(
        trust_config=trust_config,
        trusted_root=args.trusted_root,
        staging=args.staging,
        offline=args.offline,
    )


def _source(args: argparse.Namespace) -> str:
    if args.source:
        return str(args.source)
    env = os.environ.get("RELEASE_CHANNEL_SOURCE")
    if env:
        return env
    from release.config import load_config

    out = load_config(args.repo).root / load_config(args.repo).out
    if (out / "index.json").is_file():
        return str(out)
    raise UsageError(
        "no channel source given", hint="pass --source DIR|URL or set RELEASE_CHANNEL_SOURCE"
    )


def _client(args: argparse.Namespace, *, verify: bool, state: bool = True) -> ChannelClient:
    from release.channel.client import (
        ChannelClient,
        Limits,
        StateFile,
        default_state_dir,
        load_anchors,
    )
    from release.channel.fetch import fetcher_for

    now = datetime.now(UTC).replace(microsecond=0)  # the one clock reading of this run
    source = _source(args)
    anchors: dict[str, Anchor] | None = None
    if args.channels_dir is not None:
        anchors = load_anchors(args.channels_dir)
    state_file = None
    if state:
        state_file = StateFile(args.state_dir or default_state_dir(), source)
    return ChannelClient(
        fetcher_for(source),
        now=now,
        verifier=make_verifier(args) if verify else None,
        state=state_file,
        anchors=anchors,
        limits=Limits(index=args.max_index_size),
    )


def _channel_name(args: argparse.Namespace, client: ChannelClient) -> str:
    if args.channel:
        return str(args.channel)
    names = sorted(client.index().channels)
    return "stable" if "stable" in names else names[0]


def _finish(client: ChannelClient, out: Output) -> None:
    for w in client.warnings:
        out.warn(w)
    client.save_state()


def cmd_latest(args: argparse.Namespace, out: Output) -> int:
    client = _client(args, verify=args.verify)
    name = _channel_name(args, client)
    version = client.latest(name, args.line)
    if version is None:
        where = f"line {args.line} of {name}" if args.line else f"channel {name}"
        raise ChannelError(f"{where} has no active release")
    doc = client.channel(name)
    from release.channel.model import parse_version
    from release.versions import TagFormat

    tag = TagFormat(doc.tag_format).format(parse_version(doc.kind, version))
    _finish(client, out)
    out.result(
        tag if args.tag else version,
        {
            "channel": name,
            "line": args.line,
            "version": version,
            "tag": tag,
            "signatures_verified": client.verifies_signatures,
        },
    )
    return 0


def cmd_list(args: argparse.Namespace, out: Output) -> int:
    client = _client(args, verify=False)
    names = [args.channel] if args.channel else sorted(client.index().channels)
    rows: list[str] = []
    data: dict[str, Any] = {}
    for name in names:
        doc = client.channel(name)
        data[name] = {"kind": doc.kind, "latest": doc.latest, "lines": []}
        rows.append(f"{name} ({doc.kind}): latest {doc.latest or 'none'}")
        for e in reversed(doc.lines):
            s = e.support
            rows.append(
                f"  {e.line:<8} {s.phase:<12} released {s.released or '-'}  "
                f"eol {s.eol or '-'}  latest {e.latest or '-'}"
            )
            data[name]["lines"].append(
                {
                    "line": e.line,
                    "latest": e.latest,
                    "phase": s.phase,
                    "released": str(s.released) if s.released else None,
                    "eol": str(s.eol) if s.eol else None,
                }
            )
    _finish(client, out)
    out.result("\n".join(rows), data)
    return 0


def cmd_show(args: argparse.Namespace, out: Output) -> int:
    client = _client(args, verify=False)
    name = _channel_name(args, client)
    _, release = client.find(name, args.version)
    lines = [
        f"{release.tag} ({name}) {release.status}",
        f"published {release.published_at.isoformat()} from {release.source.repository}"
        f" {release.source.commit} ({release.source.ref})",
        f"signer {release.signer.identity} ({release.signer.issuer})",
    ]
    if release.withdrawal is not None:
        lines.append(
            f"withdrawn: {release.withdrawal.reason}"
            + (f"; use {release.withdrawal.replacement}" if release.withdrawal.replacement else "")
        )
    for a in release.artifacts:
        lines.append(f"  {a.name}  {a.platform}  {a.size} bytes  sha256 {a.sha256}")
    _finish(client, out)
    out.result("\n".join(lines), release.to_dict())
    return 0


def cmd_verify(args: argparse.Namespace, out: Output) -> int:
    client = _client(args, verify=True)
    counts = client.verify_all()
    index = client.index()
    _finish(client, out)
    out.result(
        f"verified index v{index.version}: {counts['channels']} channels, "
        f"{counts['lines']} lines, {counts['releases']} releases",
        {"index_version": index.version, **counts},
    )
    return 0


def cmd_download(args: argparse.Namespace, out: Output) -> int:
    client = _client(args, verify=True)
    name = _channel_name(args, client)
    paths = client.download(
        name, args.version, args.to, os_name=args.os_name, arch=args.arch, name=args.name
    )
    _finish(client, out)
    out.result("\n".join(f"verified {p}" for p in paths), {"files": [str(p) for p in paths]})
    return 0


def cmd_check(args: argparse.Namespace, out: Output) -> int:
    client = _client(args, verify=True)
    try:
        name = _channel_name(args, client)
    except ReleaseError as err:  # a check never turns a failed verification into "ok"
        out.result(f"unknown: {err.message}", {"status": "unknown", "reason": err.message})
        return 3
    result = client.check(name, args.version)
    if result.status != "unknown":
        _finish(client, out)
    out.result(
        result.message,
        {
            "status": result.status,
            "version": result.version,
            "channel": name,
            "latest_in_line": result.latest_in_line,
            "latest": result.latest,
            "message": result.message,
            **result.data,
        },
    )
    return {"up-to-date": 0, "unknown": 3}.get(result.status, 1)


def cmd_page(args: argparse.Namespace, out: Output) -> int:
    """Regenerate the views of a local store (page, versions.json, feeds, install scripts)."""
    from release.channel import views
    from release.channel.store import ChannelStore, atomic_write

    source = _source(args)
    if "://" in source:
        raise UsageError(
            "views are rendered into a local store; --source must be a directory",
            hint="run it where the store is published from",
        )
    store = ChannelStore(Path(source))
    now = datetime.now(UTC).replace(microsecond=0)
    view = store.view_input(now, base_url=args.base_url)
    if args.out is not None:
        atomic_write(args.out, views.render_views(view)[views.PAGE])
        out.result(f"wrote {args.out}", {"page": str(args.out)})
        return 0
    changed = views.write_views(store.root, views.render_views(view))
    target = store.root / views.PAGE
    out.result(f"wrote {target}", {"page": str(target), "changed": changed})
    return 0


@contextlib.contextmanager
def _document_signer(
    args: argparse.Namespace, template: Identity, line: str | None
) -> Iterator[DocumentSigner | None]:
    """The signer for new channel documents (None with --sign none)."""
    if args.sign == "none":
        yield None
        return
    from release.adapters.sigstore import SigningSetup, open_signer
    from release.channel.signing import SigstoreDocumentSigner

    ident = template
    if "{line}" in template.identity:
        if line is None:
            raise UsageError(f"the signer {template.identity} is per line", hint="pass --line X.Y")
        ident = template.for_line(line)
    setup = SigningSetup(
        mode=args.sign,
        trust_config=args.trust_config if args.sign == "trust-config" else None,
        identity_token=args.identity_token,
        dev_state_dir=args.dev_state if args.sign == "dev" else None,
    )
    with open_signer(setup, ident) as files_signer:
        yield SigstoreDocumentSigner(files_signer)


def _publisher(args: argparse.Namespace) -> tuple[ProjectConfig, ChannelConfig, ChannelStore]:
    from release.channel.store import ChannelStore
    from release.config import load_config

    config = load_config(args.repo)
    channel = config.channel(args.channel)
    root = args.store or config.root / config.out
    if not (Path(root) / "index.json").is_file():
        raise UsageError(f"{root} is not a channel store (no index.json)")
    return config, channel, ChannelStore(Path(root))


def _published(out: Output, what: str, result: Any) -> int:
    state = "published" if result.changed else "unchanged (already done)"
    out.result(
        f"{what}: {state}; index v{result.index_version}",
        {
            "changed": result.changed,
            "index_version": result.index_version,
            "index_document": result.index_document,
            "channel_document": result.channel_document,
            "line_document": result.line_document,
        },
    )
    return 0


def _tuf_store(args: argparse.Namespace) -> bool:
    from release.cli.channel_publish import is_schema_2
    from release.config import load_config

    config = load_config(args.repo)
    if args.store is None and config.channel(args.channel).publish_target == "s3":
        return True  # the store is the bucket: always schema 2
    return is_schema_2(Path(args.store or config.root / config.out))


def cmd_withdraw(args: argparse.Namespace, out: Output) -> int:
    from release.channel.model import parse_version
    from release.channel.strictjson import DocumentError

    if _tuf_store(args):
        from release.cli import channel_publish

        return channel_publish.withdraw(args, out, _is_dev(args))
    config, channel, store = _publisher(args)
    try:
        line = args.line or str(parse_version(channel.kind, args.version).line)
    except DocumentError as exc:
        raise UsageError(exc.message) from exc
    now = datetime.now(UTC).replace(microsecond=0)
    dev = _is_dev(args)
    with _document_signer(args, channel.expected_signer(dev), line) as signer:
        result = store.withdraw(
            channel,
            args.version,
            reason=args.reason,
            replacement=args.replacement,
            project=config.project,
            now=now,
            signer=signer,
            dev=dev,
            expires_in=timedelta(days=args.expires_days),
        )
        store.render_views(now, signer=signer, channel=channel.name, base_url=channel.publish_url)
    return _published(out, f"withdrew {channel.name} {args.version}", result)


def cmd_refresh(args: argparse.Namespace, out: Output) -> int:
    if _tuf_store(args):
        from release.cli import channel_publish

        return channel_publish.refresh(args, out, _is_dev(args))
    config, channel, store = _publisher(args)
    now = datetime.now(UTC).replace(microsecond=0)
    dev = _is_dev(args)
    with _document_signer(args, channel.expected_signer(dev), args.line) as signer:
        result = store.refresh(
            channel,
            project=config.project,
            now=now,
            signer=signer,
            dev=dev,
            expires_in=timedelta(days=args.expires_days),
        )
        store.render_views(now, signer=signer, channel=channel.name, base_url=channel.publish_url)
    return _published(out, f"refreshed the index as {channel.name}", result)


def _is_dev(args: argparse.Namespace) -> bool:
    """Whether the documents are signed as the channel's [dev-signer]."""
    if args.sign == "dev":
        return True
    if args.sign != "trust-config":
        return False
    if args.trust_config is None:
        raise UsageError("--sign trust-config needs --trust-config FILE")
    from release.adapters.sigstore import is_dev_trust_config

    return bool(is_dev_trust_config(args.trust_config))
