"""The steps of a release, run from a plan with a journal so a crashed run resumes.

Facts in (git, config, date) -> preflight (every problem at once,
:mod:`release.preflight`) -> plan (pure) -> steps in :data:`release.plan.STEPS` order,
each recorded in the journal (:class:`Run`; :mod:`release.runner` runs it under the
repository lock). A failure before the ``tag`` step leaves the repository and the
channel exactly as they were (the work directory of the run is removed); from ``tag``
on, a re-run resumes at the failed step. Publication is last: the channel index moves
only after every file it names is in place and verified.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from release.adapters import build as build_adapter
from release.adapters.git import Git, advance_branch, commit_with_file, export_tree
from release.checksums import Digest, atomic_write, hash_file, hash_files, render_sums
from release.config import ChannelConfig, Identity, ProjectConfig
from release.errors import (
    BuildError,
    ChannelError,
    GitError,
    JournalError,
    PreflightError,
    ReleaseError,
)
from release.faults import point as fault_point
from release.files import copy_atomic, write_atomic
from release.journal import Journal
from release.plan import STEPS, ReleasePlan

log = logging.getLogger(__name__)

WORK_DIR = ".release-work"
SUMS = "SHA256SUMS"
PROVENANCE_BUNDLE = "provenance.intoto.sigstore.json"
DEV_TRUST_CONFIG = "dev-trust-config.json"
BUNDLE_SUFFIX = ".sigstore.json"

EventSink = Callable[[str, str, str], None]  # (step, state, detail)


@dataclass(frozen=True)
class RunOptions:
    """How to run. ``now`` (the real UTC clock, read once by the CLI) stamps documents;
    ``day`` (``--date``, default ``now``'s date) only chooses the version."""

    out: Path
    now: datetime
    day: date | None = None
    sign: str = "auto"  # auto | sigstore | staging | dev | none
    identity_token: str | None = None
    trust_config: Path | None = None
    push: bool = False
    allow_dev_signatures: bool = False  # --push of dev-signed releases (public, untrusted)
    dry_run: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    assembled: Path | None = None  # artifacts merged by `release assemble` (split builds)

    @property
    def today(self) -> date:
        return self.day or self.now.date()


@dataclass(frozen=True)
class RunResult:
    plan: ReleasePlan
    state: str  # "planned" | "released" | "already-released"
    summary: dict[str, Any]


def work_root(out: Path) -> Path:
    return out / WORK_DIR


def release_dir(out: Path, tag: str) -> Path:
    return out / "releases" / tag


# -- the run ----------------------------------------------------------------------------


class Run:
    """Executes one plan with its journal."""

    def __init__(
        self,
        git: Git,
        config: ProjectConfig,
        channel: ChannelConfig,
        plan: ReleasePlan,
        opts: RunOptions,
        journal: Journal,
        emit: EventSink,
    ) -> None:
        self.git = git
        self.config = config
        self.channel = channel
        self.plan = plan
        self.opts = opts
        self.journal = journal
        self.emit = emit
        self.work = journal.path.parent
        self.stage = self.work / "stage"
        self._signer_cm: Any = None
        self._signer: Any = None
        self._setup: Any = None

    # Each step returns the result recorded in the journal.
    def execute(self) -> dict[str, Any]:
        try:
            for step in STEPS:
                if not self.plan.runs(step):
                    continue
                if self.journal.finished(step):
                    self.emit(step, "skip", "done in an earlier run")
                    continue
                self.emit(step, "start", "")
                started = time.perf_counter()
                try:
                    result = getattr(self, f"step_{step}")()
                except ReleaseError:
                    self.emit(step, "fail", "")
                    raise
                result["seconds"] = round(time.perf_counter() - started, 4)
                self.journal.record(step, result)
                self.emit(step, "done", _describe(step, result))
                fault_point(step)
            self.journal.done = True
            self.journal.save()
            fault_point("finish")
            keep_record(self.journal)
            # Everything staged now lives under releases/<tag>/; keep only the journal.
            shutil.rmtree(self.stage, ignore_errors=True)
        finally:
            self._close_signer()
        return self.summary()

    # -- steps ------------------------------------------------------------------
    def step_prepare(self) -> dict[str, Any]:
        commit = self.plan.base_commit
        if self.plan.picks:
            from release.adapters.git import cherry_pick_onto

            commit = cherry_pick_onto(self.git, commit, self.plan.picks, when=self._when())
        if self.plan.changelog_commit:
            from release.changelog import insert_release

            path = self.plan.changelog_path
            res = self.git.run("show", f"{commit}:{path}", check=False)
            current = res.stdout if res.returncode == 0 else ""
            updated = insert_release(current, self.plan.notes)
            commit = commit_with_file(
                self.git,
                commit,
                path,
                updated.encode(),
                f"Release {self.plan.tag}\n\nUpdate {path} for {self.plan.tag}.\n",
                when=self._when(),
            )
        return {"release_commit": commit}

    def step_build(self) -> dict[str, Any]:
        if self.opts.assembled is not None:
            return self._take_assembled(self.opts.assembled)
        commit = self.release_commit
        src = self.work / "src"
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(self.stage, ignore_errors=True)
        export_tree(self.git, commit, src)
        ctx = build_adapter.BuildContext(
            version=str(self.plan.version), pep440=self.plan.pep440, tag=self.plan.tag
        )
        arts = build_adapter.run_builds(self.config.builds, ctx, src=src, out=self.stage)
        shutil.rmtree(src, ignore_errors=True)
        return {
            "artifacts": [
                {"name": a.name, "build": a.build, "os": a.os, "arch": a.arch} for a in arts
            ],
            "source_commit": commit,
        }

    def _take_assembled(self, directory: Path) -> dict[str, Any]:
        """Use artifacts built on other runners, after checking they are this release's."""
        from release.assemble import Manifest, assemble

        manifest = Manifest.load(directory)
        if manifest.tag != self.plan.tag or manifest.commit != self.plan.base_commit:
            raise BuildError(
                f"assembled artifacts are {manifest.tag} from {manifest.commit[:12]}, this "
                f"release is {self.plan.tag} from {self.plan.base_commit[:12]}",
                hint="rebuild the slices for this commit (release build --tag …)",
            )
        names = sorted(a.name for a in manifest.artifacts)
        if names != sorted(self.plan.artifacts):
            raise BuildError(
                "assembled artifacts do not match the declared artifacts: "
                + ", ".join(sorted(set(names) ^ set(self.plan.artifacts)))
            )
        shutil.rmtree(self.stage, ignore_errors=True)
        assemble([directory], self.stage, expected_targets=manifest.targets)
        (self.stage / "release-manifest.json").unlink()
        return {
            "artifacts": [
                {"name": a.name, "build": a.build, "os": a.os, "arch": a.arch}
                for a in manifest.artifacts
            ],
            "assembled": str(directory),
            # The slices were built from the branch head, before the changelog commit.
            "source_commit": manifest.commit,
        }

    def step_checksums(self) -> dict[str, Any]:
        names = [a["name"] for a in self.journal.result("build")["artifacts"]]
        digests = hash_files([self.stage / n for n in names])
        atomic_write(self.stage / SUMS, render_sums(digests).encode())
        return {"digests": [_digest_dict(d) for d in digests]}

    def step_sign(self) -> dict[str, Any]:
        digests = self._verified_digests()
        if self.plan.sign_mode == "none":
            return {"bundles": {}, "provenance": None, "trust_config": None}
        from release.provenance import build_statement

        files = [self.stage / d.name for d in digests] + [self.stage / SUMS]
        signer = self._open_signer()
        bundles = signer.sign_files(files)
        started = datetime.fromisoformat(self.journal.inputs["plan"]["now"])
        statement = build_statement(
            subjects=[(d.name, d.sha256) for d in digests]
            + [(SUMS, hash_file(self.stage / SUMS).sha256)],
            repository=self.config.repository or str(self.config.root),
            ref=f"refs/heads/{self.plan.branch}",
            commit=self.journal.result("build").get("source_commit", self.release_commit),
            version=self.plan.tag,
            channel=self.plan.channel,
            builder_id=self._builder_id(),
            invocation_id=self._invocation_id(),
            started=started,
            finished=self.opts.now,
        )
        signer.sign_statement(statement, self.stage / PROVENANCE_BUNDLE)
        trust = self.stage / DEV_TRUST_CONFIG
        return {
            "bundles": {f.name: Path(b).name for f, b in zip(files, bundles, strict=True)},
            "provenance": PROVENANCE_BUNDLE,
            "trust_config": DEV_TRUST_CONFIG if trust.exists() else None,
        }

    def step_tag(self) -> dict[str, Any]:
        # The last moment before anything leaves the work directory: the store must take
        # the release (valid index, writable, room for the artifacts), or nothing is tagged.
        from release.channel.store import store_problems

        staged = sum(
            p.stat().st_size for p in (self.stage.iterdir() if self.stage.is_dir() else ())
        )
        problems = store_problems(self.opts.out, need=staged)
        if problems:
            raise PreflightError(
                problems,
                hint="nothing was tagged or published; fix this and run again to resume",
            )
        commit = self.release_commit
        tag = self.plan.tag
        existing = self.git.run(
            "rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}", check=False
        ).stdout.strip()
        if existing and existing != commit:
            raise JournalError(
                f"tag {tag} already exists on {existing[:12]}, not on the release commit "
                f"{commit[:12]}",
                hint="tags are never moved; investigate who created it",
            )
        branch_head = (
            self.git.run(
                "rev-parse", "-q", "--verify", f"refs/heads/{self.plan.branch}", check=False
            ).stdout.strip()
            or None
        )
        if branch_head != commit:
            expected_old = self.plan.base_commit if self.plan.branch_exists else None
            if branch_head != expected_old:
                raise JournalError(
                    f"branch {self.plan.branch} is at {(branch_head or 'nothing')[:12]}, "
                    f"expected {(expected_old or 'no branch')[:12]}",
                    hint="someone moved the branch during the release; nothing was tagged",
                )
            advance_branch(self.git, self.plan.branch, commit, expected_old)
        if not existing:
            from release.adapters.git import identity_env

            message = f"{tag}\n\n{self.plan.notes.strip()}\n"
            if self.plan.cut_from:
                message += f"\nCut from {self.plan.cut_from}.\n"
            self.git.run(
                "tag",
                "-a",
                "--cleanup=verbatim",
                "-F",
                "-",
                tag,
                commit,
                input=message,
                extra_env=identity_env(self.git),
            )
        return {"tag": tag, "commit": commit, "branch": self.plan.branch}

    def step_publish(self) -> dict[str, Any]:
        dest = release_dir(self.opts.out, self.plan.tag)
        dest.mkdir(parents=True, exist_ok=True)
        names = sorted(p.name for p in self.stage.iterdir() if not p.name.startswith("."))
        for name in names:
            _place_immutable(self.stage / name, dest / name)
        fault_point("publish-files")
        rel = str(dest.relative_to(self.opts.out))
        if self.plan.sign_mode == "none":
            self.emit("publish", "warn", "unsigned: files written, channel index NOT updated")
            return {
                "release_dir": rel,
                "index_version": None,
                "skipped": "unsigned releases are never listed in the channel index",
            }
        seeded = self._seed_from_pages()
        result = self._publish_to_channel()
        return {"release_dir": rel, **result, **seeded}

    def _seed_from_pages(self) -> dict[str, Any]:
        """With ``publish.target = "pages"`` and --push, the pages branch is the channel's
        truth: a store without an index starts from its files, and the branch commit is
        remembered so the later push refuses to overwrite another publisher's index."""
        if self.channel.publish_target != "pages" or not self.plan.push:
            return {}

        from release.adapters.ghpages import fetch_pages

        seed = self.work / "pages-seed"
        shutil.rmtree(seed, ignore_errors=True)
        self.git.run("fetch", "--quiet", "origin", self.channel.pages_branch, check=False)
        parent = fetch_pages(self.git.root, seed, self.channel.pages_branch)
        out = self.opts.out
        if parent:
            from release.channel.tuf.reader import timestamp_version

            theirs = timestamp_version(seed)
            ours = timestamp_version(out)
            if theirs > ours > 0:
                raise ChannelError(
                    f"the {self.channel.pages_branch} branch has timestamp v{theirs}, "
                    f"this store v{ours}",
                    hint="publish from a store seeded from the pages branch "
                    "(an empty --out is seeded automatically)",
                )
            for src in sorted(seed.rglob("*")):
                dest = out / src.relative_to(seed)
                if src.is_dir() or dest.exists():
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
        shutil.rmtree(seed, ignore_errors=True)
        # Recorded with the publish step; a resumed publish seeds again (files present
        # are kept, so it is idempotent) and the branch's compare-and-swap still holds.
        return {"pages_parent": parent}

    def _publish_to_channel(self) -> dict[str, Any]:
        """Record the release in the channel documents and the TUF metadata of the store;
        the timestamp is swapped last (see :mod:`release.channel.tuf.repo`)."""
        from release.channel import model
        from release.channel import target as publish_target
        from release.channel.signing import SigstoreDocumentSigner
        from release.channel.store import ChannelStore
        from release.channel.tuf import keys
        from release.channel.tuf import trust as tuf_trust
        from release.channel.tuf.reader import render_views
        from release.channel.tuf.repo import TufStore
        from release.trust_config import channels_dir_of, load_trust

        tag = self.plan.tag
        files = ChannelStore(self.opts.out)  # describes the files under releases/
        artifacts = tuple(
            files.describe_artifact(
                tag, a["name"], kind=_artifact_kind(a["name"]), os=a["os"], arch=a["arch"]
            )
            for a in self.journal.result("build")["artifacts"]
        )
        record = model.Release(
            version=str(self.plan.version),
            tag=tag,
            published_at=datetime.fromisoformat(self.journal.inputs["plan"]["now"]),
            source=model.Source(
                repository=self.config.repository or str(self.config.root),
                commit=self.release_commit,
                ref=f"refs/tags/{tag}",
            ),
            signer=self.expected_identity,
            artifacts=artifacts,
            notes=self.plan.notes,
            provenance=files.describe_provenance(tag, PROVENANCE_BUNDLE),
            checksums=files.file_ref(f"releases/{tag}/{SUMS}"),
            from_edge=self.plan.cut_from,
        )
        dev = self.plan.sign_mode == "dev"
        release_signer = self._open_signer()
        trust = keys.trust_of_setup(self._setup, release_signer.trust_config_path)
        signer = keys.SigstoreOidcSigner(release_signer, trust)
        channels_dir = channels_dir_of(self.config)
        trust_cfg = load_trust(channels_dir)
        backend = publish_target.publish_backend(self.channel, self.opts.out)
        remote = publish_target.is_remote(backend, self.opts.out)
        if remote:
            # The store lives elsewhere (S3): the release's files go first, created once,
            # so no metadata ever names an object that is not there.
            keys_ = publish_target.release_keys(self.opts.out, tag)
            publish_target.upload_files(self.opts.out, keys_, backend)
        store = TufStore(backend)
        if dev:
            # A dev store delegates the channels it publishes (each has a role in the
            # snapshot): this one, and those published before.
            lines = store.lines_of({c.name for c in self.config.channels.values()})
            lines.setdefault(self.channel.name, set()).add(self.plan.line)
            others = [c for c in self.config.channels.values() if c.name in lines]
            want = tuf_trust.desired(others, trust_cfg, dev=True, trust=trust, lines=lines)
            with tuf_trust.dev_maintainers(release_signer.trust_config_path) as maintainers:
                tuf_trust.ensure_dev_trust(
                    store, want, trust_cfg.holders(True).identities, maintainers, self.opts.now
                )
        else:
            tuf_trust.install_repo_trust(store, channels_dir)
        result = store.publish(
            self.channel,
            record,
            project=self.config.project,
            now=self.opts.now,
            signer=signer,
            identity=self.expected_identity,
            expiry=trust_cfg.expiry,
            per_line_keys="{line}" in self.channel.expected_signer(dev).identity,
        )
        fault_point("publish-index")
        views = render_views(
            store,
            self.opts.out,
            self.opts.now,
            signer=SigstoreDocumentSigner(release_signer),
            channel=self.channel.name,
            base_url=self.channel.publish_url,
        )
        if remote:  # the views rendered here from the bucket's metadata go there too
            publish_target.push_views(
                self.opts.out, publish_target.view_keys(self.opts.out), backend
            )
        return {
            "store": backend.description,
            "page": "index.html",
            "views": views,
            "timestamp_version": result.timestamp_version,
            "snapshot_version": result.snapshot_version,
            "channel_document": result.channel_document,
            "line_document": result.line_document,
            "root": "metadata/root.json",
            "changed": result.changed,
        }

    def step_push(self) -> dict[str, Any]:
        refs = [f"refs/heads/{self.plan.branch}", f"refs/tags/{self.plan.tag}"]
        res = self.git.run("push", "--atomic", "--porcelain", "origin", *refs, check=False)
        fault_point("push-sent")
        if res.returncode != 0:
            from release.adapters.git import stderr_summary

            refused = [ln for ln in res.stdout.splitlines() if ln.startswith("!")]
            detail = stderr_summary("\n".join([res.stderr, *refused]))
            raise GitError(
                f"git push of {self.plan.branch} and {self.plan.tag} failed: {detail}",
                hint="the release is tagged and published locally; fix access and re-run "
                "to resume at the push",
            )
        return {"pushed": refs}

    def step_github(self) -> dict[str, Any]:
        """GitHub release (draft -> assets -> verify -> publish), then the channel's
        GitHub publication (pages branch or index assets): the index moves last."""
        result: dict[str, Any] = {}
        slug = github_slug(self.config.repository)
        env = self.opts.env
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        if slug is None:
            result["release"] = "skipped: [tool.release] repository is not on GitHub"
        elif not token:
            self.emit("github", "warn", "no GITHUB_TOKEN or GH_TOKEN: GitHub release skipped")
            result["release"] = "skipped: no GITHUB_TOKEN or GH_TOKEN"
        else:
            from release.adapters.github import GitHubClient

            dest = release_dir(self.opts.out, self.plan.tag)
            assets = sorted(p for p in dest.iterdir() if p.is_file() and not p.name.startswith("."))
            make_latest = self.plan.make_latest and not self.plan.prerelease
            with GitHubClient.from_environment(env) as client:
                published = client.publish_release(
                    slug,
                    self.plan.tag,
                    name=self.plan.tag,
                    notes=self.plan.notes,
                    assets=assets,
                    prerelease=self.plan.prerelease,
                    make_latest=make_latest,
                    target_commitish=self.release_commit,
                )
                result.update(
                    repository=slug,
                    url=published.html_url,
                    assets=len(published.assets),
                    make_latest=make_latest,
                )
                if self.channel.publish_target == "release-assets":
                    uploaded = client.upload_index_assets(slug, self.opts.out)
                    result["index_assets"] = len(uploaded)
        if self.channel.publish_target == "pages":
            from release.adapters.ghpages import publish_pages

            parent = self.journal.steps.get("publish", {}).get("pages_parent")
            result["pages_commit"] = publish_pages(
                self.opts.out,
                self.git.root,
                branch=self.channel.pages_branch,
                message=f"Publish {self.plan.tag} to the {self.plan.channel} channel",
                expected_parent=parent,
            )
        return result

    # -- helpers ----------------------------------------------------------------
    @property
    def release_commit(self) -> str:
        return str(self.journal.result("prepare")["release_commit"])

    def _when(self) -> str:
        """The run's fixed time, so a resumed step makes the same commit."""
        return str(self.journal.inputs["plan"]["now"])

    def _verified_digests(self) -> list[Digest]:
        """The staged artifacts, re-hashed: a changed file is refused, not signed."""
        recorded = [_digest_from(d) for d in self.journal.result("checksums")["digests"]]
        actual = hash_files([self.stage / d.name for d in recorded])
        for want, got in zip(recorded, actual, strict=True):
            if want != got:
                raise JournalError(
                    f"artifact {want.name} changed since it was built "
                    f"(sha256 {want.sha256[:12]}… now {got.sha256[:12]}…)",
                    hint="refusing to sign a different file; remove the work directory "
                    f"{self.work} to start this release over",
                )
        return recorded

    def _open_signer(self) -> Any:
        if self._signer is None:
            from release.adapters.sigstore import SigningSetup, open_signer

            mode = self.plan.sign_mode
            setup_mode: Any = (
                "trust-config" if mode == "sigstore" and self.opts.trust_config else mode
            )
            setup = SigningSetup(
                mode=setup_mode,
                trust_config=self.opts.trust_config,
                identity_token=self.opts.identity_token,
                dev_state_dir=None,  # the per-user dev instance, as `release sign --dev`
            )
            self._setup = setup
            expected = self.expected_identity
            self._signer_cm = open_signer(
                setup,
                expected,
                # Written with the bundles only: a signer reopened to sign documents on a
                # resumed publish must not replace the staged file already published.
                trust_config_out=self.stage / DEV_TRUST_CONFIG
                if mode == "dev" and not self.journal.finished("sign")
                else None,
                env=self.opts.env,
            )
            self._signer = self._signer_cm.__enter__()
        return self._signer

    def _close_signer(self) -> None:
        if self._signer_cm is not None:
            cm, self._signer_cm, self._signer = self._signer_cm, None, None
            cm.__exit__(None, None, None)

    @property
    def expected_identity(self) -> Identity:
        ident = self.channel.expected_signer(dev=self.plan.sign_mode == "dev")
        return ident.for_line(self.plan.line)

    def _builder_id(self) -> str:
        env = self.opts.env
        if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_WORKFLOW_REF"):
            return f"https://github.com/{env['GITHUB_WORKFLOW_REF']}"
        return "dev" if self.plan.sign_mode == "dev" else "local"

    def _invocation_id(self) -> str:
        env = self.opts.env
        if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
            server = env.get("GITHUB_SERVER_URL", "https://github.com")
            attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
            return (
                f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
                f"/attempts/{attempt}"
            )
        return f"{self.plan.tag}@{self.journal.inputs['plan']['now']}"

    def summary(self) -> dict[str, Any]:
        out = self.opts.out
        dest = release_dir(out, self.plan.tag)
        digests = self.journal.steps.get("checksums", {}).get("digests", [])
        bundles = self.journal.steps.get("sign", {}).get("bundles", {})
        return {
            "version": str(self.plan.version),
            "tag": self.plan.tag,
            "channel": self.plan.channel,
            "commit": self.journal.steps.get("prepare", {}).get("release_commit"),
            "release_dir": str(dest),
            "artifacts": [
                {
                    **d,
                    "path": str(dest / d["name"]),
                    "bundle": str(dest / bundles[d["name"]]) if d["name"] in bundles else None,
                }
                for d in digests
            ],
            "sha256sums": str(dest / SUMS),
            "provenance": str(dest / PROVENANCE_BUNDLE) if bundles else None,
            "trust_config": str(dest / DEV_TRUST_CONFIG)
            if self.journal.steps.get("sign", {}).get("trust_config")
            else None,
            "index": str(out / "index.json"),
            "root": str(out / "metadata" / "1.root.json"),
            "pushed": "push" in self.journal.steps,
            "seconds": {k: v.get("seconds") for k, v in self.journal.steps.items()},
            "github": self.journal.steps.get("github"),
        }


def github_slug(repository: str | None) -> str | None:
    """``owner/name`` of a GitHub repository URL (https or git remote form), else ``None``."""
    import re

    if not repository:
        return None
    m = re.match(
        r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
        r"([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$",
        repository,
    )
    return f"{m[1]}/{m[2]}" if m else None


def _place_immutable(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` unless ``dest`` already holds the same bytes."""
    if dest.exists():
        if hash_file(dest).sha256 == hash_file(src).sha256:
            return
        raise ChannelError(
            f"{dest} already exists with different content",
            hint="published release files are immutable; this release was published before",
        )
    copy_atomic(src, dest)


def _artifact_kind(name: str) -> str:
    if name.endswith(".whl"):
        return "wheel"
    if name.endswith((".tar.gz", ".tgz", ".zip", ".tar.xz", ".tar.zst")):
        return "archive"
    return "binary"


def _digest_dict(d: Digest) -> dict[str, Any]:
    return {"name": d.name, "size": d.size, "sha256": d.sha256}


def _digest_from(d: Mapping[str, Any]) -> Digest:
    return Digest(str(d["name"]), int(d["size"]), str(d["sha256"]))


def _describe(step: str, result: Mapping[str, Any]) -> str:
    if step == "prepare":
        return f"release commit {str(result['release_commit'])[:12]}"
    if step == "build":
        return f"{len(result['artifacts'])} artifacts"
    if step == "checksums":
        return f"{len(result['digests'])} files hashed, {SUMS} written"
    if step == "sign":
        n = len(result["bundles"])
        return f"{n} bundles, provenance signed" if n else "unsigned (--sign none)"
    if step == "tag":
        return f"{result['tag']} on {str(result['commit'])[:12]}"
    if step == "publish":
        if result.get("timestamp_version") is None:
            return "files written, channel not updated (unsigned)"
        return f"channel timestamp v{result['timestamp_version']}"
    if step == "push":
        return "pushed " + ", ".join(result["pushed"])
    return ""


RUN_DIRS = ("stage", "src", "pages-seed")


def read_if_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def keep_record(journal: Journal) -> Path:
    """Write the finished journal's record ``done/<tag>.json`` (append-only: a later run
    never moves or deletes it; the same release pushed later updates its own record)."""
    tag = str(journal.inputs["plan"]["tag"])
    record = journal.path.parent / "done" / f"{tag}.json"
    data = journal.to_bytes()
    if read_if_file(record) != data:
        write_atomic(record, data)
    return record
