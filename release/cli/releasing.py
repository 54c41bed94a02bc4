"""``release edge`` and ``release stable …``: plan, run and resume releases."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from release.cli._output import Output


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="release date (UTC); default: today")
    p.add_argument(
        "--sign",
        choices=("auto", "sigstore", "staging", "dev", "none"),
        default="auto",
        help="auto: Sigstore with CI credentials, dev signing on a laptop (default)",
    )
    p.add_argument("--identity-token", metavar="JWT", help="OIDC identity token for Sigstore")
    p.add_argument(
        "--trust-config",
        type=Path,
        metavar="FILE",
        help="ClientTrustConfig JSON of a private Sigstore deployment",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="channel store directory (default: [tool.release] out, dist/channel)",
    )
    p.add_argument(
        "--push",
        action="store_true",
        help="push the branch and tag to origin and publish to GitHub",
    )
    p.add_argument(
        "--allow-dev-signatures",
        action="store_true",
        help="let --push publish dev-signed releases (public, verifiable by nobody)",
    )
    p.add_argument(
        "--assembled",
        type=Path,
        metavar="DIR",
        help="use artifacts merged by `release assemble` instead of building",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("edge", help="cut, sign and publish the next edge release")
    _add_run_options(p)
    p.set_defaults(handler=cmd_edge)
    _register_stable(sub)


def _register_stable(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    st = sub.add_parser("stable", help="stable lines: cut, point releases, backports, ledger")
    ssub = st.add_subparsers(dest="stable_command", metavar="ACTION")
    ssub.required = True

    def channel_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--channel", metavar="NAME", help="stable channel (default: stable; e.g. a vendor's)"
        )

    def pick_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--pick",
            action="append",
            default=[],
            metavar="SHA|#PR",
            help="main commit or PR number to cherry-pick (repeatable)",
        )
        p.add_argument("--label", metavar="LABEL", help="pick merged PRs with this GitHub label")

    def conflict_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--conflict-branch",
            action="store_true",
            help="on a conflict, commit the conflicting state on backport/X.Y/<sha> for a "
            "human (and open a draft PR with --push and GitHub configured)",
        )

    p = ssub.add_parser("cut", help="cut a new line X.Y from an edge release")
    p.add_argument("--from", dest="from_edge", metavar="EDGE_TAG", help="default: latest edge")
    p.add_argument("--line", metavar="X.Y", help="default: the next minor line")
    channel_opt(p)
    _add_run_options(p)
    p.set_defaults(handler=cmd_stable, action="cut")

    p = ssub.add_parser("point", help="the next point release of the newest line")
    p.add_argument("line", metavar="LINE")
    pick_opts(p)
    conflict_opt(p)
    channel_opt(p)
    _add_run_options(p)
    p.set_defaults(handler=cmd_stable, action="point")

    p = ssub.add_parser("backport", help="a release on an older line with picked fixes")
    p.add_argument("line", metavar="LINE")
    pick_opts(p)
    p.add_argument("--force-eol", action="store_true", help="release on a line past its EOL")
    conflict_opt(p)
    channel_opt(p)
    _add_run_options(p)
    p.set_defaults(handler=cmd_stable, action="backport")

    p = ssub.add_parser("ledger", help="which main commit each line commit came from")
    p.add_argument("line", metavar="LINE", nargs="?", help="one line (default: every line)")
    p.add_argument("--commit", metavar="SHA", help="which lines carry this main commit")
    channel_opt(p)
    p.set_defaults(handler=cmd_ledger)


def run_options(args: argparse.Namespace, root: Path) -> Any:
    from release.config import load_config
    from release.logging import register_secret
    from release.pipeline import RunOptions
    from release.versions import parse_date

    config = load_config(root)
    now = datetime.now(UTC).replace(microsecond=0)
    day = parse_date(args.date) if args.date else None
    from release.cli._paths import output_dir

    out = output_dir(args.out if args.out is not None else root / config.out, "--out")
    register_secret(args.identity_token)
    opts = RunOptions(
        out=out,
        now=now,
        day=day,
        sign=args.sign,
        identity_token=args.identity_token,
        trust_config=args.trust_config,
        push=args.push,
        allow_dev_signatures=args.allow_dev_signatures,
        dry_run=args.dry_run,
        env=dict(os.environ),
        assembled=args.assembled.resolve() if args.assembled else None,
    )
    return config, opts


class Progress:
    """Step-by-step progress: rich on a terminal, plain lines otherwise."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.console: Any = None
        if not out.json_mode and sys.stdout.isatty():
            from rich.console import Console

            self.console = Console()

    def __call__(self, step: str, state: str, detail: str) -> None:
        if self.console is not None:
            mark = {
                "start": "[cyan]…[/]",
                "done": "[green]✓[/]",
                "skip": "[dim]=[/]",
                "fail": "[red]✗[/]",
            }.get(state, "·")
            if state == "start" and step != "resume":
                self.console.print(f" {mark} {step}", end="\r")
                return
            self.console.print(f" {mark} {step:<10} {detail}", highlight=False)
        else:
            if state == "start" and step != "resume":
                return
            self.out.info(f"{state:>5} {step}: {detail}".rstrip(": "))


def cmd_edge(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.git import Git
    from release.edge import release_edge

    git = Git(args.repo)
    root = git.ensure_repo()
    git = Git(root)
    config, opts = run_options(args, root)
    result = release_edge(git, config, opts, Progress(out))
    for warning in result.plan.warnings if result.state != "planned" else ():
        out.warn(warning)
    return _report(result, out)


def cmd_stable(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.git import Git
    from release.stable import StableRequest, release_stable

    git = Git(args.repo)
    root = git.ensure_repo()
    git = Git(root)
    config, opts = run_options(args, root)
    request = StableRequest(
        action=args.action,
        channel=args.channel,
        line=args.line,
        from_edge=getattr(args, "from_edge", None),
        picks=tuple(getattr(args, "pick", ())),
        label=getattr(args, "label", None),
        force_eol=getattr(args, "force_eol", False),
        conflict_branch=getattr(args, "conflict_branch", False),
    )
    result = release_stable(git, config, opts, Progress(out), request)
    for warning in result.plan.warnings if result.state != "planned" else ():
        out.warn(warning)
    return _report(result, out)


def cmd_ledger(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.git import Git
    from release.config import load_config
    from release.ledger import branch_ref, line_ledgers, lines_carrying
    from release.stable import stable_channel, stable_releases
    from release.versions import parse_line

    git = Git(args.repo)
    root = git.ensure_repo()
    git = Git(root)
    config = load_config(root)
    channel = stable_channel(config, args.channel)
    lines = sorted({v.line for _, v in stable_releases(git, channel, config)}, reverse=True)
    if args.commit:
        wanted = [parse_line(args.line)] if args.line else lines
        carriers = lines_carrying(git, channel, wanted, args.commit)
        sha = git.resolve(args.commit)
        text = [f"{sha[:12]} is carried by {len(carriers)} line(s) of {channel.name}:"]
        text += [f"  {c.line:<8} {c.branch:<14} {c.commit[:12]}  ({c.how})" for c in carriers]
        data = {
            "commit": sha,
            "channel": channel.name,
            "lines": [
                {"line": c.line, "branch": c.branch, "commit": c.commit, "how": c.how}
                for c in carriers
            ],
        }
        out.result("\n".join(text), data)
        return 0
    wanted = [parse_line(args.line)] if args.line else lines
    specs = [
        (str(line), channel.branch_for(line))
        for line in wanted
        # without LINE, old lines whose branch is gone are left out
        if args.line or branch_ref(git, channel.branch_for(line)) is not None
    ]
    if lines and not specs:
        raise _no_line_branch(git, channel, lines)
    ledgers = line_ledgers(git, specs, channel.branch)
    text = []
    for ledger in ledgers:
        line, branch = ledger.line, ledger.branch
        picked = sum(1 for e in ledger.entries if e.origin)
        unsure = sum(1 for e in ledger.entries if e.possible)
        text.append(
            f"{line} ({branch}, cut at {ledger.cut_base[:12]}): {len(ledger.entries)} commits, "
            f"{picked} from {channel.branch}"
            + (f", {unsure} possible (low confidence, not counted)" if unsure else "")
        )
        for e in ledger.entries:
            if e.origin:
                src = f"<- {e.origin.main_commit[:12]} ({e.origin.describe()})"
                if e.origin.also:
                    src += f" +{len(e.origin.also)}"
            elif e.possible:
                src = f"?? {e.possible.main_commit[:12]} ({e.possible.describe()}, low)"
            else:
                src = "(line only)"
            text.append(f"  {e.commit[:12]} {src:<30} {e.subject}")
    out.result(
        "\n".join(text) or f"no stable releases in channel {channel.name} yet",
        {"lines": [ledger.to_dict() for ledger in ledgers]},
    )
    return 0


def _no_line_branch(git: Any, channel: Any, lines: list[Any]) -> Exception:
    """The stable lines have releases but ``branch-format`` names none of their branches."""
    from release.errors import ConfigError

    looked = ", ".join(channel.branch_for(line) for line in lines[:3])
    names = [
        name.removeprefix("origin/")
        for pattern in ("refs/heads", "refs/remotes/origin")
        for name in git.branches(pattern)
    ]
    newest = str(lines[0])
    similar = sorted({n for n in names if newest in n})
    seen = f"; branches naming {newest}: {', '.join(similar)}" if similar else ""
    return ConfigError(
        f"no branch matches branch-format {channel.branch_format!r} of channel "
        f"{channel.name} (looked for {looked}){seen}",
        hint=f"set branch-format in channels/{channel.name}.toml to your release branches' "
        "name, e.g. 'release/stable-{major}.{minor}' (`release init --dry-run` infers it)",
    )


def _report(result: Any, out: Output) -> int:
    if result.state == "planned":
        out.result(result.plan.render(), {"state": "planned", "plan": result.plan.to_dict()})
        return 0
    if result.state == "already-released":
        out.result(
            f"{result.plan.tag} is already released from this commit; nothing to do",
            {"state": "already-released", **result.summary},
        )
        return 0
    s = result.summary
    lines = [f"released {s['tag']} ({s['channel']}) from {str(s['commit'])[:12]}"]
    for a in s["artifacts"]:
        lines.append(f"  {a['name']}  {a['size']} bytes  sha256:{a['sha256']}")
    lines.append(f"  channel: {s['index'].removesuffix('index.json')} (TUF root {s['root']})")
    if s.get("trust_config"):
        lines.append(
            f"  dev signatures (untrusted): verify with --trust-config {s['trust_config']}"
        )
    if not s["pushed"]:
        lines.append("  not pushed (run again with --push to push the tag and branch)")
    out.result("\n".join(lines), {"state": "released", **s})
    return 0
