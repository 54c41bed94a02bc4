"""``release channel latest|list|show|check|download|verify|state``: the consumer side.

Every command verifies through TUF (:mod:`release.channel.tuf.client`) from a root
given out of band: ``--root FILE`` or ``$RELEASE_CHANNEL_ROOT``, the repository's
``channels/root.json``, or ``--root-sha256 HEX``; ``--trust-on-first-use`` is an
explicit, loud opt-in. ``--no-verify`` reads without any check, and then every printed
line starts with ``UNVERIFIED`` and ``--json`` carries ``"verified": false``.

Versions and tags are interchangeable (``2.15.1``, ``stable-2.15.1``); a tag names its
channel. Exit codes: 0 ok (``check``: the answer is in the output), 1 verification
failed or attack refused, 2 usage or config, 3 could not decide (network, no root, a
declared channel that has published nothing yet).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.cli._output import Output
from release.errors import ChannelNotPublished, UsageError

if TYPE_CHECKING:
    from release.channel.tuf.client import ChannelClient

UNVERIFIED = "UNVERIFIED"


def add_consumer_options(common: argparse.ArgumentParser) -> None:
    """Options of every consumer command (trust, state, network limits)."""
    g = common.add_argument_group("trust (schema 2 / TUF stores)")
    g.add_argument("--root", type=Path, metavar="FILE", help="the channel's TUF root, out of band")
    g.add_argument(
        "--root-sha256", metavar="HEX", help="pin the root the store serves by its sha256"
    )
    g.add_argument(
        "--trust-on-first-use",
        action="store_true",
        help="trust whatever root the store serves now (loud; prefer --root)",
    )
    g.add_argument(
        "--no-verify",
        action="store_true",
        help="read without verifying anything (every line says UNVERIFIED)",
    )
    g.add_argument(
        "--deadline", type=float, default=60.0, metavar="SECONDS", help="per download (60)"
    )
    g.add_argument(
        "--min-rate",
        type=float,
        default=4096.0,
        metavar="BYTES",
        help="minimum average bytes/s per download after 5 s (4096)",
    )


def register_consumer(sub: Any, common: argparse.ArgumentParser) -> None:
    from release.cli import channel as legacy

    p = sub.add_parser("latest", parents=[common], help="print the latest version")
    p.add_argument("--line", help="latest of one line X.Y")
    p.add_argument("--tag", action="store_true", help="print the tag instead of the version")
    p.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)  # always, now
    p.set_defaults(handler=cmd_latest, legacy=legacy.cmd_latest)

    p = sub.add_parser("list", parents=[common], help="lines with phase, EOL and latest")
    p.set_defaults(handler=cmd_list, legacy=legacy.cmd_list)

    p = sub.add_parser("show", parents=[common], help="one release: files, digests, signer")
    p.add_argument("version", help="a version or a tag (2.15.1, stable-2.15.1)")
    p.set_defaults(handler=cmd_show, legacy=legacy.cmd_show)

    p = sub.add_parser(
        "verify", parents=[common], help="verify every document, and the files of releases"
    )
    p.add_argument(
        "versions", nargs="*", metavar="VERSION", help="also verify these releases' files"
    )
    p.add_argument("--all-files", action="store_true", help="verify the files of every release")
    p.set_defaults(handler=cmd_verify, legacy=legacy.cmd_verify)

    p = sub.add_parser("download", parents=[common], help="download and verify artifacts")
    p.add_argument("version", help="a version or a tag")
    p.add_argument("--os", dest="os_name", metavar="OS", help="e.g. linux, darwin, windows")
    p.add_argument("--arch", help="e.g. amd64, arm64")
    p.add_argument("--name", help="one artifact by file name")
    p.add_argument(
        "--to", type=Path, required=True, metavar="DIR", help="directory to put the files in"
    )
    p.set_defaults(handler=cmd_download, legacy=legacy.cmd_download)

    p = sub.add_parser(
        "check", parents=[common], help="is VERSION up to date, patched, EOL or withdrawn?"
    )
    p.add_argument("version", help="a version or a tag")
    p.set_defaults(handler=cmd_check, legacy=legacy.cmd_check)

    p = sub.add_parser("state", parents=[common], help="show or forget this client's state")
    p.add_argument("action", nargs="?", choices=("show", "forget"), default="show")
    p.set_defaults(handler=cmd_state)


# --- plumbing ------------------------------------------------------------------------


def _source(args: argparse.Namespace) -> str:
    if args.source:
        source = str(args.source)
        try:
            source.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"--source {source.encode('utf-8', 'surrogateescape')!r} is not valid UTF-8",
                hint="channel sources are named in UTF-8; rename the directory or link to it "
                "from a UTF-8 path",
            ) from None
        return source
    env = os.environ.get("RELEASE_CHANNEL_SOURCE")
    if env:
        return env
    from release.config import load_config

    config = load_config(args.repo)
    out = config.root / config.out
    if out.is_dir():
        return str(out)
    raise UsageError(
        "no channel source given", hint="pass --source DIR|URL or set RELEASE_CHANNEL_SOURCE"
    )


def _is_legacy(source: str) -> bool:
    """A schema-1 store in a directory (no TUF metadata): read by the v1 client."""
    if "://" in source:
        return False
    root = Path(source)
    return (root / "index.json").is_file() and not (root / "metadata").is_dir()


def _deadline(args: argparse.Namespace) -> Any:
    from release.channel.fetch import Deadline

    if args.deadline <= 0 or args.min_rate < 0:
        raise UsageError("--deadline must be positive and --min-rate not negative")
    return Deadline(total=args.deadline, min_rate=args.min_rate)


def _open(args: argparse.Namespace, out: Output, source: str) -> ChannelClient:
    from release.channel.tuf.client import open_client

    client = open_client(
        source,
        root=args.root,
        root_sha256=args.root_sha256,
        repo=args.repo,
        state_dir=args.state_dir,
        deadline=_deadline(args),
        trust_on_first_use=args.trust_on_first_use,
        verify=not args.no_verify,
        dev_trust_config=_dev_trust_config(args),
    )
    anchor = client.anchor
    if anchor is not None and anchor.tofu:
        who = ", ".join(anchor.identities()) or "unknown keys"
        out.warn(
            f"TRUST ON FIRST USE: pinned root v{anchor.version} sha256 {anchor.sha256} "
            f"from {client.source} (root keys: {who})"
        )
        out.warn(
            "anyone who controlled that source just now could have chosen this root; "
            "check the hash out of band and pass --root-sha256 next time"
        )
    return client


def _dev_trust_config(args: argparse.Namespace) -> Path | None:
    """With ``--dev``: the local dev instance's trust config (or ``--trust-config``)."""
    if not getattr(args, "dev", False):
        return None
    if args.trust_config is not None:
        return Path(args.trust_config)
    from release.adapters.sigstore import DEV_TRUST_CONFIG_NAME, default_dev_state_dir

    return default_dev_state_dir(os.environ) / DEV_TRUST_CONFIG_NAME


def _finish(client: ChannelClient, out: Output) -> None:
    for w in client.warnings:
        out.warn(w)
    client.save()


def _result(out: Output, client_verified: bool, text: str, data: dict[str, Any]) -> None:
    data = {"verified": client_verified, **data}
    if not client_verified:
        text = "\n".join(f"{UNVERIFIED}: {line}" for line in text.splitlines())
    out.result(text, data)


def _dispatch(args: argparse.Namespace, out: Output) -> tuple[str, bool]:
    """The source, and whether the v1 client reads it (a schema-1 directory store).

    Never a downgrade: when a TUF root is at hand (given out of band, the repository's,
    or this client's state for the source), a store without TUF metadata is refused.
    """
    source = _source(args)
    if not _is_legacy(source):
        return source, False
    from release.channel.tuf.bootstrap import ENV_ROOT, find_repo_root
    from release.channel.tuf.state import ClientState, canonical_source, default_state_dir

    state = ClientState(args.state_dir or default_state_dir(), canonical_source(source))
    why = (
        "--root"
        if args.root is not None
        else "--root-sha256"
        if args.root_sha256
        else f"${ENV_ROOT}"
        if os.environ.get(ENV_ROOT)
        else "--trust-on-first-use"
        if args.trust_on_first_use
        else f"the client state {state.path}"
        if state.has_trusted_root()
        else "the repository's channels/root.json"
        if args.repo is not None and find_repo_root(args.repo) is not None
        else None
    )
    if why is not None:
        from release.errors import TrustError

        raise TrustError(
            f"{state.canonical} has no TUF metadata (a schema-1 store), but a TUF root of "
            f"trust is at hand ({why}): refusing to read it without TUF",
            hint="a store that lost its metadata/ is a downgrade attack, or it was never "
            "migrated: release channel migrate",
        )
    return source, True


# --- commands ------------------------------------------------------------------------


def cmd_latest(args: argparse.Namespace, out: Output) -> int:
    source, legacy = _dispatch(args, out)
    if legacy:
        return int(args.legacy(args, out))
    if not args.no_verify:
        answer = _fast_latest(args, source)
        if answer is not None:
            _result(out, True, answer["tag"] if args.tag else answer["version"], answer)
            return 0
    client = _open(args, out, source)
    name = args.channel or client.default_channel()
    version = client.latest(name, args.line)
    if version is None:
        where = f"line {args.line} of {name}" if args.line else f"channel {name}"
        raise UsageError(f"{where} has no active release")
    data = {
        "channel": name,
        "line": args.line,
        "version": version,
        "tag": client.tag_of(name, version),
    }
    if client.verified:
        from release.channel.tuf.state import answer_key

        client.remember(answer_key("latest", args.channel, args.line), data)
    _finish(client, out)
    _result(out, client.verified, data["tag"] if args.tag else version, data)
    return 0


def _fast_latest(args: argparse.Namespace, source: str) -> dict[str, Any] | None:
    """The remembered verified answer when the store provably did not change."""
    from datetime import UTC, datetime

    from release.channel.fetch import fetcher_for
    from release.channel.tuf.bootstrap import resolve_anchor
    from release.channel.tuf.state import (
        ClientState,
        answer_key,
        canonical_source,
        default_state_dir,
        fast_answer,
    )

    state = ClientState(args.state_dir or default_state_dir(), canonical_source(source))
    if not state.exists or not state.has_trusted_root() or args.trust_on_first_use:
        return None
    fetcher = fetcher_for(source, deadline=_deadline(args))
    anchor = resolve_anchor(
        fetcher=fetcher,
        root_file=args.root,
        root_sha256=args.root_sha256,
        repo=args.repo,
        state_has_root=True,
        trust_on_first_use=False,
    )  # --dev needs nothing here: the state's root was reached by a verified run
    answer = fast_answer(
        state,
        fetcher,
        answer_key("latest", args.channel, args.line),
        datetime.now(UTC),
        anchor.sha256 if anchor is not None else None,
    )
    return answer if isinstance(answer, dict) else None


def cmd_list(args: argparse.Namespace, out: Output) -> int:
    source, legacy = _dispatch(args, out)
    if legacy:
        return int(args.legacy(args, out))
    client = _open(args, out, source)
    names = [args.channel] if args.channel else client.channels()
    rows: list[str] = []
    data: dict[str, Any] = {}
    for name in names:
        if not client.published(name):
            data[name] = {"published": False, "kind": None, "latest": None, "lines": []}
            rows.append(f"{name}: no releases yet (declared by the targets role)")
            continue
        doc = client.channel(name)
        data[name] = {"published": True, "kind": doc.kind, "latest": doc.latest, "lines": []}
        rows.append(f"{name} ({doc.kind}): latest {doc.latest or 'none'}")
        for e in reversed(doc.lines):
            s = e.support
            phase = s.phase_on(client.now.date())
            rows.append(
                f"  {e.line:<8} {phase:<12} released {s.released or '-'}  "
                f"eol {s.eol or '-'}  latest {e.latest or '-'}"
            )
            data[name]["lines"].append(
                {
                    "line": e.line,
                    "latest": e.latest,
                    "phase": phase,
                    "released": str(s.released) if s.released else None,
                    "eol": str(s.eol) if s.eol else None,
                }
            )
    _finish(client, out)
    _result(out, client.verified, "\n".join(rows), {"channels": data})
    return 0


def cmd_show(args: argparse.Namespace, out: Output) -> int:
    source, legacy = _dispatch(args, out)
    if legacy:
        return int(args.legacy(args, out))
    client = _open(args, out, source)
    name, version = client.resolve(args.version, args.channel)
    _, release = client.find(name, version)
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
    _result(out, client.verified, "\n".join(lines), {"channel": name, **release.to_dict()})
    return 0


def cmd_verify(args: argparse.Namespace, out: Output) -> int:
    source, legacy = _dispatch(args, out)
    if legacy:
        return int(args.legacy(args, out))
    if args.no_verify:
        raise UsageError("verify cannot run with --no-verify")
    client = _open(args, out, source)
    counts = client.verify_all()
    wanted = [client.resolve(v, args.channel) for v in args.versions]
    unpublished = client.unpublished()
    if args.all_files:
        for name in client.published_channels():
            for e in client.channel(name).lines:
                wanted += [(name, r.version) for r in client.line(name, e.line).releases]
    files: list[str] = []
    for name, version in wanted:
        files += client.verify_release(name, version)
    _finish(client, out)
    text = (
        f"verified {counts['channels']} channels, {counts['lines']} lines, "
        f"{counts['releases']} releases"
    )
    if wanted:
        text += f"; {len(files)} files of {len(wanted)} releases"
    if unpublished:
        text += f"; declared, no releases yet: {', '.join(unpublished)}"
    _result(out, True, text, {**counts, "files": files, "unpublished": unpublished})
    return 0


def cmd_download(args: argparse.Namespace, out: Output) -> int:
    source, legacy = _dispatch(args, out)
    if legacy:
        return int(args.legacy(args, out))
    if args.no_verify:
        raise UsageError("downloads are always verified", hint="drop --no-verify")
    client = _open(args, out, source)
    name, version = client.resolve(args.version, args.channel)
    paths = client.download(
        name, version, args.to, os_name=args.os_name, arch=args.arch, name=args.name
    )
    _finish(client, out)
    _result(
        out,
        True,
        "\n".join(f"verified {p}" for p in paths),
        {"channel": name, "version": version, "files": [str(p) for p in paths]},
    )
    return 0


def cmd_check(args: argparse.Namespace, out: Output) -> int:
    source, legacy = _dispatch(args, out)
    if legacy:
        return int(args.legacy(args, out))
    client = _open(args, out, source)
    try:
        name, version = client.resolve(args.version, args.channel)
    except ChannelNotPublished as exc:
        return _check_unpublished(client, out, args.version, exc)
    result = client.check(name, version)
    status = result.status if client.verified else "unknown"
    _finish(client, out)
    _result(
        out,
        client.verified,
        result.message,
        {
            "status": status,
            "version": result.version,
            "channel": name,
            "latest_in_line": result.latest_in_line,
            "latest": result.latest,
            "message": result.message,
            **result.data,
        },
    )
    return 0 if client.verified else 3


def _check_unpublished(
    client: ChannelClient, out: Output, version: str, exc: ChannelNotPublished
) -> int:
    """``check`` against a channel with no publication: the answer is unknown (exit 3)."""
    _finish(client, out)
    message = f"{exc.message}; cannot place {version}"
    _result(
        out,
        client.verified,
        message,
        {
            "status": "unknown",
            "version": version,
            "channel": exc.channel,
            "published": False,
            "latest_in_line": None,
            "latest": None,
            "message": message,
        },
    )
    if exc.hint:
        out.warn(exc.hint)
    return 3


def cmd_state(args: argparse.Namespace, out: Output) -> int:
    from release.channel.tuf.state import ClientState, canonical_source, default_state_dir

    state = ClientState(args.state_dir or default_state_dir(), canonical_source(_source(args)))
    if args.action == "forget":
        removed = state.forget()
        text = (
            f"forgot the state of {state.canonical} ({state.directory})"
            if removed
            else f"no state for {state.canonical} (would be {state.directory})"
        )
        out.result(
            text, {"source": state.canonical, "removed": removed, "path": str(state.directory)}
        )
        return 0
    info = state.describe()
    if not info["exists"]:
        out.result(f"no state for {state.canonical} (would be {state.path})", info)
        return 0
    rows = [f"{k}: {v}" for k, v in info.items()]
    out.result("\n".join(rows), info)
    return 0
