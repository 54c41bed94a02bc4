"""``release doctor``: report (and ``--repair``) what crashes and kills left behind."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from release.cli._output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        help="find stale worktrees, temp files, locks, orphan documents, journal mismatches",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="channel store directory (default: [tool.release] out, dist/channel)",
    )
    p.add_argument("--repair", action="store_true", help="remove what can be removed safely")
    p.add_argument(
        "--expiry-days",
        type=int,
        default=30,
        metavar="N",
        help="unreferenced documents older than this are removed by --repair (default: 30)",
    )
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace, out: Output) -> int:
    from datetime import timedelta

    from release.adapters.git import Git
    from release.cli._paths import output_dir
    from release.cli.exitcodes import PRECONDITION
    from release.config import load_config
    from release.doctor import examine

    git = Git(args.repo)
    root = git.ensure_repo()
    git = Git(root)
    store = args.out if args.out is not None else root / load_config(root).out
    store_dir: Path = output_dir(store, "--out")
    report = examine(
        git,
        store_dir,
        now=datetime.now(UTC),
        expiry=timedelta(days=args.expiry_days),
        repair=args.repair,
    )
    lines = []
    for f in report.findings:
        state = "repaired" if f.repaired else ("repairable" if f.repairable else "report only")
        lines.append(f"{f.kind:<9} {state:<11} {f.path}: {f.detail}")
    unresolved = report.unresolved
    if not report.findings:
        lines.append("nothing to repair: no stale worktree, temp file, lock, orphan or journal")
    elif unresolved and not args.repair and any(f.repairable for f in unresolved):
        lines.append("run `release doctor --repair` to remove what is repairable")
    out.result(
        "\n".join(lines),
        {"findings": [f.to_dict() for f in report.findings], "ok": not unresolved},
    )
    return PRECONDITION if unresolved else 0
