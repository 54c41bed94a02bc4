"""`release edge --push` against the GitHub stand-in: tag pushed, then a GitHub release
draft -> assets -> verify -> publish, marked pre-release and never "latest"; no token leaks."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.helpers.github_server import GitHubStandIn
from tests.helpers.gitrepo import Repo
from tests.helpers.project import make_project, run_release

TOKEN = "ghp_" + "S3cr3tT0k3nV4lu3F0rT3sts0nly0000000"


@pytest.fixture
def server() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(TOKEN, owner="example", name="tool") as s:
        yield s


def test_edge_release_is_published_on_github(repo: Repo, server: GitHubStandIn) -> None:
    project = make_project(repo)
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": server.base_url}
    proc = run_release(
        project,
        "-v",
        "edge",
        "--date",
        "2026-11-25",
        "--sign",
        "dev",
        "--push",
        "--allow-dev-signatures",
        "--json",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["pushed"] is True
    assert summary["github"]["make_latest"] is False

    (release,) = server.releases_for("edge-26.11.1")
    assert not release.draft
    assert release.prerelease
    assert server.make_latest_seen[-1] == "false"
    assert "add the first feature" in release.body
    names = sorted(a.name for a in server.assets_of(release.id))
    assert "tool-26.11.1-linux-amd64" in names
    assert "tool-26.11.1-linux-amd64.sigstore.json" in names
    assert "SHA256SUMS" in names
    assert "provenance.intoto.sigstore.json" in names
    # The release is created as a draft and published only after every asset is up.
    kinds = [e[0] for e in server.events]
    assert kinds.index("publish") > max(i for i, k in enumerate(kinds) if k == "upload")
    for req in server.requests:
        assert TOKEN.encode() not in req.body

    # A re-run after a finished release is a no-op: no duplicate release or assets.
    again = run_release(
        project,
        "edge",
        "--date",
        "2026-11-25",
        "--sign",
        "dev",
        "--push",
        "--allow-dev-signatures",
        env=env,
    )
    assert again.returncode == 0, again.stderr
    assert len(server.releases_for("edge-26.11.1")) == 1
    assert sorted(a.name for a in server.assets_of(release.id)) == names


def test_github_failure_resumes_at_the_github_step(repo: Repo, server: GitHubStandIn) -> None:
    project = make_project(repo)
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": server.base_url}
    server.fail("POST", r"/releases$", status=422, times=1000)
    failed = run_release(
        project,
        "edge",
        "--date",
        "2026-11-25",
        "--sign",
        "dev",
        "--push",
        "--allow-dev-signatures",
        env=env,
    )
    assert failed.returncode != 0
    assert TOKEN not in failed.stdout + failed.stderr
    assert failed.stderr.startswith("error: ")
    # The tag was pushed before GitHub was asked: the journal resumes at `github`.
    assert "refs/tags/edge-26.11.1" in project.git("ls-remote", "--tags", "origin")
    server.faults.clear()
    resumed = run_release(
        project,
        "edge",
        "--date",
        "2026-11-25",
        "--sign",
        "dev",
        "--push",
        "--allow-dev-signatures",
        env=env,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "skip push" in " ".join(resumed.stdout.split())
    (release,) = server.releases_for("edge-26.11.1")
    assert not release.draft
