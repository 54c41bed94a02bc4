"""A GitHub REST API stand-in on loopback, speaking what PyGithub sends for releases and PRs.

It is laid out like GitHub Enterprise Server: the API lives under ``/api/v3``, uploads
under ``/api/uploads`` and asset downloads redirect to ``/api/downloads``, all on one
``127.0.0.1`` port, so PyGithub follows every URL the server hands out.

Behaviour copied from github.com that the adapter must cope with:
- drafts are invisible to ``GET /releases/tags/{tag}`` (only the list shows them);
- a published tag cannot get a second release (422 ``already_exists``);
- an asset name is unique per release (422 ``already_exists``); an upload cut short
  leaves the asset behind in state ``starter``;
- assets carry ``digest: "sha256:…"`` (switch off with ``asset_digests = False``);
- primary rate limits are ``403`` + ``X-RateLimit-Remaining: 0`` + ``X-RateLimit-Reset``.

Faults are queued with :meth:`GitHubStandIn.fail` and consumed by matching requests.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.helpers.github_state import Fault, Pull, Recorded, Release, StandInState, now


class GitHubStandIn(StandInState):
    """The stand-in serving on 127.0.0.1 (ephemeral port). Use as a context manager."""

    def __init__(self, token: str, owner: str = "acme", name: str = "widget") -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        super().__init__(token, owner, name, f"http://127.0.0.1:{self._server.server_address[1]}")

    def __enter__(self) -> GitHubStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _make_handler(gh: StandInState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as separate writes; without this, Nagle + delayed
            # ACK add ~40 ms to every request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            return

        # -- plumbing ------------------------------------------------------------------
        def _send(
            self,
            status: int,
            doc: Any = None,
            headers: dict[str, str] | None = None,
            raw: bytes | None = None,
        ) -> None:
            body = raw if raw is not None else (b"" if doc is None else json.dumps(doc).encode())
            self.send_response(status)
            self.send_header(
                "Content-Type",
                "application/octet-stream"
                if raw is not None
                else "application/json; charset=utf-8",
            )
            self.send_header("Content-Length", str(len(body)))
            all_headers = {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "4999",
                "X-RateLimit-Reset": str(int(time.time()) + 3600),
                **(headers or {}),
            }
            for k, v in all_headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str, code: str | None = None) -> None:
            doc: dict[str, Any] = {"message": message}
            if code:
                doc["errors"] = [{"code": code, "resource": "Release", "field": "name"}]
            self._send(status, doc)

        def _reset(self) -> None:
            """Abort the connection with a TCP RST, as a dropped upload looks to a client."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
            self.close_connection = True

        def _body(self, limit: int | None = None) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length if limit is None else min(limit, length))

        def _fault(self, method: str, path: str) -> Fault | None:
            with gh._lock:
                for f in gh.faults:
                    if f.times > 0 and f.method == method and re.search(f.path, path):
                        f.times -= 1
                        return f
            return None

        def _paginate(self, items: list[Any], query: dict[str, list[str]], path: str) -> None:
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
            chunk = items[(page - 1) * per_page : page * per_page]
            headers = {}
            pages = max(1, -(-len(items) // per_page))
            if page < pages:
                q = {k: v[0] for k, v in query.items()}
                nxt = urllib.parse.urlencode({**q, "page": page + 1, "per_page": per_page})
                last = urllib.parse.urlencode({**q, "page": pages, "per_page": per_page})
                headers["Link"] = (
                    f'<{gh.root}{path}?{nxt}>; rel="next", <{gh.root}{path}?{last}>; rel="last"'
                )
            if path.startswith("/api/v3/search/"):
                self._send(
                    200,
                    {"total_count": len(items), "incomplete_results": False, "items": chunk},
                    headers,
                )
            else:
                self._send(200, chunk, headers)

        # -- dispatch ------------------------------------------------------------------
        def _handle(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            query = urllib.parse.parse_qs(url.query)
            fault = self._fault(method, path)
            is_upload = path.startswith("/api/uploads/")
            if fault and fault.kind in ("reset_mid_upload", "reset_after_store") and is_upload:
                self._upload(path, query, fault)
                return
            body = self._body() if method in ("POST", "PATCH", "PUT") else b""
            with gh._lock:
                gh.requests.append(Recorded(method, path, query, dict(self.headers.items()), body))
            if fault and fault.kind == "status":
                self._error(fault.status, "Server Error")
                return
            if fault and fault.kind == "rate_limit":
                reset = str(int(time.time()) + fault.reset_in)
                headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
                if fault.retry_after is not None:
                    headers["Retry-After"] = fault.retry_after
                self._send(
                    403, {"message": "API rate limit exceeded for installation ID 1."}, headers
                )
                return
            if fault and fault.kind == "secondary":
                self._send(
                    403,
                    {
                        "message": "You have exceeded a secondary rate limit. "
                        "Please wait a few minutes before you try again."
                    },
                )
                return
            if self.headers.get("Authorization") not in (f"token {gh.token}", f"Bearer {gh.token}"):
                self._error(401, "Bad credentials")
                return
            if is_upload:
                self._upload(path, query, None, body)
                return
            if path.startswith("/api/downloads/"):
                asset = gh.assets.get(int(path.split("/")[3]))
                if asset is None:
                    self._error(404, "Not Found")
                    return
                gh.events.append(("download", asset.name))
                self._send(200, raw=asset.data)
                return
            if not path.startswith("/api/v3/"):
                self._error(404, "Not Found")
                return
            with gh._lock:
                self._api(method, path[len("/api/v3") :], query, body, path)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        # -- uploads -------------------------------------------------------------------
        def _upload(
            self,
            path: str,
            query: dict[str, list[str]],
            fault: Fault | None,
            body: bytes | None = None,
        ) -> None:
            m = re.fullmatch(r"/api/uploads/repos/[^/]+/[^/]+/releases/(\d+)/assets", path)
            rel = gh.releases.get(int(m.group(1))) if m else None
            name = query.get("name", [""])[0]
            if rel is None or not name:
                self._error(404, "Not Found")
                return
            if fault is not None:
                length = int(self.headers.get("Content-Length") or 0)
                store_all = fault.kind == "reset_after_store"
                data = self._body(None if store_all else max(1, length // 2))
                with gh._lock:
                    gh.requests.append(
                        Recorded("POST", path, query, dict(self.headers.items()), data)
                    )
                    if not any(a.name == name for a in gh.assets_of(rel.id)):
                        gh.add_asset(rel.id, name, data, "uploaded" if store_all else "starter")
                    gh.events.append(("upload-reset", name))
                self._reset()
                return
            assert body is not None
            with gh._lock:
                if any(a.name == name for a in gh.assets_of(rel.id)):
                    self._error(422, "Validation Failed", "already_exists")
                    return
                asset = gh.add_asset(rel.id, name, body)
                asset.content_type = self.headers.get("Content-Type", asset.content_type)
                asset.label = query.get("label", [""])[0]
                gh.events.append(("upload", name))
                self._send(201, gh.asset_json(asset))

        # -- REST API ------------------------------------------------------------------
        def _api(
            self, method: str, path: str, query: dict[str, list[str]], body: bytes, full_path: str
        ) -> None:
            data = json.loads(body) if body else {}
            repo = f"/repos/{gh.full_name}"
            if method == "GET" and path == "/rate_limit":
                core = {"limit": 5000, "remaining": 4999, "reset": int(time.time()) + 3600}
                self._send(200, {"resources": {"core": core}, "rate": core})
            elif method == "GET" and path == "/search/issues":
                self._search(query, full_path)
            elif not (path == repo or path.startswith(repo + "/")):
                self._error(404, "Not Found")
            elif method == "GET" and path == repo:
                self._send(200, gh.repo_json())
            else:
                self._repo_api(method, path[len(repo) :], query, data, full_path)

        def _repo_api(
            self,
            method: str,
            sub: str,
            query: dict[str, list[str]],
            data: dict[str, Any],
            full_path: str,
        ) -> None:
            parts = sub.strip("/").split("/")
            if parts == ["releases"] and method == "GET":
                rels = sorted(gh.releases.values(), key=lambda r: r.id, reverse=True)
                self._paginate([gh.release_json(r) for r in rels], query, full_path)
            elif parts == ["releases"] and method == "POST":
                self._create_release(data)
            elif parts[:2] == ["releases", "tags"] and method == "GET":
                tag = "/".join(parts[2:])
                found = [r for r in gh.releases_for(tag) if not r.draft]
                if found:
                    self._send(200, gh.release_json(found[0]))
                else:
                    self._error(404, "Not Found")
            elif parts == ["releases", "latest"] and method == "GET":
                rel = gh.releases.get(gh.latest_release_id or -1)
                self._send(200, gh.release_json(rel)) if rel else self._error(404, "Not Found")
            elif parts[:2] == ["releases", "assets"] and len(parts) == 3:
                self._asset(method, int(parts[2]), data)
            elif parts[0] == "releases" and len(parts) >= 2 and parts[1].isdigit():
                self._release(method, int(parts[1]), parts[2:], query, data, full_path)
            elif parts == ["pulls"] and method == "GET":
                self._list_pulls(query, full_path)
            elif parts == ["pulls"] and method == "POST":
                self._create_pull(data)
            elif parts[0] == "pulls" and len(parts) == 2 and method == "GET":
                pull = gh.pulls.get(int(parts[1]))
                self._send(200, gh.pull_json(pull)) if pull else self._error(404, "Not Found")
            elif parts == ["labels"] and method == "GET":
                self._paginate(
                    [{"name": n, "color": "ededed"} for n in gh.labels], query, full_path
                )
            else:
                self._error(404, "Not Found")

        def _create_release(self, data: dict[str, Any]) -> None:
            tag = data["tag_name"]
            draft = bool(data.get("draft", False))
            if not draft and any(not r.draft for r in gh.releases_for(tag)):
                self._error(422, "Validation Failed", "already_exists")
                return
            rel = Release(
                gh.next_id(),
                tag,
                data.get("name") or tag,
                data.get("body") or "",
                draft,
                bool(data.get("prerelease", False)),
                data.get("target_commitish") or "main",
                now(),
            )
            gh.releases[rel.id] = rel
            gh.events.append(("create-draft" if draft else "create", tag))
            if not draft:
                gh._publish(rel, data.get("make_latest"))
            self._send(201, gh.release_json(rel))

        def _release(
            self,
            method: str,
            rid: int,
            rest: list[str],
            query: dict[str, list[str]],
            data: dict[str, Any],
            full_path: str,
        ) -> None:
            rel = gh.releases.get(rid)
            if rel is None:
                self._error(404, "Not Found")
            elif rest == ["assets"] and method == "GET":
                self._paginate([gh.asset_json(a) for a in gh.assets_of(rid)], query, full_path)
            elif rest == [] and method == "GET":
                self._send(200, gh.release_json(rel))
            elif rest == [] and method == "DELETE":
                del gh.releases[rid]
                for a in gh.assets_of(rid):
                    del gh.assets[a.id]
                gh.events.append(("delete-release", rel.tag_name))
                self._send(204)
            elif rest == [] and method == "PATCH":
                was_draft = rel.draft
                if not data.get("draft", rel.draft) and any(
                    not r.draft and r.id != rid for r in gh.releases_for(rel.tag_name)
                ):
                    self._error(422, "Validation Failed", "already_exists")
                    return
                rel.name = data.get("name", rel.name)
                rel.body = data.get("body", rel.body)
                rel.tag_name = data.get("tag_name", rel.tag_name)
                rel.prerelease = bool(data.get("prerelease", rel.prerelease))
                rel.target_commitish = data.get("target_commitish", rel.target_commitish)
                rel.draft = bool(data.get("draft", rel.draft))
                if was_draft and not rel.draft:
                    gh.events.append(("publish", rel.tag_name))
                    gh._publish(rel, data.get("make_latest"))
                else:
                    gh.events.append(("update", rel.tag_name))
                self._send(200, gh.release_json(rel))
            else:
                self._error(404, "Not Found")

        def _asset(self, method: str, aid: int, data: dict[str, Any]) -> None:
            asset = gh.assets.get(aid)
            if asset is None:
                self._error(404, "Not Found")
            elif method == "GET" and "octet-stream" in (self.headers.get("Accept") or ""):
                if gh.redirect_downloads:
                    loc = f"{gh.root}/api/downloads/{aid}/{asset.name}"
                    self._send(302, None, {"Location": loc})
                else:
                    gh.events.append(("download", asset.name))
                    self._send(200, raw=asset.data)
            elif method == "GET":
                self._send(200, gh.asset_json(asset))
            elif method == "DELETE":
                del gh.assets[aid]
                gh.events.append(("delete-asset", asset.name))
                self._send(204)
            elif method == "PATCH":
                asset.name = data.get("name", asset.name)
                asset.label = data.get("label", asset.label)
                gh.events.append(("rename-asset", asset.name))
                self._send(200, gh.asset_json(asset))
            else:
                self._error(404, "Not Found")

        def _list_pulls(self, query: dict[str, list[str]], full_path: str) -> None:
            state = query.get("state", ["open"])[0]
            head = query.get("head", [None])[0]
            base = query.get("base", [None])[0]
            found = [
                p
                for p in gh.pulls.values()
                if (state == "all" or p.state == state)
                and (head is None or f"{gh.owner}:{p.head}" == head)
                and (base is None or p.base == base)
            ]
            self._paginate([gh.pull_json(p) for p in found], query, full_path)

        def _create_pull(self, data: dict[str, Any]) -> None:
            number = len(gh.pulls) + 1
            pull = Pull(
                number,
                data["title"],
                data["head"],
                data["base"],
                body=data.get("body") or "",
                draft=bool(data.get("draft", False)),
            )
            gh.pulls[number] = pull
            gh.events.append(("create-pull", pull.head))
            self._send(201, gh.pull_json(pull))

        def _search(self, query: dict[str, list[str]], full_path: str) -> None:
            q = query.get("q", [""])[0]
            terms = dict(_qualifiers(q))
            items = []
            for p in sorted(gh.pulls.values(), key=lambda p: p.number):
                if terms.get("repo") not in (None, gh.full_name):
                    continue
                if ("is", "merged") in _qualifiers(q) and not p.merged_at:
                    continue
                if "label" in terms and terms["label"] not in p.labels:
                    continue
                doc = gh.pull_json(p)
                doc["url"] = f"{gh.base_url}/repos/{gh.full_name}/issues/{p.number}"
                doc["pull_request"] = {"url": gh.pull_json(p)["url"], "merged_at": p.merged_at}
                items.append(doc)
            self._paginate(items, query, full_path)

    return Handler


def _qualifiers(q: str) -> Iterator[tuple[str, str]]:
    for m in re.finditer(r'(\w+):("([^"]*)"|\S+)', q):
        yield m.group(1), m.group(3) if m.group(3) is not None else m.group(2)
