"""``release channel sync SRC DST``: copy a channel store between backends.

SRC and DST are directories (a store or a pages checkout) or s3://BUCKET/PREFIX
URLs (?endpoint=URL&region=NAME for S3-compatible servers). S3 credentials come
from the standard AWS environment and config chain.
"""

from __future__ import annotations

import argparse
from typing import Any

from release.cli._output import Output


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sync",
        help="copy a channel store (directory, pages checkout, s3://) to another, resumably",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("src", metavar="SRC", help="source store: DIR or s3://BUCKET/PREFIX")
    p.add_argument("dst", metavar="DST", help="destination store: DIR or s3://BUCKET/PREFIX")
    p.add_argument(
        "--workers", type=int, default=16, help="parallel copies of immutable files (default 16)"
    )
    p.set_defaults(handler=cmd_sync)


def cmd_sync(args: argparse.Namespace, out: Output) -> int:
    from release.channel.backends.location import open_backend
    from release.channel.sync import sync
    from release.errors import UsageError

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    src, dst = open_backend(args.src), open_backend(args.dst)
    result = sync(src, dst, workers=args.workers)
    text = (
        f"synced {src.description} -> {dst.description}: {len(result.copied)} copied, "
        f"{len(result.swapped)} swapped ({', '.join(result.swapped) or 'none'}), "
        f"{result.present} already there"
    )
    out.result(
        text,
        {
            "source": src.description,
            "destination": dst.description,
            "copied": result.copied,
            "swapped": result.swapped,
            "present": result.present,
        },
    )
    return 0
