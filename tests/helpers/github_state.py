"""State and JSON shapes of the GitHub stand-in (see github_server.py)."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Fault:
    """One injected fault: the next ``times`` requests matching ``method`` + ``path`` regex."""

    method: str
    path: str
    kind: str  # "status" | "rate_limit" | "secondary" | "reset_mid_upload" | "reset_after_store"
    times: int = 1
    status: int = 500
    reset_in: int = 0
    retry_after: str | None = None


@dataclass
class Asset:
    id: int
    release_id: int
    name: str
    label: str
    content_type: str
    data: bytes
    state: str = "uploaded"


@dataclass
class Release:
    id: int
    tag_name: str
    name: str
    body: str
    draft: bool
    prerelease: bool
    target_commitish: str
    created_at: str
    published_at: str | None = None


@dataclass
class Pull:
    number: int
    title: str
    head: str
    base: str
    body: str = ""
    state: str = "open"
    draft: bool = False
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    labels: list[str] = field(default_factory=list)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class StandInState:
    """What the stand-in knows: one repository ``owner/name`` behind a token."""

    def __init__(self, token: str, owner: str, name: str, root: str) -> None:
        self.token, self.owner, self.name = token, owner, name
        self.root = root
        self.releases: dict[int, Release] = {}
        self.assets: dict[int, Asset] = {}
        self.pulls: dict[int, Pull] = {}
        self.labels: list[str] = []
        self.latest_release_id: int | None = None
        self.requests: list[Recorded] = []
        self.events: list[tuple[str, str]] = []
        self.make_latest_seen: list[str | None] = []
        self.faults: list[Fault] = []
        self.asset_digests = True
        self.redirect_downloads = True
        self._ids = iter(range(1000, 10**9))
        self._lock = threading.RLock()

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/v3"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    # -- test set-up -----------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def fail(self, method: str, path: str, kind: str = "status", **kw: Any) -> Fault:
        fault = Fault(method, path, kind, **kw)
        self.faults.append(fault)
        return fault

    def add_release(
        self,
        tag: str,
        *,
        draft: bool,
        assets: dict[str, bytes] | None = None,
        prerelease: bool = False,
        name: str | None = None,
    ) -> Release:
        rel = Release(
            self.next_id(),
            tag,
            name or tag,
            "",
            draft,
            prerelease,
            "main",
            now(),
            None if draft else now(),
        )
        self.releases[rel.id] = rel
        for asset_name, data in (assets or {}).items():
            self.add_asset(rel.id, asset_name, data)
        return rel

    def add_asset(self, release_id: int, name: str, data: bytes, state: str = "uploaded") -> Asset:
        asset = Asset(self.next_id(), release_id, name, "", "application/octet-stream", data, state)
        self.assets[asset.id] = asset
        return asset

    def add_pull(
        self,
        title: str,
        *,
        labels: list[str],
        merged_at: str | None,
        sha: str | None = None,
        base: str = "main",
    ) -> Pull:
        number = len(self.pulls) + 1
        state = "closed" if merged_at else "open"
        pull = Pull(
            number,
            title,
            f"topic-{number}",
            base,
            state=state,
            merged_at=merged_at,
            merge_commit_sha=sha,
            labels=labels,
        )
        self.pulls[number] = pull
        return pull

    def assets_of(self, release_id: int) -> list[Asset]:
        return sorted(
            (a for a in self.assets.values() if a.release_id == release_id), key=lambda a: a.id
        )

    def releases_for(self, tag: str) -> list[Release]:
        return [r for r in self.releases.values() if r.tag_name == tag]

    # -- JSON shapes -------------------------------------------------------------------
    def repo_json(self) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{self.full_name}"
        return {
            "id": 1,
            "name": self.name,
            "full_name": self.full_name,
            "url": api,
            "html_url": f"{self.root}/{self.full_name}",
            "default_branch": "main",
            "owner": {"login": self.owner, "id": 2, "type": "Organization"},
            "private": False,
        }

    def asset_json(self, a: Asset) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{self.full_name}/releases/assets/{a.id}"
        rel = self.releases[a.release_id]
        doc: dict[str, Any] = {
            "id": a.id,
            "node_id": f"RA_{a.id}",
            "name": a.name,
            "label": a.label,
            "state": a.state,
            "size": len(a.data),
            "content_type": a.content_type,
            "url": api,
            "download_count": 0,
            "created_at": now(),
            "updated_at": now(),
            "browser_download_url": (
                f"{self.root}/{self.full_name}/releases/download/{rel.tag_name}/{a.name}"
            ),
        }
        if self.asset_digests and a.state == "uploaded":
            doc["digest"] = "sha256:" + hashlib.sha256(a.data).hexdigest()
        return doc

    def release_json(self, r: Release) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{self.full_name}/releases/{r.id}"
        return {
            "id": r.id,
            "node_id": f"RE_{r.id}",
            "tag_name": r.tag_name,
            "name": r.name,
            "body": r.body,
            "draft": r.draft,
            "prerelease": r.prerelease,
            "target_commitish": r.target_commitish,
            "created_at": r.created_at,
            "published_at": r.published_at,
            "url": api,
            "assets_url": f"{api}/assets",
            "html_url": f"{self.root}/{self.full_name}/releases/tag/{r.tag_name}",
            "upload_url": f"{self.root}/api/uploads/repos/{self.full_name}/releases/{r.id}"
            "/assets{?name,label}",
            "author": {"login": "release-bot", "id": 3},
            "assets": [self.asset_json(a) for a in self.assets_of(r.id)],
        }

    def pull_json(self, p: Pull) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{self.full_name}/pulls/{p.number}"
        return {
            "id": 50000 + p.number,
            "number": p.number,
            "title": p.title,
            "body": p.body,
            "state": p.state,
            "draft": p.draft,
            "merged_at": p.merged_at,
            "merge_commit_sha": p.merge_commit_sha,
            "url": api,
            "html_url": f"{self.root}/{self.full_name}/pull/{p.number}",
            "labels": [{"name": n} for n in p.labels],
            "head": {"ref": p.head, "label": f"{self.owner}:{p.head}", "sha": "0" * 40},
            "base": {"ref": p.base, "label": f"{self.owner}:{p.base}", "sha": "1" * 40},
        }

    def _publish(self, r: Release, make_latest: str | None) -> None:
        self.make_latest_seen.append(make_latest)
        if r.published_at is None:
            r.published_at = now()
        if not r.draft and not r.prerelease and make_latest in (None, "true"):
            self.latest_release_id = r.id
