"""release.adapters.github against the loopback GitHub stand-in (real HTTP, real PyGithub)."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from release.adapters.github import (
    GitHubClient,
    RetryPolicy,
    asset_name_for,
)
from release.errors import GitHubError, UsageError, VerificationError
from release.logging import MASK, redact
from tests.helpers.github_server import GitHubStandIn

# Deliberately not shaped like a GitHub token: only register_secret can mask it.
TOKEN = "standin-secret-4f9a7c1e2b8d"
REPO = "acme/widget"
FAST = RetryPolicy(
    total=4,
    backoff_factor=0.01,
    backoff_max=0.05,
    secondary_rate_wait=0.05,
    max_rate_limit_wait=5,
    seconds_between_requests=None,
    seconds_between_writes=None,
)


@pytest.fixture
def server() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(TOKEN) as s:
        yield s


@pytest.fixture
def client(server: GitHubStandIn) -> Iterator[GitHubClient]:
    with GitHubClient(TOKEN, base_url=server.base_url, retry=FAST) as c:
        yield c


@pytest.fixture
def artifacts(tmp_path: Path) -> list[Path]:
    out = tmp_path / "dist"
    out.mkdir()
    files = {
        "release_channels-26.11.1-py3-none-any.whl": os.urandom(300_000),
        "release_channels-26.11.1.tar.gz": os.urandom(120_000),
        "release_channels-26.11.1.tar.gz.sigstore.json": b'{"mediaType": "bundle"}',
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    return sorted(out.iterdir())


def publish(client: GitHubClient, files: list[Path], tag: str = "edge-26.11.1", **kw: object):
    args: dict[str, object] = dict(
        name=f"Edge {tag}",
        notes="## Changes\n- fix things",
        assets=files,
        prerelease=False,
        make_latest=True,
    )
    args.update(kw)
    return client.publish_release(REPO, tag, **args)  # type: ignore[arg-type]


def stored(server: GitHubStandIn, tag: str) -> dict[str, bytes]:
    (rel,) = server.releases_for(tag)
    names = [a.name for a in server.assets_of(rel.id)]
    assert len(names) == len(set(names)), f"duplicate assets: {names}"
    return {a.name: a.data for a in server.assets_of(rel.id)}


def test_draft_then_assets_then_verify_then_publish(server, client, artifacts):
    result = publish(client, artifacts)

    kinds = [k for k, _ in server.events]
    assert kinds[0] == "create-draft"
    assert kinds[-1] == "publish"
    last_upload = max(i for i, k in enumerate(kinds) if k == "upload")
    downloads = [i for i, k in enumerate(kinds) if k == "download"]
    assert len(downloads) == 3
    assert min(downloads) > last_upload
    (rel,) = server.releases_for("edge-26.11.1")
    assert not rel.draft
    assert not rel.prerelease
    assert rel.body == "## Changes\n- fix things"
    assert rel.name == "Edge edge-26.11.1"
    assert server.make_latest_seen == ["true"]
    assert server.latest_release_id == rel.id
    assert stored(server, "edge-26.11.1") == {p.name: p.read_bytes() for p in artifacts}
    assert result.id == rel.id
    assert result.make_latest
    assert not result.reused_draft
    assert [a.sha256 for a in result.assets] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in artifacts
    ]
    assert all(a.uploaded for a in result.assets)


def test_backport_is_never_latest_and_prerelease_flag(server, client, artifacts):
    newer = server.add_release("stable-2.15.0", draft=False)
    server.latest_release_id = newer.id
    publish(client, artifacts, tag="stable-2.14.9", make_latest=False)
    assert server.make_latest_seen == ["false"]
    assert server.latest_release_id == newer.id

    result = publish(client, artifacts[:1], tag="edge-26.11.2", prerelease=True, make_latest=False)
    (rel,) = server.releases_for("edge-26.11.2")
    assert rel.prerelease
    assert result.prerelease
    assert server.latest_release_id == newer.id
    with pytest.raises(UsageError, match="pre-release cannot be marked latest"):
        publish(client, artifacts, tag="edge-26.11.3", prerelease=True, make_latest=True)


def test_rerun_is_a_no_op(server, client, artifacts):
    publish(client, artifacts)
    events = len(server.events)
    again = publish(client, artifacts)
    new = [k for k, _ in server.events[events:]]
    assert "upload" not in new
    assert "publish" not in new
    assert "create-draft" not in new
    assert new.count("download") == 3  # still verified
    assert again.already_published
    assert not any(a.uploaded for a in again.assets)
    assert len(server.releases) == 1
    assert len(stored(server, "edge-26.11.1")) == 3


def test_crashed_draft_is_reused_and_partial_asset_replaced(server, client, artifacts):
    draft = server.add_release(
        "edge-26.11.1", draft=True, assets={artifacts[0].name: artifacts[0].read_bytes()}
    )
    server.add_asset(draft.id, artifacts[1].name, b"half", state="starter")
    result = publish(client, artifacts)
    assert result.id == draft.id
    assert result.reused_draft
    assert len(server.releases) == 1
    assert [a.uploaded for a in result.assets] == [False, True, True]
    assert ("delete-asset", artifacts[1].name) in server.events
    assert stored(server, "edge-26.11.1") == {p.name: p.read_bytes() for p in artifacts}


def test_existing_asset_with_other_digest_is_refused(server, client, artifacts):
    server.add_release("edge-26.11.1", draft=True, assets={artifacts[0].name: b"other bytes"})
    with pytest.raises(GitHubError, match="already exists with a different sha256") as err:
        publish(client, artifacts)
    assert "immutable" in (err.value.hint or "")
    (rel,) = server.releases_for("edge-26.11.1")
    assert rel.draft
    assert ("publish", "edge-26.11.1") not in server.events


def test_without_digest_field_existing_asset_is_hashed_by_download(server, client, artifacts):
    server.asset_digests = False
    server.add_release(
        "edge-26.11.1", draft=True, assets={artifacts[0].name: artifacts[0].read_bytes()}
    )
    result = publish(client, artifacts)
    first_download = server.events.index(("download", artifacts[0].name))
    first_upload = next(i for i, (k, _) in enumerate(server.events) if k == "upload")
    assert first_download < first_upload
    assert not result.assets[0].uploaded


def test_duplicate_empty_drafts_are_collapsed(server, client, artifacts):
    keep = server.add_release("edge-26.11.1", draft=True)
    server.add_release("edge-26.11.1", draft=True)
    result = publish(client, artifacts)
    assert result.id == keep.id
    assert list(server.releases) == [keep.id]


def test_draft_found_beyond_the_first_page(server, artifacts):
    draft = server.add_release("edge-26.11.1", draft=True)
    for n in range(5):
        server.add_release(f"edge-26.12.{n}", draft=False)
    with GitHubClient(TOKEN, base_url=server.base_url, retry=FAST, per_page=2) as paged:
        result = publish(paged, artifacts)
    assert result.id == draft.id
    assert len(server.releases) == 6
    assert any(r.query.get("page") == ["3"] for r in server.requests)


def test_server_errors_are_retried(server, client, artifacts):
    server.fail("POST", r"/releases$", times=2, status=500)
    server.fail("GET", r"/releases/\d+/assets$", times=1, status=502)
    server.fail("PATCH", r"/releases/\d+$", times=1, status=503)
    publish(client, artifacts)
    creates = [r for r in server.requests if r.method == "POST" and r.path.endswith("/releases")]
    assert len(creates) == 3
    assert len(server.releases) == 1
    assert all(f.times == 0 for f in server.faults)


def test_primary_rate_limit_waits_for_reset(server, client, artifacts):
    server.fail("GET", r"/repos/acme/widget$", kind="rate_limit", reset_in=1)
    start = time.monotonic()
    publish(client, artifacts)
    assert time.monotonic() - start >= 0.9  # honoured X-RateLimit-Reset (+1 s margin)
    assert server.faults[0].times == 0


def test_rate_limit_beyond_max_wait_fails_fast_and_cleanly(server, client, artifacts):
    server.fail("GET", r"/repos/acme/widget$", kind="rate_limit", reset_in=3600)
    start = time.monotonic()
    with pytest.raises(GitHubError, match=r"rate limit exceeded; reset in \d+ s") as err:
        publish(client, artifacts)
    assert time.monotonic() - start < 3
    assert "\n" not in str(err.value)


def test_secondary_limit_and_retry_after_are_retried(server, client, artifacts):
    server.fail("POST", r"/releases$", kind="secondary")
    server.fail("GET", r"/releases$", kind="rate_limit", reset_in=0, retry_after="0")
    publish(client, artifacts)
    assert all(f.times == 0 for f in server.faults)
    assert len(server.releases) == 1


@pytest.mark.parametrize("kind", ["reset_mid_upload", "reset_after_store"])
def test_connection_reset_during_upload_leaves_no_duplicate(server, client, artifacts, kind):
    server.fail("POST", r"/api/uploads/", kind=kind)
    result = publish(client, artifacts)
    assert ("upload-reset", artifacts[0].name) in server.events
    assert stored(server, "edge-26.11.1") == {p.name: p.read_bytes() for p in artifacts}
    assert result.assets[0].uploaded


def test_reset_beyond_retries_fails_then_rerun_completes(server, client, artifacts):
    fault = server.fail("POST", r"/api/uploads/", kind="reset_mid_upload", times=50)
    with pytest.raises(GitHubError, match="connection failed") as err:
        publish(client, artifacts)
    assert "re-run" in (err.value.hint or "")
    (rel,) = server.releases_for("edge-26.11.1")
    assert rel.draft
    fault.times = 0
    result = publish(client, artifacts)
    assert result.reused_draft
    assert len(server.releases) == 1
    assert stored(server, "edge-26.11.1") == {p.name: p.read_bytes() for p in artifacts}


def test_corrupted_download_fails_verification(server, client, artifacts, monkeypatch):
    real = server.add_asset

    def corrupting(release_id, name, data, state="uploaded"):
        return real(release_id, name, data[:-1] + b"X", state)

    monkeypatch.setattr(server, "add_asset", corrupting)
    server.asset_digests = False
    with pytest.raises(VerificationError, match="has sha256"):
        publish(client, artifacts[:1])
    assert server.releases_for("edge-26.11.1")[0].draft


def test_token_never_reaches_logs_errors_or_bodies(server, artifacts, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    server.fail("POST", r"/releases$", times=1, status=500)
    server.fail("POST", r"/api/uploads/", kind="reset_mid_upload")
    server.fail("GET", r"/releases$", kind="secondary")
    with GitHubClient.from_environment(
        {"GITHUB_TOKEN": TOKEN}, base_url=server.base_url, retry=FAST
    ) as c:
        publish(c, artifacts)
        with pytest.raises(GitHubError) as err:
            c.publish_release(
                "acme/missing",
                "x",
                name="x",
                notes="",
                assets=[],
                prerelease=False,
                make_latest=False,
            )
    with (
        GitHubClient("wrong-token-zz", base_url=server.base_url, retry=FAST) as bad,
        pytest.raises(GitHubError, match="HTTP 401 Bad credentials") as err401,
    ):
        publish(bad, artifacts)
    out = capfd.readouterr()
    assert "failed with 403" in caplog.text  # GithubRetry's own log was exercised
    assert "Retry(" in caplog.text  # and urllib3's retry log
    texts = [
        out.out,
        out.err,
        caplog.text,
        str(err.value),
        str(err.value.hint),
        str(err401.value),
        str(err401.value.hint),
    ]
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "debug logging was expected to produce records"
    for text in texts:
        assert TOKEN not in text
    for req in server.requests:
        assert TOKEN.encode() not in req.body
        assert TOKEN not in req.path
        assert TOKEN not in str(req.query)
    authed = [r.headers.get("Authorization") for r in server.requests]
    assert f"token {TOKEN}" in authed  # it is sent, but only as the header
    assert redact(f"x {TOKEN} y") == f"x {MASK} y"
    assert "HTTP 404" in str(err.value)
    assert "\n" not in str(err.value)


def test_network_failure_is_one_clean_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    policy = RetryPolicy(
        total=1, backoff_factor=0.01, seconds_between_requests=None, seconds_between_writes=None
    )
    with (
        GitHubClient(TOKEN, base_url=f"http://127.0.0.1:{port}/api/v3", retry=policy) as c,
        pytest.raises(GitHubError, match="connection failed") as err,
    ):
        c.find_pull_commits(REPO, "backport/2.14")
    assert "\n" not in str(err.value)
    assert TOKEN not in str(err.value)


def test_token_from_environment():
    with pytest.raises(GitHubError, match="GITHUB_TOKEN and GH_TOKEN are unset"):
        GitHubClient.from_environment({})
    with GitHubClient.from_environment(
        {"GH_TOKEN": "gh-token-only-123", "GITHUB_API_URL": "http://127.0.0.1:9/api/v3"}
    ) as c:
        assert c.base_url == "http://127.0.0.1:9/api/v3"
    assert redact("gh-token-only-123") == MASK


def test_find_pull_commits_by_label(server, client):
    server.add_pull(
        "later fix", labels=["backport/2.14"], merged_at="2026-11-03T10:00:00Z", sha="b" * 40
    )
    server.add_pull(
        "early fix", labels=["backport/2.14", "bug"], merged_at="2026-11-01T10:00:00Z", sha="a" * 40
    )
    server.add_pull(
        "other line", labels=["backport/2.13"], merged_at="2026-11-02T10:00:00Z", sha="c" * 40
    )
    server.add_pull("not merged", labels=["backport/2.14"], merged_at=None)
    pulls = client.find_pull_commits(REPO, "backport/2.14")
    assert [(p.number, p.title, p.merge_commit_sha) for p in pulls] == [
        (2, "early fix", "a" * 40),
        (1, "later fix", "b" * 40),
    ]
    assert pulls[0].merged_at is not None
    assert pulls[0].merged_at.day == 1
    (search,) = [r for r in server.requests if r.path.endswith("/search/issues")]
    assert search.query["q"] == ['repo:acme/widget is:pr is:merged label:"backport/2.14"']


def test_open_draft_pr_is_idempotent(server, client):
    first = client.open_draft_pr(
        REPO, "backport-2.14-abc", "release/2.14", "Backport abc to 2.14", "conflicts in x.py"
    )
    second = client.open_draft_pr(REPO, "backport-2.14-abc", "release/2.14", "again", "again")
    assert first.number == second.number == 1
    assert len(server.pulls) == 1
    pull = server.pulls[1]
    assert pull.draft
    assert pull.base == "release/2.14"
    assert pull.body == "conflicts in x.py"


def _store(root: Path, index: bytes, channel: bytes = b'{"v": 1}') -> Path:
    for rel, data in {
        "index.json": index,
        "index/v1.json": index,
        "channels/edge/v1.json": channel,
        "index.html": b"<html>",
        "releases/edge-26.11.1/a.whl": b"wheel",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_upload_index_assets(server, client, tmp_path):
    store = _store(tmp_path / "store", b'{"version": 1}')
    first = client.upload_index_assets(REPO, store)
    assert [a.name for a in first] == [
        "channels--edge--v1.json",
        "index--v1.json",
        "index.html",
        "index.json",
    ]
    (rel,) = server.releases_for("channel-index")
    assert not rel.draft
    assert server.make_latest_seen == ["false"]
    assert server.latest_release_id is None

    (store / "index.json").write_bytes(b'{"version": 2}')
    second = client.upload_index_assets(REPO, store)
    assert [a.uploaded for a in second] == [False, False, False, True]
    assert stored(server, "channel-index")["index.json"] == b'{"version": 2}'

    (store / "channels/edge/v1.json").write_bytes(b"tampered")
    with pytest.raises(GitHubError, match="different sha256"):
        client.upload_index_assets(REPO, store)


def test_asset_names_and_bad_input(client, tmp_path):
    assert asset_name_for("channels/edge/v3.json") == "channels--edge--v3.json"
    with pytest.raises(GitHubError):
        asset_name_for("a--b/c.json")
    with pytest.raises(UsageError, match="not a repository name"):
        client.find_pull_commits("nope", "x")
    with pytest.raises(GitHubError, match="cannot read asset"):
        client.publish_release(
            REPO,
            "t",
            name="t",
            notes="",
            assets=[tmp_path / "none"],
            prerelease=False,
            make_latest=False,
        )


def test_invalid_upload_is_reported_not_looped(server, client, artifacts):
    server.fail("POST", r"/api/uploads/", status=422)
    with pytest.raises(GitHubError, match="HTTP 422"):
        publish(client, artifacts)
    uploads = [r for r in server.requests if r.path.startswith("/api/uploads/")]
    assert len(uploads) == 1


def test_base_url_must_be_http():
    with pytest.raises(GitHubError, match="must be http"):
        GitHubClient(TOKEN, base_url="ftp://example.invalid")


def test_direct_downloads_without_redirect(server, client, artifacts):
    server.redirect_downloads = False
    result = publish(client, artifacts)
    assert [a.uploaded for a in result.assets] == [True, True, True]
    assert not any(r.path.startswith("/api/downloads/") for r in server.requests)
    assert [k for k, _ in server.events].count("download") == 3


def test_importing_the_adapters_does_not_load_pygithub():
    import subprocess
    import sys

    code = (
        "import sys, release.adapters.github, release.adapters.ghpages; "
        "sys.exit('github' in sys.modules or 'requests' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_pygithub_stderr_handler_is_redacted(client):
    handlers = logging.getLogger("github").handlers
    assert handlers, "PyGithub installs a stderr handler on the 'github' logger"
    for handler in handlers:
        record = logging.LogRecord(
            "github.Requester", logging.WARNING, __file__, 1, "header token %s", (TOKEN,), None
        )
        assert handler.filter(record)
        assert TOKEN not in handler.format(record)
        assert record.getMessage() == f"header token {MASK}"
