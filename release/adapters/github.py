"""GitHub over PyGithub: releases (draft → assets → verify → publish), labelled PRs, draft PRs.

Everything here is idempotent on re-run: a draft left by a crashed run is reused, an asset
already uploaded with the same sha256 is skipped, one with a different sha256 is refused,
and an upload cut short (GitHub keeps it in state ``starter``) is deleted and sent again.
Retries of 5xx, secondary rate limits and ``403`` + ``X-RateLimit-Remaining: 0`` are
PyGithub's own :class:`github.GithubRetry` (urllib3 ``Retry``), which honours
``Retry-After`` and ``X-RateLimit-Reset``. Every PyGithub / requests / urllib3 failure
leaves this module as a one-line :class:`~release.errors.GitHubError` with no token in it.

PyGithub is imported lazily so read-only commands never load it.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.checksums import sha256_stream
from release.errors import GitHubError, ReleaseError, UsageError, VerificationError
from release.logging import RedactingFilter, install_redaction, redact, register_secret

if TYPE_CHECKING:
    from github import Github
    from github.GithubException import GithubException
    from github.GitRelease import GitRelease
    from github.GitReleaseAsset import GitReleaseAsset
    from github.Repository import Repository
    from urllib3 import Retry

log = logging.getLogger("release.github")

DEFAULT_BASE_URL = "https://api.github.com"
TOKEN_ENV_VARS = ("GITHUB_TOKEN", "GH_TOKEN")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry. Defaults suit github.com; tests shrink every wait."""

    total: int = 6
    backoff_factor: float = 1.0
    backoff_max: float = 60.0
    secondary_rate_wait: float = 60.0
    max_rate_limit_wait: float = 900.0
    seconds_between_requests: float | None = 0.25
    seconds_between_writes: float | None = 1.0

    def build(self) -> Retry:
        from github import GithubRetry
        from urllib3 import Retry

        return GithubRetry(
            total=self.total,
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            secondary_rate_wait=self.secondary_rate_wait,
            max_rate_limit_wait=self.max_rate_limit_wait,
            # 429 is GitHub's other secondary-limit answer; 5xx and 403 are GithubRetry's own.
            status_forcelist=[429, *range(500, 600)],
            # PATCH here only sets a release's fields, so repeating it is harmless; POSTs
            # are safe to repeat because callers re-read state after them.
            allowed_methods=Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"},
        )


@dataclass(frozen=True)
class LocalFile:
    path: Path
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RemoteAsset:
    """An asset of a published GitHub release (``handle``: the PyGithub object)."""

    name: str
    size: int
    digest: str | None  # "sha256:<hex>" when GitHub computed one
    handle: Any = field(compare=False, repr=False)


@dataclass(frozen=True)
class PublishedAsset:
    name: str
    size: int
    sha256: str
    id: int
    download_url: str
    uploaded: bool  # False when an identical asset was already there


@dataclass(frozen=True)
class PublishedRelease:
    repo: str
    tag: str
    id: int
    html_url: str
    prerelease: bool
    make_latest: bool
    reused_draft: bool  # a draft from an earlier (crashed) run was picked up
    already_published: bool  # the release was public before this run; left as it was
    assets: tuple[PublishedAsset, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PullInfo:
    number: int
    title: str
    merge_commit_sha: str | None
    merged_at: datetime | None
    html_url: str


def file_info(path: Path, name: str | None = None) -> LocalFile:
    """sha256 and size of ``path``, streamed. Raises GitHubError when it cannot be read."""
    try:
        size, digest = sha256_stream(path)
    except OSError as exc:
        raise GitHubError(f"cannot read asset {path}: {exc.strerror}") from None
    return LocalFile(path, name or path.name, size, digest)


def _hint_for(status: int) -> str | None:
    return {
        401: "the token was refused: check GITHUB_TOKEN / GH_TOKEN",
        403: "the token lacks a permission (releases need `contents: write`)",
        404: "check the repository name and that the token can see it",
        422: "GitHub refused the request as invalid (see the message)",
    }.get(status, "re-run the command: finished steps are skipped")


def _github_message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    text = str(data.get("message") or exc.message or "").strip()
    codes = [
        str(e["code"]) for e in data.get("errors") or [] if isinstance(e, dict) and e.get("code")
    ]
    if codes:
        text += f" ({', '.join(codes)})"
    return " ".join(text.split())


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn every PyGithub, requests, urllib3 or socket failure into a GitHubError."""
    import requests
    import urllib3
    from github.GithubException import GithubException, RateLimitExceededExceedsMaxWait

    try:
        yield
    except ReleaseError:
        raise
    except RateLimitExceededExceedsMaxWait as exc:
        wait = f"{exc.wait:.0f} s" if exc.wait is not None else "too long"
        raise GitHubError(
            redact(f"{action}: GitHub rate limit exceeded; reset in {wait}"),
            hint="wait for the rate limit to reset, then re-run",
        ) from None
    except GithubException as exc:
        log.debug("%s: %s", action, redact(repr(exc)))
        message = _github_message(exc) or "no message"
        raise GitHubError(
            redact(f"{action}: HTTP {exc.status} {message}"), hint=_hint_for(exc.status)
        ) from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        log.debug("%s: %s", action, redact(repr(exc)))
        reason = type(exc).__name__
        inner = getattr(exc, "reason", None) or (exc.args[0] if exc.args else None)
        if isinstance(inner, BaseException):
            reason = f"{reason} ({type(inner).__name__})"
        raise GitHubError(
            redact(f"{action}: connection failed: {reason}"),
            hint="network trouble talking to GitHub; re-run the command: "
            "finished steps are skipped",
        ) from None


class GitHubClient:
    """A PyGithub client bound to one API base URL and token. Close it (or use ``with``)."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        timeout: int = 60,
        per_page: int = 100,
    ) -> None:
        if not token:
            raise GitHubError(
                "no GitHub token given",
                hint="set GITHUB_TOKEN (or GH_TOKEN) to a token with contents: write",
            )
        register_secret(token)
        if not base_url.startswith(("https://", "http://")):
            raise GitHubError(
                f"GitHub API URL must be http(s): {base_url!r}",
                hint="e.g. https://api.github.com or https://HOST/api/v3",
            )
        from github import Auth, Github

        _redact_pygithub_logging()

        policy = retry or RetryPolicy()
        self.base_url = base_url.rstrip("/")
        self._gh: Github = Github(
            auth=Auth.Token(token),
            base_url=self.base_url,
            timeout=timeout,
            per_page=per_page,
            retry=policy.build(),
            user_agent="release-channels",
            seconds_between_requests=policy.seconds_between_requests,
            seconds_between_writes=policy.seconds_between_writes,
        )

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str],
        *,
        token: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> GitHubClient:
        """Token: explicit, else GITHUB_TOKEN, else GH_TOKEN. Base URL: explicit, else
        GITHUB_API_URL (set by Actions, right for GitHub Enterprise), else api.github.com."""
        for value in (token, *(environ.get(k) for k in TOKEN_ENV_VARS)):
            if value:
                register_secret(value)
        chosen = token or next((environ[k] for k in TOKEN_ENV_VARS if environ.get(k)), None)
        if not chosen:
            raise GitHubError(
                "no GitHub token: GITHUB_TOKEN and GH_TOKEN are unset",
                hint="export GITHUB_TOKEN with contents: write on the repository",
            )
        url = base_url or environ.get("GITHUB_API_URL") or DEFAULT_BASE_URL
        if retry is None and _is_loopback(url):
            # Request pacing protects a shared GitHub; a loopback API (a stand-in, a
            # local proxy) is nobody else's and is not paced.
            retry = RetryPolicy(seconds_between_requests=None, seconds_between_writes=None)
        return cls(chosen, base_url=url, retry=retry)

    def close(self) -> None:
        self._gh.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- repositories and releases ------------------------------------------------------
    def _repo(self, repo: str) -> Repository:
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise UsageError(f"not a repository name: {repo!r}", hint="use OWNER/NAME")
        with _translated(f"open repository {repo}"):
            return self._gh.get_repo(repo)

    def _release_for_tag(self, repo: Repository, tag: str) -> tuple[GitRelease | None, bool]:
        """(release, is_draft) for ``tag``: the published one, else the oldest draft.

        GitHub hides drafts from ``releases/tags/{tag}``, so drafts are looked up in the
        release list. Extra empty drafts for the same tag (a create retried after its
        response was lost) are deleted; a second draft holding assets is refused.
        """
        from github.GithubException import UnknownObjectException

        with _translated(f"look up release {tag}"):
            try:
                return repo.get_release(tag), False
            except UnknownObjectException:
                pass
            drafts = sorted(
                (r for r in repo.get_releases() if r.draft and r.tag_name == tag),
                key=lambda r: r.id,
            )
        if not drafts:
            return None, False
        keep, extra = drafts[0], drafts[1:]
        for other in extra:
            with _translated(f"remove duplicate draft of {tag}"):
                if any(True for _ in other.get_assets()):
                    raise GitHubError(
                        f"{len(drafts)} draft releases exist for {tag}, more than one with assets",
                        hint="delete the extra drafts on GitHub, then re-run",
                    )
                log.info("deleting empty duplicate draft %s of %s", other.id, tag)
                other.delete_release()
        return keep, True

    def publish_release(
        self,
        repo: str,
        tag: str,
        *,
        name: str,
        notes: str,
        assets: Sequence[Path],
        prerelease: bool,
        make_latest: bool,
        target_commitish: str | None = None,
    ) -> PublishedRelease:
        """Create (or reuse) a draft for ``tag``, upload and verify ``assets``, then publish.

        Raises GitHubError (API/network failure, an existing asset with a different digest),
        VerificationError (a downloaded asset does not match the local file), UsageError
        (duplicate asset names, a pre-release asked to be latest).
        """
        if prerelease and make_latest:
            raise UsageError(f"{tag}: a pre-release cannot be marked latest")
        files = [file_info(Path(p)) for p in assets]
        names = [f.name for f in files]
        if len(set(names)) != len(names):
            raise UsageError(
                f"{tag}: two assets share a file name",
                hint="asset names must be unique within a release",
            )
        gh_repo = self._repo(repo)
        release, reused = self._release_for_tag(gh_repo, tag)
        already_published = release is not None and not reused
        if release is None:
            with _translated(f"create draft release {tag}"):
                release = gh_repo.create_git_release(
                    tag,
                    name=name,
                    message=notes,
                    draft=True,
                    prerelease=prerelease,
                    make_latest="false",
                    target_commitish=_opt(target_commitish),
                )
            log.info("created draft release %s (id %s)", tag, release.id)
            # A POST retried after a lost response may have made a twin; keep one.
            # The list can lag behind the create; then the created one is the only one.
            twin_free, _ = self._release_for_tag(gh_repo, tag)
            release = twin_free or release
        elif reused:
            log.info("reusing draft release %s (id %s) from an earlier run", tag, release.id)
        else:
            log.info("release %s is already published; checking its assets", tag)

        listing = self._assets(release)
        uploaded = {
            f.name: self._ensure_asset(release, f, mutable=False, listing=listing) for f in files
        }
        verified = self._verify(release, files)
        result = [
            PublishedAsset(
                f.name,
                f.size,
                f.sha256,
                verified[f.name].id,
                verified[f.name].browser_download_url,
                uploaded[f.name],
            )
            for f in files
        ]
        if not already_published:
            with _translated(f"publish release {tag}"):
                release = release.update_release(
                    name=name,
                    message=notes,
                    draft=False,
                    prerelease=prerelease,
                    tag_name=tag,
                    make_latest="true" if make_latest else "false",
                    target_commitish=_opt(target_commitish),
                )
            log.info("published release %s", tag)
        return PublishedRelease(
            repo,
            tag,
            release.id,
            release.html_url,
            prerelease,
            make_latest and not already_published,
            reused,
            already_published,
            tuple(result),
        )

    # -- reading releases (backfill) ----------------------------------------------------
    def release_assets(self, repo: str) -> dict[str, list[RemoteAsset]]:
        """The assets of every published (not draft) release of ``repo``, by tag, in the
        paged release listing (one request per 100 releases, one per release's assets)."""
        out: dict[str, list[RemoteAsset]] = {}
        r = self._repo(repo)
        with _translated(f"list releases of {repo}"):
            for release in r.get_releases():
                if release.draft or release.tag_name in out:
                    continue
                out[release.tag_name] = [
                    RemoteAsset(a.name, a.size, a.digest, a)
                    for a in release.get_assets()
                    if a.state == "uploaded"
                ]
        return out

    def download(self, asset: RemoteAsset, dest: Path) -> LocalFile:
        """Stream ``asset`` into ``dest`` (through ``dest.part``, renamed when complete),
        hashing as it goes; the size and GitHub's ``sha256:`` digest (when it gives one)
        must match. Raises :class:`GitHubError`, :class:`VerificationError`."""
        part = dest.with_name(dest.name + ".part")
        h = hashlib.sha256()
        size = 0
        try:
            with _translated(f"download asset {asset.name}"), part.open("wb") as fh:
                _, _, chunks = asset.handle.download_asset(chunk_size=_CHUNK)
                for chunk in chunks:
                    h.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise GitHubError(f"cannot write {part}: {exc.strerror}") from None
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        digest = h.hexdigest()
        remote = asset.digest or ""
        want = remote.removeprefix("sha256:") if remote.startswith("sha256:") else None
        if size != asset.size or (want is not None and want != digest):
            part.unlink(missing_ok=True)
            raise VerificationError(
                f"asset {asset.name} downloaded as {size} bytes sha256 {digest}; GitHub "
                f"lists {asset.size} bytes {asset.digest or ''}".rstrip(),
                hint="the download was cut or altered; re-run the import",
            )
        part.replace(dest)
        return LocalFile(dest, asset.name, size, digest)

    # -- assets ---------------------------------------------------------------------------
    def _assets(self, release: GitRelease) -> dict[str, GitReleaseAsset]:
        with _translated(f"list assets of {release.tag_name}"):
            return {a.name: a for a in release.get_assets()}

    def _remote_sha256(self, asset: GitReleaseAsset, *, trust_digest: bool = True) -> str:
        digest = asset.digest if trust_digest else None
        if digest and digest.startswith("sha256:"):
            return digest.removeprefix("sha256:")
        h = hashlib.sha256()
        with _translated(f"download asset {asset.name}"):
            _, _, chunks = asset.download_asset(chunk_size=_CHUNK)
            for chunk in chunks:
                h.update(chunk)
        return h.hexdigest()

    def _upload(
        self, release: GitRelease, f: LocalFile, name: str | None = None
    ) -> GitReleaseAsset | None:
        """Upload ``f``; the new asset, or None when GitHub said it already exists."""
        from github.GithubException import GithubException

        content_type = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
        with _translated(f"upload asset {f.name} to {release.tag_name}"):
            try:
                with f.path.open("rb") as fh:
                    return release.upload_asset_from_memory(
                        fh, f.size, name or f.name, content_type=content_type
                    )
            except GithubException as exc:
                # 422 already_exists after a retried POST means our first attempt reached
                # GitHub; the caller looks at what is there now.
                if exc.status != 422 or "already_exists" not in _github_message(exc):
                    raise
                log.info("upload of %s answered 422; re-checking the release", f.name)
        return None

    def _ensure_asset(
        self,
        release: GitRelease,
        f: LocalFile,
        *,
        mutable: bool,
        listing: dict[str, GitReleaseAsset],
    ) -> bool:
        """Make the release hold ``f`` under its name. Returns True when bytes were sent.

        An identical asset is kept; a half-uploaded one (state ``starter``) is deleted and
        sent again; a different one is refused, or replaced when ``mutable``. When an
        upload gets no clean answer (a reset, a 422 after a retry) the asset list is read
        again, so a response lost on the way back is harmless. ``listing`` is the
        release's assets by name, read once by the caller and kept up to date here.
        """
        sent = False
        existing = listing.get(f.name)
        for _ in range(5):
            if existing is None:
                created = self._upload(release, f)
                sent = True
                if created is not None and created.state == "uploaded" and created.size == f.size:
                    listing[f.name] = created
                    return True
                existing = self._assets(release).get(f.name)
                continue
            if existing.state != "uploaded":
                log.info(
                    "asset %s was left half-uploaded (%s); replacing it", f.name, existing.state
                )
                with _translated(f"delete partial asset {f.name}"):
                    existing.delete_asset()
                existing = None
                continue
            remote = self._remote_sha256(existing)
            if remote == f.sha256:
                if not sent:
                    log.info("asset %s already uploaded with the same sha256; skipped", f.name)
                return sent
            if sent:
                raise VerificationError(
                    f"asset {f.name} uploaded to {release.tag_name} has sha256 "
                    f"{remote[:16]}…, expected {f.sha256[:16]}…",
                    hint="the upload was corrupted; delete the asset on GitHub and re-run",
                )
            if not mutable:
                raise GitHubError(
                    f"asset {f.name} on release {release.tag_name} already exists with a "
                    "different sha256",
                    hint="published artifacts are immutable: delete that asset by hand only "
                    "if it was never released, or cut a new version",
                )
            listing[f.name] = self._replace(release, existing, f)
            return True
        raise GitHubError(
            f"asset {f.name} on release {release.tag_name} did not settle after repeated uploads",
            hint="re-run the command",
        )

    def _replace(self, release: GitRelease, old: GitReleaseAsset, f: LocalFile) -> GitReleaseAsset:
        """Swap a mutable document: upload under a temporary name, delete, rename."""
        temp = f"{f.name}.new-{f.sha256[:12]}"
        stale = self._assets(release).get(temp)
        with _translated(f"replace asset {f.name}"):
            if stale is not None:
                stale.delete_asset()
        self._upload(release, f, name=temp)
        fresh = self._assets(release).get(temp)
        if fresh is None or fresh.state != "uploaded":
            raise GitHubError(f"upload of {temp} did not complete", hint="re-run the command")
        with _translated(f"replace asset {f.name}"):
            old.delete_asset()
            return fresh.update_asset(f.name, label=fresh.label or "")

    def _verify(
        self, release: GitRelease, files: Iterable[LocalFile]
    ) -> dict[str, GitReleaseAsset]:
        """Download every asset again and compare size and sha256 with the local file."""
        remote = self._assets(release)
        for f in files:
            asset = remote.get(f.name)
            if asset is None:
                raise VerificationError(
                    f"asset {f.name} is missing from {release.tag_name}", hint="re-run the command"
                )
            actual = self._remote_sha256(asset, trust_digest=False)
            if actual != f.sha256 or asset.size != f.size:
                raise VerificationError(
                    f"asset {f.name} on {release.tag_name} has sha256 {actual[:16]}…, "
                    f"expected {f.sha256[:16]}…",
                    hint="the upload was corrupted or replaced; delete the asset and re-run",
                )
            log.debug("verified %s (%s)", f.name, f.sha256)
        return remote

    # -- channel documents as release assets ----------------------------------------------
    def upload_index_assets(
        self,
        repo: str,
        store_dir: Path,
        *,
        tag: str = "channel-index",
        name: str = "Channel index",
        target_commitish: str | None = None,
        mutable: Sequence[str] = ("index.json", "index.html"),
        exclude_prefixes: Sequence[str] = ("releases/",),
    ) -> list[PublishedAsset]:
        """Publish the channel store's documents as assets of one release (``tag``).

        Asset names are the store-relative paths with ``/`` turned into ``--``
        (see :func:`asset_name_for`). Immutable documents go first and are never
        overwritten; the ``mutable`` ones and the views (``index.json`` last) are replaced in place.
        Raises GitHubError, VerificationError.
        """
        from release.channel.views import is_view_path

        docs = _store_documents(store_dir, exclude_prefixes)
        # The views (page, versions.json, feeds, install scripts) change on every render.
        mutable_set = set(mutable) | {rel for rel in docs if is_view_path(rel)}
        order = sorted(docs, key=lambda rel: (rel in mutable_set, rel == "index.json", rel))
        files = [file_info(store_dir / rel, asset_name_for(rel)) for rel in order]
        gh_repo = self._repo(repo)
        release, is_draft = self._release_for_tag(gh_repo, tag)
        if release is None:
            with _translated(f"create release {tag}"):
                release = gh_repo.create_git_release(
                    tag,
                    name=name,
                    message="Signed channel index documents.",
                    draft=False,
                    prerelease=False,
                    make_latest="false",
                    target_commitish=_opt(target_commitish),
                )
        elif is_draft:
            with _translated(f"publish release {tag}"):
                release = release.update_release(
                    name=name, message=release.body or "", draft=False, make_latest="false"
                )
        listing = self._assets(release)
        sent = {}
        for f, rel in zip(files, order, strict=True):
            sent[f.name] = self._ensure_asset(
                release, f, mutable=rel in mutable_set, listing=listing
            )
        verified = self._verify(release, files)
        return [
            PublishedAsset(
                f.name,
                f.size,
                f.sha256,
                verified[f.name].id,
                verified[f.name].browser_download_url,
                sent[f.name],
            )
            for f in files
        ]

    # -- pull requests --------------------------------------------------------------------
    def find_pull_commits(self, repo: str, label: str) -> list[PullInfo]:
        """Merged PRs of ``repo`` carrying ``label``, oldest merge first (cherry-pick order).

        Uses the issue search API (one query, then one GET per PR for its merge commit).
        Raises GitHubError, UsageError (a label with a double quote).
        """
        if '"' in label or not label.strip():
            raise UsageError(f"cannot search for label {label!r}")
        self._repo(repo)
        query = f'repo:{repo} is:pr is:merged label:"{label}"'
        found: list[PullInfo] = []
        with _translated(f"search pull requests labelled {label}"):
            results = self._gh.search_issues(query)
            for item in results:
                pr = item.as_pull_request()
                found.append(
                    PullInfo(pr.number, pr.title, pr.merge_commit_sha, pr.merged_at, pr.html_url)
                )
        if getattr(results, "incomplete_results", False):
            raise GitHubError(
                f"GitHub search for label {label} returned incomplete results",
                hint="re-run later, or pass the commits with --pick",
            )
        return sorted(found, key=lambda p: (p.merged_at or datetime.max, p.number))

    def open_draft_pr(self, repo: str, head: str, base: str, title: str, body: str) -> PullInfo:
        """Open a draft PR ``head`` → ``base``, or return the open one that already exists.

        Raises GitHubError.
        """
        gh_repo = self._repo(repo)
        owner = repo.split("/")[0]
        with _translated(f"open draft pull request {head} -> {base}"):
            for pr in gh_repo.get_pulls(state="open", head=f"{owner}:{head}", base=base):
                log.info("pull request #%s for %s already open", pr.number, head)
                return PullInfo(pr.number, pr.title, pr.merge_commit_sha, pr.merged_at, pr.html_url)
            pr = gh_repo.create_pull(base=base, head=head, title=title, body=body, draft=True)
        return PullInfo(pr.number, pr.title, pr.merge_commit_sha, pr.merged_at, pr.html_url)


def _redact_pygithub_logging() -> None:
    """PyGithub attaches its own stderr handler to the ``github`` logger: mask it too."""
    for handler in logging.getLogger("github").handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            install_redaction(handler)


def asset_name_for(relpath: str) -> str:
    """Asset name of a store document: ``channels/edge/v3.json`` → ``channels--edge--v3.json``."""
    parts = relpath.split("/")
    if any(not p or p in (".", "..") or "--" in p for p in parts):
        raise GitHubError(
            f"cannot name a release asset after {relpath!r}",
            hint="store paths must not contain '--' or empty parts",
        )
    return "--".join(parts)


def _store_documents(store_dir: Path, exclude_prefixes: Sequence[str]) -> list[str]:
    if not store_dir.is_dir():
        raise GitHubError(f"channel store {store_dir} does not exist")
    docs = []
    for path in sorted(store_dir.rglob("*")):
        rel = path.relative_to(store_dir).as_posix()
        if (
            path.is_file()
            and not rel.startswith(tuple(exclude_prefixes))
            and not any(part.startswith(".") for part in rel.split("/"))
        ):
            docs.append(rel)
    if "index.json" not in docs:
        raise GitHubError(f"{store_dir} has no index.json", hint="publish the channel first")
    return docs


def _opt(value: str | None) -> Any:
    """PyGithub's NotSet for a missing optional argument."""
    from github.GithubObject import NotSet

    return NotSet if value is None else value


def _is_loopback(url: str) -> bool:
    import ipaddress
    import urllib.parse

    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
