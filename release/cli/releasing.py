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
        type=Path,
        metavar="DIR",
        help="channel store directory (default: [tool.release] out, dist/channel)",
    )
    p.add_argument(
        "--push",
        action="store_true",
        help="push the branch and tag to origin and publish to GitHub",
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


def run_options(args: argparse.Namespace, root: Path) -> Any:
    from release.config import load_config
    from release.logging import register_secret
    from release.pipeline import RunOptions
    from release.versions import parse_date

    config = load_config(root)
    now = datetime.now(UTC).replace(microsecond=0)
    day = parse_date(args.date) if args.date else None
    out = args.out if args.out is not None else root / config.out
    register_secret(args.identity_token)
    opts = RunOptions(
        out=out.resolve(),
        now=now,
        day=day,
        sign=args.sign,
        identity_token=args.identity_token,
        trust_config=args.trust_config,
        push=args.push,
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
    return _report(release_edge(git, config, opts, Progress(out)), out)


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
    lines.append(f"  channel index: {s['index']}")
    if s.get("trust_config"):
        lines.append(
            f"  dev signatures (untrusted): verify with --trust-config {s['trust_config']}"
        )
    if not s["pushed"]:
        lines.append("  not pushed (run again with --push to push the tag and branch)")
    out.result("\n".join(lines), {"state": "released", **s})
    return 0
