"""`publish.target = "pages"`: each CI run starts from an empty store seeded from the
pages branch, so the channel keeps its history and the branch never holds the work dir."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.helpers.gitrepo import Repo
from tests.helpers.project import EDGE_TOML, make_project, run_release
from tests.helpers.tufcheck import TufReader

PAGES_TOML = EDGE_TOML + '\n[publish]\ntarget = "pages"\npages-branch = "gh-pages"\n'


def test_pages_branch_carries_the_channel_across_fresh_stores(repo: Repo, tmp_path: Path) -> None:
    project = make_project(repo, extra_files={"channels/edge.toml": PAGES_TOML})
    first = run_release(
        project,
        "edge",
        "--date",
        "2026-11-25",
        "--sign",
        "dev",
        "--push",
        "--allow-dev-signatures",
        "--out",
        str(tmp_path / "run1"),
    )
    assert first.returncode == 0, first.stderr
    project.commit("feat: second (#9)")
    second = run_release(
        project,
        "edge",
        "--date",
        "2026-11-26",
        "--sign",
        "dev",
        "--push",
        "--allow-dev-signatures",
        "--out",
        str(tmp_path / "run2"),
        "--json",
    )
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["github"]["pages_commit"]

    files = project.git("ls-tree", "-r", "--name-only", "origin/gh-pages").split()
    assert "index.json" in files
    assert "releases/edge-26.11.1/SHA256SUMS" in files
    assert "releases/edge-26.11.2/SHA256SUMS" in files
    assert not [f for f in files if f.startswith(".release-work") or "lock" in f]
    assert "metadata/timestamp.json" in files
    timestamp = json.loads(project.git("show", "origin/gh-pages:metadata/timestamp.json"))
    assert timestamp["signed"]["version"] == 2
    # The consumer side reads the published branch as a channel.
    site = tmp_path / "site"
    subprocess.run(
        ["git", "clone", "-q", "-b", "gh-pages", str(project.origin), str(site)],
        env=project.env,
        check=True,
    )
    reader = TufReader(site)
    assert reader.latest("edge") == "26.11.2"
