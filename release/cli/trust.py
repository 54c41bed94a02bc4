"""``release trust init|rotate|sign|show``: the root of trust of the project's channels.

``init`` makes root v1 and the top-level targets v1 from ``channels/trust.toml`` (the
maintainers, threshold, expiry) and ``channels/*.toml`` (each channel's signer), signed
by the caller, who must be one of the maintainers; ``rotate`` makes the next versions
after ``trust.toml`` or the channels changed. A root counts only once a threshold of
the OLD and of the NEW maintainers signed it: other maintainers add their signature
with ``sign``. Real roots go to ``channels/root.json`` and ``channels/tuf/`` (commit
them; the publisher copies them into the store). With ``--sign dev`` everything is
made on the local dev instance, inside the store (``--store``), for offline use.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from release.cli._output import Output
from release.errors import UsageError, VerificationError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("trust", help="the channels' root of trust (TUF root and targets)")
    trust_sub = p.add_subparsers(dest="trust_command", required=True, metavar="COMMAND")
    signing = argparse.ArgumentParser(add_help=False)
    signing.add_argument(
        "--sign",
        choices=("sigstore", "staging", "trust-config", "dev"),
        default="sigstore",
        help="Sigstore instance to sign with (dev: the local one, into --store)",
    )
    signing.add_argument("--trust-config", type=Path, help="Sigstore ClientTrustConfig JSON")
    signing.add_argument("--identity-token", help="OIDC token (else ambient credentials)")
    signing.add_argument("--store", type=Path, help="with --sign dev: the channel store")
    lines = argparse.ArgumentParser(add_help=False)
    lines.add_argument(
        "--line",
        action="append",
        default=[],
        metavar="X.Y",
        help="authorise line X.Y of channels whose signer has {line} (before it is cut)",
    )
    lines.add_argument(
        "--retire-line",
        action="append",
        default=[],
        metavar="X.Y",
        help="remove an end-of-life line's identity (its releases stay readable until its "
        "line role expires)",
    )
    lines.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="NAME",
        help="--line / --retire-line apply to this channel only (repeatable)",
    )
    for name, text in (
        ("init", "root v1 and targets v1 from channels/trust.toml and channels/*.toml"),
        ("rotate", "the next root (and targets) after trust.toml or the channels changed"),
        ("sign", "add your signature to the newest root and targets"),
    ):
        parents = [signing] if name == "sign" else [signing, lines]
        cmd = trust_sub.add_parser(name, parents=parents, help=text)
        cmd.set_defaults(handler=cmd_trust)
    show = trust_sub.add_parser("show", help="the root chain and who holds each role")
    show.add_argument("--store", type=Path, help="show a store's roots instead")
    show.set_defaults(handler=cmd_show)


def _setup(args: argparse.Namespace) -> Any:
    from release.adapters.sigstore import SigningSetup

    if args.sign == "trust-config" and args.trust_config is None:
        raise UsageError("--sign trust-config needs --trust-config FILE")
    return SigningSetup(
        mode=args.sign,
        trust_config=args.trust_config if args.sign == "trust-config" else None,
        identity_token=args.identity_token,
    )


def cmd_trust(args: argparse.Namespace, out: Output) -> int:
    from release.config import load_config
    from release.trust_config import channels_dir_of, load_trust

    config = load_config(args.repo)
    channels_dir = channels_dir_of(config)
    trust_cfg = load_trust(channels_dir)
    if args.sign == "dev":
        return _dev(args, out, config, trust_cfg)
    return _real(args, out, config, trust_cfg, channels_dir)


def _dev(args: argparse.Namespace, out: Output, config: Any, trust_cfg: Any) -> int:
    """Everything on the local dev instance, straight into the store."""
    from release.adapters.devsigstore import DEV_ISSUER
    from release.channel.backends.directory import DirectoryBackend
    from release.channel.tuf import keys
    from release.channel.tuf import lines as lp
    from release.channel.tuf import trust as tt
    from release.channel.tuf.repo import TufStore
    from release.config import Identity

    if args.trust_command == "sign":
        raise UsageError("dev roots are signed when they are made", hint="use init or rotate")
    root = Path(args.store or config.root / config.out)
    root.mkdir(parents=True, exist_ok=True)
    store = TufStore(DirectoryBackend(root))
    if args.trust_command == "init" and store.root() is not None:
        raise UsageError(f"{root} already has a root", hint="use `release trust rotate`")
    channels = [c for c in config.channels.values() if c.dev_signer is not None]
    if args.retire_line:
        raise UsageError(
            "--retire-line is for real roots",
            hint="a dev root names every line its store published; remove the dev store instead",
        )
    lines = store.lines_of({c.name for c in channels})
    added = lp.parse_lines(args.line, "--line")
    for ch in _scoped(config, args, lp.per_line(channels, dev=True), added):
        lines.setdefault(ch.name, set()).update(added)
    holders = trust_cfg.holders(True).identities
    now = datetime.now(UTC).replace(microsecond=0)
    setup = _setup(args)
    with keys.open_signer(setup, Identity(holders[0].identity, DEV_ISSUER)) as signer:
        want = tt.desired(channels, trust_cfg, dev=True, trust=signer.trust, lines=lines)
        path = signer._signer.trust_config_path
        assert path is not None  # dev signing always writes its trust config
        with tt.dev_maintainers(path) as maintainers:
            changed = tt.ensure_dev_trust(store, want, holders, maintainers, now)
    current = store.root()
    assert current is not None
    version = current.signed.version
    out.result(
        f"dev root v{version} in {root / 'metadata'} "
        f"({'new' if changed else 'unchanged'}); consumers: --root {root / 'metadata/1.root.json'}",
        {"root_version": version, "changed": changed, "store": str(root)},
    )
    return 0


def _real(
    args: argparse.Namespace, out: Output, config: Any, trust_cfg: Any, channels_dir: Path
) -> int:
    from tuf.api._payload import Root, Targets
    from tuf.api.metadata import Metadata

    from release.channel.tuf import keys
    from release.channel.tuf import trust as tt
    from release.channel.tuf.metadata import serialize

    roots = tt.repo_roots(channels_dir)
    if args.trust_command == "init" and roots:
        raise UsageError(
            f"{channels_dir / tt.REPO_DIR} already holds root v{len(roots)}",
            hint="change channels/trust.toml and run `release trust rotate`",
        )
    if args.trust_command != "init" and not roots:
        raise UsageError("no root yet", hint="run `release trust init` first")
    trust_cfg.holders(False)  # an empty [root] is refused before asking for credentials
    now = datetime.now(UTC).replace(microsecond=0)
    channels = [c for c in config.channels.values() if c.signer is not None]
    targets_bytes = tt.repo_targets(channels_dir)
    old_targets: Metadata[Targets] | None = (
        Metadata[Targets].from_bytes(targets_bytes) if targets_bytes else None
    )
    prev_targets = old_targets.signed if old_targets else None
    plans = (
        _line_plans(args, config, channels, prev_targets, now.date())
        if args.trust_command != "sign"
        else {}
    )
    setup = _setup(args)
    with keys.open_signer(setup, None) as signer:
        me = signer.identity
        trust = signer.trust
        want = tt.desired(
            channels,
            trust_cfg,
            dev=False,
            trust=trust,
            lines={name: plan.lines for name, plan in plans.items()},
            retired={name: plan.retired for name, plan in plans.items()},
        )
        prev = tt.parse_root(roots[-1], "root").signed if roots else None
        root_md: Metadata[Root] | None
        targets_md: Metadata[Targets] | None
        if args.trust_command == "sign":
            root_md = tt.parse_root(roots[-1], "root")
            targets_md = old_targets
        else:
            root_md = (
                tt.next_root(prev, want, now)
                if prev is None or not tt.root_matches(prev, want)
                else None
            )
            targets_md = (
                tt.next_targets(prev_targets, want, now)
                if root_md is not None
                or prev_targets is None
                or not tt.targets_matches(prev_targets, want)
                else None
            )
            if root_md is None and targets_md is None:
                out.result(
                    "trust.toml and the channels match the newest root: nothing to do"
                    + "".join(f"\n{t}" for t in _describe_lines(plans)),
                    {"lines": _lines_data(plans)},
                )
                return 0
        holders = {k.keyid for k in want.root_keys}
        if prev is not None:
            holders |= set(prev.roles["root"].keyids)
        if signer.public_key.keyid not in holders:
            raise VerificationError(
                f"{me.identity} ({me.issuer}) is not a root maintainer",
                hint="sign as one of the identities in channels/trust.toml [root]",
            )
        root_bytes = tt.sign_with(root_md, [signer]) if root_md is not None else None
        tbytes = None
        if targets_md is not None:
            newest = root_md or tt.parse_root(roots[-1], "root")
            if signer.public_key.keyid in newest.signed.roles["targets"].keyids:
                tbytes = tt.sign_with(targets_md, [signer])
            else:
                tbytes = serialize(targets_md)
    written = tt.write_repo(channels_dir, root_bytes, tbytes)
    missing = _missing(channels_dir)
    text = f"wrote {', '.join(str(p) for p in written)}"
    if missing:
        text += f"; still needed: {missing} (other maintainers: `release trust sign`)"
    text += "".join(f"\n{t}" for t in _describe_lines(plans))
    out.result(
        text,
        {"written": [str(p) for p in written], "missing": missing, "lines": _lines_data(plans)},
    )
    return 0


def _scoped(
    config: Any, args: argparse.Namespace, per_line: list[Any], wanted: list[str]
) -> list[Any]:
    """The ``{line}`` channels ``--line``/``--retire-line`` apply to (``--channel``)."""
    chosen = per_line
    if args.channel:
        names = {config.channel(n).name for n in args.channel}  # unknown names: ConfigError
        chosen = [c for c in per_line if c.name in names]
        plain = sorted(names - {c.name for c in chosen})
        if plain:
            raise UsageError(
                f"channel {', '.join(plain)} has no signer templated with {{line}}",
                hint="--line and --retire-line concern per-line identities only",
            )
    if wanted and not chosen:
        raise UsageError(
            "--line and --retire-line need a channel whose signer has {line}",
            hint="none of channels/*.toml has one; lines of other channels need no identity",
        )
    return chosen


def _line_plans(
    args: argparse.Namespace, config: Any, channels: list[Any], prev_targets: Any, today: Any
) -> dict[str, Any]:
    """The lines of every ``{line}`` channel (see :mod:`release.channel.tuf.lines`)."""
    from release.adapters.git import Git
    from release.channel.tuf import lines as lp
    from release.channel.tuf import trust as tt

    per_line = lp.per_line(channels)
    add = lp.parse_lines(args.line, "--line")
    retire = lp.parse_lines(args.retire_line, "--retire-line")
    scoped = _scoped(config, args, per_line, add + retire)
    if not per_line:
        return {}
    facts = lp.repo_line_facts(Git(config.root), config, per_line, today)
    previous = {c.name: tt.authorised_lines(prev_targets, c.name) for c in per_line}
    plans = lp.plan_lines(scoped, previous, facts, add=add, retire=retire)
    rest = [c for c in per_line if c.name not in plans]
    plans.update(lp.plan_lines(rest, previous, facts))
    return plans


def _describe_lines(plans: dict[str, Any]) -> list[str]:
    from release.channel.tuf.trust import sort_lines

    out = []
    for name in sorted(plans):
        plan = plans[name]
        shown = [ln + (" (new)" if ln in plan.added else "") for ln in sort_lines(plan.lines)]
        text = f"channel {name}: line identities {', '.join(shown) or 'none'}"
        if plan.retired:
            gone = [
                ln + (" (now)" if ln in plan.dropped else "") for ln in sort_lines(plan.retired)
            ]
            text += f"; retired {', '.join(gone)}"
        if not plan.lines:
            text += " (nobody can publish on it: authorise a line with --line X.Y)"
        out.append(text)
    return out


def _lines_data(plans: dict[str, Any]) -> dict[str, Any]:
    from release.channel.tuf.trust import sort_lines

    return {
        name: {
            "lines": sort_lines(p.lines),
            "retired": sort_lines(p.retired),
            "added": sort_lines(p.added),
            "retired_now": sort_lines(p.dropped),
        }
        for name, p in sorted(plans.items())
    }


def _missing(channels_dir: Path) -> str:
    """What the repository's newest root and targets still lack (empty: both verify)."""
    from tuf.api.metadata import Metadata

    from release.channel.tuf import trust as tt

    try:
        chain = tt.check_chain(tt.repo_roots(channels_dir))
        targets = tt.repo_targets(channels_dir)
        if targets is not None:
            tt.check_targets(chain[-1].signed, Metadata.from_bytes(targets))
    except VerificationError as exc:
        return exc.message
    return ""


def cmd_show(args: argparse.Namespace, out: Output) -> int:
    from release.channel.tuf import trust as tt
    from release.config import load_config
    from release.trust_config import channels_dir_of

    def newest(folder: Path, role: str) -> list[Path]:
        found = [p for p in folder.glob(f"*.{role}.json") if p.name.split(".")[0].isdigit()]
        return sorted(found, key=lambda p: int(p.name.split(".")[0]))

    if args.store is not None:
        chain = [p.read_bytes() for p in newest(Path(args.store) / "metadata", "root")]
        found = newest(Path(args.store) / "metadata", "targets")
        targets = found[-1].read_bytes() if found else None
    else:
        config = load_config(args.repo)
        channels_dir = channels_dir_of(config)
        chain = tt.repo_roots(channels_dir)
        targets = tt.repo_targets(channels_dir)
    if not chain:
        raise UsageError("no root yet", hint="run `release trust init`")
    rows: list[dict[str, Any]] = []
    for data in chain:
        md = tt.parse_root(data, "root")
        signed = md.signed
        who = {
            role: [signed.keys[k].keyval.get("identity", k[:16]) for k in signed.roles[role].keyids]
            for role in ("root", "targets", "snapshot", "timestamp")
        }
        rows.append(
            {
                "version": signed.version,
                "expires": signed.expires.isoformat(),
                "threshold": signed.roles["root"].threshold,
                "roles": who,
                "signatures": len(md.signatures),
            }
        )
    lines = [
        f"root v{r['version']} (expires {r['expires']}): threshold {r['threshold']} of "
        f"{', '.join(r['roles']['root'])}; publishers {', '.join(r['roles']['timestamp'])}"
        for r in rows
    ]
    shown = _targets_rows(targets) if targets is not None else None
    if shown is not None and args.store is None:
        _unauthorised_lines(config, shown)
    if shown is not None:
        lines.append(f"targets v{shown['version']} (expires {shown['expires']}):")
        for name, ch in shown["channels"].items():
            if ch["lines"] is None:
                lines.append(f"  {name}: {', '.join(ch['keys']) or 'no key'}")
                continue
            bound = [f"{ln} {ident}" for ln, ident in ch["lines"].items()]
            lines.append(f"  {name} (one identity per line): {'; '.join(bound) or 'no line'}")
            if ch["retired_lines"]:
                lines.append(f"    retired: {', '.join(ch['retired_lines'])}")
            if ch.get("unauthorised_lines"):
                missing = ", ".join(ch["unauthorised_lines"])
                lines.append(
                    f"    in the repository but not authorised: {missing} (nobody can publish "
                    f"on them: `release trust rotate` adds them)"
                )
    out.result("\n".join(lines), {"roots": rows, "targets": shown})
    return 0


def _unauthorised_lines(config: Any, shown: dict[str, Any]) -> None:
    """Add to ``shown`` the lines each ``{line}`` channel has in the repository (tags,
    branches) that its targets neither authorise nor retired (two git calls)."""
    from datetime import UTC, datetime

    from release.adapters.git import Git
    from release.channel.tuf import lines as lp
    from release.channel.tuf.trust import sort_lines

    channels = [c for c in lp.per_line(config.channels.values()) if c.name in shown["channels"]]
    if not channels:
        return
    facts = lp.repo_line_facts(Git(config.root), config, channels, datetime.now(UTC).date())
    for ch in channels:
        row = shown["channels"][ch.name]
        known = set(row["lines"] or {}) | set(row["retired_lines"])
        row["unauthorised_lines"] = sort_lines(facts[ch.name].found - known)


def _targets_rows(data: bytes) -> dict[str, Any]:
    """Who may sign each channel: its keys, and a ``{line}`` channel's line identities."""
    from tuf.api._payload import Targets
    from tuf.api.metadata import Metadata

    from release.channel.tuf import trust as tt

    signed = Metadata[Targets].from_bytes(data).signed
    delegations = signed.delegations
    roles = (delegations.roles or {}) if delegations is not None else {}
    channels: dict[str, Any] = {}
    for name, role in sorted(roles.items()):
        assert delegations is not None
        keys = [
            str(delegations.keys[k].keyval.get("identity", k[:16]))
            for k in role.keyids
            if k in delegations.keys
        ]
        binding = tt.binding_of(signed, name)
        lines = binding.get("lines") if binding else None
        gone = binding.get("retired-lines") if binding else None
        channels[name] = {
            "keys": keys,
            "lines": {ln: lines[ln] for ln in tt.sort_lines(lines)} if lines is not None else None,
            "retired_lines": dict(gone) if gone else {},
        }
    return {"version": signed.version, "expires": signed.expires.isoformat(), "channels": channels}
