"""``release init`` on real repositories: a Linkerd-shaped history needs no manual edit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from release.cli import main
from tests.helpers.gitrepo import Repo
from tests.helpers.linkerd import LinkerdHistory, add_stray_edge, build_linkerd_history

REQUIRE_LINTERS = os.environ.get("RELEASE_REQUIRE_WORKFLOW_LINTERS") == "1"
PIN = "release-channels/release-channels@" + "ab" * 20


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def linkerd_shaped(tmp: Path) -> LinkerdHistory:
    """Linkerd's names: release/stable-X.Y branches, a GitHub origin URL."""
    h = build_linkerd_history(tmp)
    for line in ("2.13", "2.14"):
        h.repo.git("branch", "-m", f"{line}.x", f"release/stable-{line}")
    h.repo.git("remote", "set-url", "origin", "https://github.com/linkerd/linkerd2.git")
    return h


@pytest.fixture
def linkerd(tmp_path: Path) -> LinkerdHistory:
    return linkerd_shaped(tmp_path)


def test_before_init_a_branch_format_matching_no_branch_is_an_error(
    linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--repo", str(linkerd.path), "stable", "ledger")
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == (
        "error: no branch matches branch-format '{major}.{minor}.x' of channel stable "
        "(looked for 2.14.x, 2.13.x); branches naming 2.14: release/stable-2.14"
    )
    assert lines[1].startswith("hint: set branch-format in channels/stable.toml")


def test_init_on_a_linkerd_shaped_history(
    linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = str(linkerd.path)
    before = snapshot(linkerd.path)
    code, out, err = run(capsys, "--repo", repo, "init", "--dry-run", "--action", PIN)
    assert code == 0, err
    assert snapshot(linkerd.path) == before  # --dry-run writes nothing
    assert "  development branch main: the branch 'main' exists" in out
    assert (
        "  stable (stable): tag-format stable-{version}, branch-format "
        "release/stable-{major}.{minor}, latest stable-2.14.1"
    ) in out
    assert "    line 2.13: latest stable-2.13.7 (8 releases, branch release/stable-2.13)" in out
    assert "--- channels/stable.toml ---" in out
    assert 'branch-format = "release/stable-{major}.{minor}"' in out
    assert "(dry run: nothing written)" in out

    code, out, err = run(capsys, "--repo", repo, "init", "--action", PIN)
    assert code == 0, err
    written = set(snapshot(linkerd.path)) - set(before)
    assert written == {
        "channels/edge.toml",
        "channels/stable.toml",
        "channels/trust.toml",
        "release.toml",
        ".github/workflows/release-edge.yml",
        ".github/workflows/release-stable.yml",
    }

    # no manual edit: status, ledger and next are right
    code, out, err = run(capsys, "--repo", repo, "--json", "status", "--date", "2026-01-20")
    assert code == 0, err
    status = json.loads(out)
    assert status["edge"]["latest"]["tag"] == "edge-26.1.2"
    assert status["edge"]["next"] == "edge-26.1.3"
    lines = {row["line"]: row for row in status["stable"][0]["lines"]}
    assert lines["2.14"]["latest"]["tag"] == "stable-2.14.1"
    assert lines["2.13"]["latest"]["tag"] == "stable-2.13.7"
    assert (lines["2.14"]["phase"], lines["2.13"]["phase"]) == ("active", "maintenance")
    code, out, err = run(capsys, "--repo", repo, "stable", "ledger")
    assert code == 0, err
    assert out.startswith("2.14 (release/stable-2.14, cut at ")
    assert "2.13 (release/stable-2.13, cut at " in out
    assert run(capsys, "--repo", repo, "next", "point", "2.14")[1] == "stable-2.14.2\n"
    assert run(capsys, "--repo", repo, "next", "backport", "2.13")[1] == "stable-2.13.8\n"

    code, out, err = run(capsys, "--repo", repo, "--json", "config")
    values = json.loads(out)["values"]
    assert values["channels.stable.branch-format"]["source"] == "channels/stable.toml"
    assert values["repository"] == {
        "value": "https://github.com/linkerd/linkerd2",
        "source": "release.toml",
    }
    assert values["channels.edge.signer.identity"]["value"] == (
        "https://github.com/linkerd/linkerd2/.github/workflows/release-edge.yml@refs/heads/main"
    )

    # a second init refuses and changes nothing
    after = snapshot(linkerd.path)
    code, out, err = run(capsys, "--repo", repo, "init", "--action", PIN)
    assert code == 2
    assert err.splitlines()[0] == (
        "error: this repository is configured already: release.toml, channels/edge.toml, "
        "channels/stable.toml"
    )
    assert snapshot(linkerd.path) == after


def test_init_without_tags_writes_the_defaults(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit("feat: first", date="2026-01-01T00:00:00+00:00")
    code, out, err = run(capsys, "--repo", str(repo.path), "init", "--action", PIN)
    assert code == 0, err
    assert err == "warning: no tags in this repository: the files hold Linkerd's defaults\n"
    assert 'tag-format = "edge-{yy}.{m}.{n}"' in (repo.path / "channels/edge.toml").read_text()
    stable = (repo.path / "channels/stable.toml").read_text()
    assert 'branch-format = "{major}.{minor}.x"' in stable
    assert (repo.path / "release.toml").is_file()
    code, out, err = run(capsys, "--repo", str(repo.path), "--json", "status")
    assert code == 0, err
    assert json.loads(out)["edge"]["latest"] is None


def test_init_in_a_python_project_appends_tool_release(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    original = '[project]\nname = "gadget"\nversion = "1.0"\n\n[tool.ruff]\nline-length = 99'
    (repo.path / "pyproject.toml").write_text(original)
    repo.commit("feat: first", date="2026-01-01T00:00:00+00:00")
    code, _, err = run(capsys, "--repo", str(repo.path), "init")
    assert code == 0, err
    text = (repo.path / "pyproject.toml").read_text()
    assert text.startswith(original + "\n")
    assert '[tool.release]\nproject = "gadget"\n' in text
    assert not (repo.path / "release.toml").exists()
    code, out, err = run(capsys, "--repo", str(repo.path), "--json", "config")
    assert code == 0, err
    assert json.loads(out)["config_file"] == "pyproject.toml [tool.release]"


def test_vendor_channels_and_their_branches(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    def day(d: int) -> str:
        return f"2026-01-{d:02d}T12:00:00+00:00"

    repo.commit("feat: a", date=day(1))
    repo.tag("stable-2.14.0", date=day(1))
    repo.tag("enterprise-2.14.0", date=day(2))
    for name in ("release/stable-2.14", "release/enterprise-2.14"):
        repo.git("branch", name)
    repo.git("checkout", "-q", "release/enterprise-2.14")
    repo.commit("fix: vendor fix", date=day(3))
    repo.tag("enterprise-2.14.1", date=day(3))
    repo.git("checkout", "-q", "release/stable-2.14")
    repo.commit("fix: a fix", date=day(4))
    repo.tag("stable-2.14.1", date=day(4))
    repo.git("checkout", "-q", "main")
    code, out, err = run(capsys, "--repo", str(repo.path), "--json", "init", "--dry-run")
    assert code == 0, err
    channels = {c["name"]: c for c in json.loads(out)["inference"]["channels"]}
    assert channels["stable"]["branch_format"] == "release/stable-{major}.{minor}"
    assert channels["enterprise"]["tag_format"] == "enterprise-{version}"
    assert channels["enterprise"]["branch_format"] == "release/enterprise-{major}.{minor}"
    assert channels["edge"]["reasons"][0].startswith("no tag names the month")


def test_a_bad_action_pin_is_refused(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit("feat: first", date="2026-01-01T00:00:00+00:00")
    before = snapshot(repo.path)
    code, _, err = run(capsys, "--repo", str(repo.path), "init", "--action", "o/r@main")
    assert code == 2
    assert err.splitlines()[0] == "error: --action 'o/r@main' is not OWNER/REPO@SHA"
    assert snapshot(repo.path) == before


def _linter(name: str) -> str:
    exe = shutil.which(name) or next(
        (str(p) for p in [Path(sys.executable).parent / name] if p.exists()), None
    )
    if exe is None:
        if REQUIRE_LINTERS:
            pytest.fail(f"{name} is not installed")
        pytest.skip(f"{name} is not installed")
    return exe


def test_written_workflows_pass_actionlint_and_zizmor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = linkerd_shaped(tmp_path)
    assert run(capsys, "--repo", str(h.path), "init", "--action", PIN)[0] == 0
    workflows = sorted((h.path / ".github/workflows").glob("*.yml"))
    assert [w.name for w in workflows] == ["release-edge.yml", "release-stable.yml"]
    for wf in workflows:
        text = wf.read_text()
        assert f"uses: {PIN} # release-channels" in text
        jobs_part = text.split("\njobs:\n", 1)[1]
        assert len(jobs_part.splitlines()) <= 25, wf.name  # short: the action does the work
    proc = subprocess.run(
        [_linter("actionlint"), "-no-color", "-oneline", *map(str, workflows)],
        cwd=h.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run(
        [_linter("zizmor"), "--offline", "--no-progress", ".github/workflows"],
        cwd=h.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_init_lists_anomalous_tags_in_ignore_tags(
    linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    stray = add_stray_edge(linkerd)
    repo = str(linkerd.path)
    code, out, err = run(capsys, "--repo", repo, "init", "--action", PIN)
    assert code == 0, err
    assert "anomalous tags (not counted as releases):" in out
    assert f"  {stray}: a lightweight tag amid annotated releases" in out
    config = (linkerd.path / "release.toml").read_text()
    assert f'[history]\nignore-tags = [\n  "{stray}",  # a lightweight tag' in config
    code, out, err = run(capsys, "--repo", repo, "--json", "status", "--date", "2026-01-20")
    assert code == 0, err
    status = json.loads(out)
    assert status["edge"]["latest"]["tag"] == "edge-26.1.2"
    assert [(a["tag"], a["explicit"]) for a in status["anomalies"]] == [(stray, True)]
    code, out, err = run(capsys, "--repo", repo, "changelog", "edge-26.1.1")
    assert code == 0, err
    assert "year rollover fix" in out
    assert "change 8 for december" not in out  # the range starts at edge-25.12.8


def test_before_init_a_point_release_names_branch_format(
    linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(linkerd.path)
    pick = linkerd.sha["edge-26.1.1"]
    code, _, err = run(
        capsys, "--repo", str(linkerd.path), "stable", "point", "2.14", "--pick", pick,
        "--dry-run", "--sign", "dev", "--date", "2026-01-20",
    )  # fmt: skip
    assert code != 0
    assert "branch 2.14.x does not exist (locally or on origin); if the line branches" in err
    assert "set branch-format in channels/*.toml" in err
    assert snapshot(linkerd.path) == before


def test_init_writes_the_trust_file_the_maintainers_fill_in(
    repo: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo.commit("feat: first", date="2026-01-01T00:00:00+00:00")
    code, out, err = run(capsys, "--repo", str(repo.path), "init", "--action", PIN)
    assert code == 0, err
    assert "channels/trust.toml: list the maintainers' Sigstore identities" in out
    trust = (repo.path / "channels/trust.toml").read_text()
    assert "[root]\nthreshold = 1\nidentities = []\n" in trust
    # Nobody is guessed: a real root is refused until the maintainers declare themselves.
    code, out, err = run(capsys, "--repo", str(repo.path), "trust", "init", "--sign", "staging")
    assert code != 0
    assert err.startswith("error: ")
    assert "[root]" in err
    assert "Traceback" not in err
    assert not (repo.path / "channels/tuf").exists()
    # Offline, the dev root works straight away.
    store = tmp_path / "store"
    code, out, err = run(
        capsys, "--repo", str(repo.path), "trust", "init", "--sign", "dev", "--store", str(store)
    )
    assert code == 0, err
    assert (store / "metadata/1.root.json").is_file()


def test_init_keeps_an_existing_trust_file(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit("feat: first", date="2026-01-01T00:00:00+00:00")
    mine = (
        "[root]\nthreshold = 1\n"
        'identities = [{ identity = "me@example.org", issuer = "https://github.com/login/oauth" }'
        "]\n"
    )
    (repo.path / "channels").mkdir()
    (repo.path / "channels/trust.toml").write_text(mine)
    code, out, err = run(capsys, "--repo", str(repo.path), "init", "--action", PIN)
    assert code == 0, err
    assert "channels/trust.toml exists: kept as it is" in out
    assert (repo.path / "channels/trust.toml").read_text() == mine
    assert (repo.path / "channels/edge.toml").is_file()
