"""``release build`` (one slice of a split build) and ``release assemble`` (merge slices)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from release.cli._output import Output
from release.cli._paths import output_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("build", help="build one target's artifacts and write a manifest")
    p.add_argument(
        "--target",
        required=True,
        metavar="OS-ARCH",
        help="the slice to build (`any` for builds without targets)",
    )
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--tag", help="release tag to stamp (default: the next edge)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="date for the next edge (default: today)")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("assemble", help="check and merge slices built on many runners")
    p.add_argument("slices", nargs="+", type=Path, metavar="DIR")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(handler=cmd_assemble)


def cmd_build(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.build import BuildContext, run_builds
    from release.adapters.git import Git, export_tree
    from release.assemble import Manifest, ManifestEntry, write_manifest
    from release.checksums import hash_files
    from release.config import load_config
    from release.edge import next_edge_release
    from release.errors import UsageError
    from release.versions import StableVersion, parse_date, pep440

    slice_dir = output_dir(args.out, "--out")
    git = Git(args.repo)
    root = git.ensure_repo()
    git = Git(root)
    git.ensure_full_history()
    config = load_config(root)
    if args.tag:
        parsed = None
        for ch in config.channels.values():
            parsed = ch.tag_format.parse(args.tag)
            if parsed is not None:
                break
        if parsed is None:
            raise UsageError(f"{args.tag!r} is not a tag of any configured channel")
        version, tag = parsed, args.tag
    else:
        today = parse_date(args.date) if args.date else datetime.now(UTC).date()
        version, tag = next_edge_release(git, config, today)
    head = git.head()
    if head is None:
        raise UsageError("the repository has no commits")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="release-build-") as tmp:
        src = Path(tmp) / "src"
        export_tree(git, head, src)
        ctx = BuildContext(version=str(version), pep440=pep440(version), tag=tag)
        if slice_dir.exists() and any(slice_dir.iterdir()):
            raise UsageError(f"{slice_dir} is not empty", hint="give each slice a fresh directory")
        arts = run_builds(config.builds, ctx, src=src, out=slice_dir, target=args.target)
    digests = hash_files([a.path for a in arts])
    manifest = Manifest(
        tag=tag,
        version=str(version),
        pep440=pep440(version),
        commit=head,
        targets=(args.target,),
        artifacts=tuple(
            ManifestEntry(d.name, d.size, d.sha256, a.build, a.os, a.arch)
            for a, d in zip(arts, digests, strict=True)
        ),
    )
    write_manifest(slice_dir, manifest)
    kind = "stable" if isinstance(version, StableVersion) else "edge"
    lines = [f"built {tag} ({kind}) slice {args.target} from {head[:12]} into {slice_dir}"]
    lines += [f"  {d.name}  {d.size} bytes  sha256:{d.sha256}" for d in digests]
    out.result(
        "\n".join(lines),
        {
            "tag": tag,
            "target": args.target,
            "commit": head,
            "artifacts": [d.__dict__ for d in digests],
        },
    )
    return 0


def cmd_assemble(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.build import all_targets
    from release.adapters.git import Git
    from release.assemble import assemble
    from release.config import load_config

    dest = output_dir(args.out, "--out")
    root = Git(args.repo).ensure_repo()
    config = load_config(root)
    merged = assemble(args.slices, dest, expected_targets=all_targets(config.builds))
    out.result(
        f"assembled {merged.tag}: {len(merged.artifacts)} artifacts from "
        f"{len(merged.targets)} slices ({', '.join(merged.targets)}) into {args.out}",
        {
            "tag": merged.tag,
            "commit": merged.commit,
            "targets": list(merged.targets),
            "artifacts": [a.__dict__ for a in merged.artifacts],
        },
    )
    return 0
