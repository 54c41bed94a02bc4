"""Setting a project up: ``release config`` (the effective configuration, with sources)
and ``release init`` (adopt an existing repository).

Read-only except ``init`` without ``--dry-run``; no sigstore, PyGithub or rich.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from release.cli._output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "config", help="the effective configuration, each value with where it came from"
    )
    p.add_argument(
        "--keys", action="store_true", help="every key the schema knows, with type and default"
    )
    p.set_defaults(handler=cmd_config)

    p = sub.add_parser(
        "init",
        help="adopt this repository: infer the channels from its tags and branches, "
        "write channels/*.toml, release.toml or [tool.release], and workflows",
    )
    p.add_argument("--dry-run", action="store_true", help="show the files; write nothing")
    p.add_argument(
        "--action",
        metavar="OWNER/REPO@SHA",
        help="the release-channels action the workflows call, pinned by commit "
        "(default: the commit of this tool's source tree, when it runs from one)",
    )
    p.set_defaults(handler=cmd_init)


def _toml_value(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    return json.dumps(value, ensure_ascii=False)


def render_values(values: Sequence[Any]) -> list[str]:
    """TOML-shaped lines, one table header per table, ``# source`` after each value."""
    from release.config.schema import Value

    lines: list[str] = []
    current: tuple[str, ...] | None = None
    width = 44
    for v in values:
        assert isinstance(v, Value)
        if v.table != current:
            current = v.table
            if not v.table:
                lines.append("\n[project]")
            elif v.table[-1].endswith("]"):  # an entry of an array of tables
                path = Value(v.table[:-1], v.table[-1].split("[")[0], None, "").path
                lines.append(f"\n[[{path}]]  # {v.table[-1].split('[')[1].rstrip(']')}")
            else:
                lines.append(f"\n[{Value(v.table[:-1], v.table[-1], None, '').path}]")
        text = f"{v.key} = {_toml_value(v.value)}"
        lines.append(f"{text.ljust(width)}  # {v.source}")
    return lines


def cmd_keys(out: Output) -> int:
    from release.config import ChannelConfig, ProjectConfig
    from release.config.schema import reference

    sections = (
        ("release.toml or [tool.release]", reference(ProjectConfig)),
        ("channels/NAME.toml", reference(ChannelConfig)),
    )
    text: list[str] = []
    data: dict[str, list[dict[str, str]]] = {}
    for title, rows in sections:
        text.append(f"# {title}")
        current = None
        for table, key, expected, note in rows:
            if table != current:
                current = table
                if table:
                    text.append(f"[{table}]")
            text.append(f"  {key}: {expected}" + (f" ({note})" if note else ""))
        data[title] = [{"table": t, "key": k, "expected": e, "about": n} for t, k, e, n in rows]
        text.append("")
    out.result("\n".join(text).rstrip(), data)
    return 0


def cmd_config(args: argparse.Namespace, out: Output) -> int:
    if args.keys:
        return cmd_keys(out)
    from release.adapters.git import Git
    from release.config import effective_values, load_config

    root = Git(args.repo).ensure_repo()
    config = load_config(root)
    values = effective_values(config)
    where = config.config_file or "no release.toml or [tool.release]: defaults"
    text = [f"# {root}", f"# project settings: {where}"]
    text += [f"# {note}" for note in config.notes]
    text += render_values(values)
    data = {
        "root": str(root),
        "config_file": config.config_file,
        "notes": list(config.notes),
        "channels": list(config.channels),
        "values": {v.path: {"value": v.value, "source": v.source} for v in values},
    }
    out.result("\n".join(text), data)
    return 0


def cmd_init(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.git import Git
    from release.initrepo import plan_init, write_init

    git = Git(args.repo)
    root = git.ensure_repo()
    plan = plan_init(Git(root), action=args.action)
    text = plan.report()
    if args.dry_run:
        for path, body in plan.contents().items():
            text.append(f"\n--- {path} ---\n{body.rstrip()}")
        text.append("\n(dry run: nothing written)")
    else:
        write_init(plan)
        text.append("written; check with `release config` and `release status`")
    for note in plan.warnings:
        out.warn(note)
    out.result("\n".join(text), {**plan.to_dict(), "written": not args.dry_run})
    return 0
