"""``release channel import``: backfill a signed (TUF) channel store from the release tags."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from release.cli._args import SIGN_MODES, add_store_signing
from release.cli._output import Output
from release.errors import UsageError


def register_import(sub: Any) -> None:
    p = sub.add_parser(
        "import",
        help="build a signed channel store from the repository's release tags (backfill)",
    )
    add_store_signing(
        p,
        modes=("auto", *SIGN_MODES),
        default="auto",
        sign_help="auto: Sigstore with CI credentials, dev signing on a laptop (default)",
    )
    p.add_argument(
        "--channel",
        action="append",
        default=[],
        help="import this channel (repeat; default: every configured channel; with real "
        "signing, run once per channel signer)",
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="the store already has releases: add only the missing ones",
    )
    p.add_argument(
        "--unverified-bundles",
        choices=("refuse", "record-as-files"),
        default="refuse",
        help="a GitHub asset whose .sigstore.json does not verify for the identity the "
        "channel expects: refuse the import (default), or record the asset and its bundle "
        "as checksummed files only, with a warning naming each",
    )
    p.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace, out: Output) -> int:
    import os

    from release.adapters.git import Git
    from release.channel.backends.directory import DirectoryBackend
    from release.channel.tuf import import_assets, importer
    from release.channel.tuf.repo import TufStore
    from release.cli.channel_publish import is_schema_2
    from release.config import load_config
    from release.history import build_history
    from release.preflight import resolve_sign_mode
    from release.trust_config import channels_dir_of, load_trust

    git = Git(args.repo)
    git = Git(git.ensure_repo())
    git.ensure_full_history()
    config = load_config(git.root)
    root = Path(args.store or config.root / config.out)
    names = args.channel or sorted(config.channels)
    channels = {n: config.channel(n) for n in names}
    if (root / "index.json").is_file() and not is_schema_2(root):
        raise UsageError(
            f"{root} is a schema 1 channel store",
            hint="run `release channel migrate` first, or import into an empty --store",
        )
    store = TufStore(DirectoryBackend(root))
    have = importer.existing_versions(store, names)
    published = {n: len(v) for n, v in have.items() if v}
    if published and not args.merge:
        counts = ", ".join(f"{n}: {c}" for n, c in sorted(published.items()))
        raise UsageError(
            f"{root} already has releases ({counts})",
            hint="pass --merge to add only the releases it is missing, or import into an "
            "empty --store",
        )
    history = build_history(git.tags(), config)
    repository = config.repository or git.remote_url() or str(config.root)
    notes = importer.release_notes(
        history, lambda revs: git.log(revs, topo_order=True), repository=config.repository
    )
    mode = resolve_sign_mode(args.sign, os.environ, args.identity_token)
    dev = mode == "dev"
    releases = importer.releases_of(history, channels, notes, dev=dev, repository=repository)
    if not releases:
        raise UsageError(
            f"no release tags of {', '.join(names)} in {git.root}",
            hint="`release status` lists the tags counted as releases",
        )
    for name, records in releases.items():
        if name in have:
            known = set(have[name])
            releases[name] = [r for r in records if r.version not in known]
            importer.check_merge(channels[name], have[name], releases[name])
    now = datetime.now(UTC).replace(microsecond=0)
    trust_cfg = load_trust(channels_dir_of(config))
    results = [
        importer.ChannelImport(name, (), len(have.get(name, ())), None)
        for name, records in releases.items()
        if not records
    ]
    todo = {name: records for name, records in releases.items() if records}
    if todo:
        with import_assets.staging_beside(root) as staging, _signers(args, mode) as open_signer:
            staged = _github_assets(out, config.repository, staging, channels, todo)
            opener = open_signer(next(iter(todo.values()))[-1].signer)
            files = _verified_files(out, root, staged, opener.trust.spec, args.unverified_bundles)
            for name, records in todo.items():
                todo[name] = [
                    replace(r, artifacts=files[r.tag][0], checksums=files[r.tag][1])
                    if r.tag in files
                    else r
                    for r in records
                ]
            _setup_trust(store, config, channels, todo, opener, dev, trust_cfg, now)
            for name, records in todo.items():
                results.append(
                    importer.import_channel(
                        store,
                        channels[name],
                        records,
                        have.get(name),
                        project=config.project,
                        dev=dev,
                        now=now,
                        open_signer=_keep_open(open_signer),
                        expiry=trust_cfg.expiry,
                    )
                )
                _views(store, root, open_signer(records[-1].signer), channels[name], now)
    results.sort(key=lambda r: r.channel)
    return _report(out, root, results, history, dev)


@contextlib.contextmanager
def _signers(args: argparse.Namespace, mode: str) -> Iterator[Any]:
    """One certificate per signing identity for the whole import (``open(identity)``);
    real signing signs as one identity: other channels are refused with a hint."""
    from release.adapters.sigstore import SigningSetup
    from release.channel.tuf import keys

    setup = SigningSetup(
        mode=mode,
        trust_config=args.trust_config if mode == "trust-config" else None,
        identity_token=args.identity_token,
        dev_state_dir=args.dev_state if mode == "dev" else None,
    )
    opened: dict[Any, Any] = {}
    with contextlib.ExitStack() as stack:

        def open_signer(ident: Any) -> Any:
            if ident in opened:
                return opened[ident]
            if opened and mode != "dev":
                have = next(iter(opened))
                raise UsageError(
                    f"this run signs as {have.identity}; {ident.identity} signs another "
                    "channel or line",
                    hint="import one channel per signer: --channel NAME",
                )
            if not opened:
                signer = stack.enter_context(keys.open_signer(setup, ident))
            else:
                from release.adapters.devsigstore import mint_identity_token

                path = next(iter(opened.values()))._signer.trust_config_path
                other = SigningSetup(
                    mode="trust-config",
                    trust_config=path,
                    identity_token=mint_identity_token(ident.identity, ident.issuer),
                )
                signer = stack.enter_context(keys.open_signer(other, ident))
            opened[ident] = signer
            return signer

        yield open_signer


def _github_assets(
    out: Output,
    repository: str | None,
    staging: Path,
    channels: dict[str, Any],
    releases: dict[str, list[Any]],
) -> list[Any]:
    """With GitHub configured (``repository`` on GitHub and a token): the assets of the
    GitHub release of each of ``releases``, downloaded into ``staging`` (streamed, hashed)."""
    import os

    from release.channel import model
    from release.channel.tuf import import_assets
    from release.pipeline import github_slug

    slug = github_slug(repository)
    if slug is None:
        return []
    if not (os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")):
        out.warn("no GITHUB_TOKEN or GH_TOKEN: the assets of the GitHub releases are not recorded")
        return []
    from release.adapters.github import GitHubClient

    wanted = {
        r.tag: import_assets.Wanted(
            name, str(model.parse_version(channels[name].kind, r.version).line), r.signer
        )
        for name, records in releases.items()
        for r in records
    }
    with GitHubClient.from_environment(os.environ) as client:
        staged: list[Any] = import_assets.stage(client, slug, wanted, staging)
    return staged


def _verified_files(
    out: Output, root: Path, staged: list[Any], trust_spec: str, policy: str
) -> dict[str, Any]:
    """Every artifact bundle of ``staged`` verified (or refused), every file checked against
    the store, then placed and recorded: tag -> (artifacts, checksums)."""
    from release.channel.tuf import import_assets

    if not staged:
        return {}
    refusals = import_assets.check_bundles(staged, trust_spec)
    unverified = import_assets.refuse(refusals, policy)
    for r in refusals:
        out.warn(
            f"{r.tag}: {r.asset} and {r.bundle} are recorded as checksummed files only, "
            f"NOT as a signed artifact: {r.describe()}"
        )
    import_assets.check_place(root, staged)
    return import_assets.place(root, staged, unverified)


def _keep_open(open_signer: Any) -> Any:
    @contextlib.contextmanager
    def cm(ident: Any) -> Iterator[Any]:
        yield open_signer(ident)

    return cm


def _setup_trust(
    store: Any,
    config: Any,
    channels: dict[str, Any],
    releases: dict[str, list[Any]],
    opener: Any,
    dev: bool,
    trust_cfg: Any,
    now: datetime,
) -> None:
    """The store's root and targets: the repository's root (real signing), or a dev root
    delegating every channel the store will hold (as the pipeline's dev publication)."""
    from release.channel import model
    from release.channel.tuf import trust as tt
    from release.trust_config import channels_dir_of

    if not dev:
        tt.install_repo_trust(store, channels_dir_of(config))
        return
    lines = store.lines_of(set(config.channels))
    for name, records in releases.items():
        for r in records:
            line = str(model.parse_version(channels[name].kind, r.version).line)
            lines.setdefault(name, set()).add(line)
    want = tt.desired(
        [config.channel(n) for n in lines], trust_cfg, dev=True, trust=opener.trust, lines=lines
    )
    path = opener._signer.trust_config_path
    assert path is not None  # dev signing always writes its trust config
    with tt.dev_maintainers(path) as maintainers:
        tt.ensure_dev_trust(store, want, trust_cfg.holders(True).identities, maintainers, now)


def _views(store: Any, root: Path, signer: Any, channel: Any, now: datetime) -> None:
    from release.channel.signing import SigstoreDocumentSigner
    from release.channel.tuf.reader import render_views

    render_views(
        store,
        root,
        now,
        signer=SigstoreDocumentSigner(signer._signer),
        channel=channel.name,
        base_url=channel.publish_url,
    )


def _report(out: Output, root: Path, results: list[Any], history: Any, dev: bool) -> int:
    rows = []
    data: dict[str, Any] = {"store": str(root), "channels": {}, "anomalies": []}
    for r in results:
        rows.append(
            f"{r.channel}: {len(r.added)} release(s) added"
            + (f", {r.present} already present" if r.present else "")
        )
        data["channels"][r.channel] = {
            "added": list(r.added),
            "present": r.present,
            "timestamp_version": r.result.timestamp_version if r.result else None,
        }
    for a in history.anomalies:
        rows.append(f"left out: {a.tag} ({a.reason})")
        data["anomalies"].append(a.to_dict())
    anchor = root / "metadata/1.root.json" if dev else "channels/root.json"
    rows.append(f"imported into {root}; consumers need the root: {anchor}")
    out.result("\n".join(rows), data)
    return 0
