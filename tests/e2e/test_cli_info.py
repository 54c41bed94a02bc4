"""``release status`` / ``next`` / ``changelog`` on real repositories, in process and as
subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from release.cli import main
from tests.helpers.gitrepo import Repo
from tests.helpers.linkerd import (
    EDGES,
    STABLE_213,
    STABLE_214,
    LinkerdHistory,
    build_linkerd_history,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def linkerd(tmp_path_factory: pytest.TempPathFactory) -> LinkerdHistory:
    return build_linkerd_history(tmp_path_factory.mktemp("linkerd"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = run(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


# -- status ---------------------------------------------------------------------------


def test_status_text(linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--repo", str(linkerd.path), "status", "--date", "2026-01-20")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "edge: latest edge-26.1.2 (2026-01-09), 10 releases"
    assert lines[1] == "  next: edge-26.1.3"
    assert lines[2] == "stable: 2 lines, next line stable-2.15.0"
    assert lines[3].split() == [
        "2.14",
        "stable-2.14.1",
        "2",
        "releases",
        "2025-12-17",
        "..",
        "2026-01-10",
        "active",
    ]
    assert lines[4].split()[:3] == ["2.13", "stable-2.13.7", "8"]
    assert lines[4].split()[-1] == "maintenance"


def test_status_json(linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--repo", str(linkerd.path), "status", "--date", "2026-02-01")
    assert isinstance(data, dict)
    assert data["edge"]["latest"]["tag"] == "edge-26.1.2"
    assert data["edge"]["latest"]["commit"] == linkerd.sha["edge-26.1.2"]
    assert data["edge"]["next"] == "edge-26.2.1"
    (stable,) = data["stable"]
    assert stable["next_minor"] == "stable-2.15.0"
    assert [
        (ln["line"], ln["count"], ln["latest"]["tag"], ln["next_point"]) for ln in stable["lines"]
    ] == [
        ("2.14", 2, "stable-2.14.1", "stable-2.14.2"),
        ("2.13", 8, "stable-2.13.7", "stable-2.13.8"),
    ]
    assert stable["lines"][1]["branch"] == "2.13.x"
    assert stable["lines"][1]["first_date"].startswith("2025-12-05")
    assert stable["lines"][1]["last_date"].startswith("2026-01-14")


def test_status_empty_repository(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--repo", str(repo.path), "status", "--date", "2026-11-25")
    assert data == {
        "date": "2026-11-25",
        "edge": {"channel": "edge", "latest": None, "count": 0, "next": "edge-26.11.1"},
        "stable": [{"channel": "stable", "next_minor": "stable-1.0.0", "lines": []}],
        "anomalies": [],
    }


# -- next -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["next", "edge", "--date", "2026-01-20"], "edge-26.1.3"),
        (["next", "edge", "--date", "2026-03-01"], "edge-26.3.1"),
        (["next", "stable"], "stable-2.15.0"),
        (["next", "point", "2.14"], "stable-2.14.2"),
        (["next", "backport", "2.13"], "stable-2.13.8"),
    ],
)
def test_next(
    linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, "--repo", str(linkerd.path), *argv)
    assert (code, out, err) == (0, expected + "\n", "")


def test_next_edge_december_with_eight_edges(
    linkerd: LinkerdHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a clone holding only December's history: the ninth edge of the month
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--branch",
            "edge-25.12.8",
            f"file://{linkerd.path}",
            str(tmp_path / "c"),
        ],
        env=linkerd.repo.env,
        check=True,
    )
    for t in ("edge-26.1.1", "edge-26.1.2"):
        subprocess.run(
            ["git", "tag", "-d", t],
            cwd=tmp_path / "c",
            env=linkerd.repo.env,
            check=True,
            capture_output=True,
        )
    code, out, _ = run(
        capsys, "--repo", str(tmp_path / "c"), "next", "edge", "--date", "2025-12-31"
    )
    assert (code, out) == (0, "edge-25.12.9\n")


def test_next_json(linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--repo", str(linkerd.path), "next", "edge", "--date", "2026-01-20")
    assert data == {
        "channel": "edge",
        "kind": "edge",
        "version": "26.1.3",
        "tag": "edge-26.1.3",
        "pep440": "2026.1.3",
    }


@pytest.mark.parametrize(
    ("argv", "code", "message", "hint"),
    [
        (["next", "edge", "--date", "2026-13-01"], 2, "'2026-13-01' is not a date", "YYYY-MM-DD"),
        (["next", "edge", "--date", "2025-11-30"], 2, "before the newest edge", "forward"),
        (
            ["next", "point", "2.16"],
            2,
            "line 2.16 has no stable release",
            "known lines: 2.14, 2.13",
        ),
        (["next", "point", "two"], 2, "'two' is not a release line", "2.15"),
        (["next", "backport", "2.14"], 2, "newest line", "release stable point 2.14"),
        # one rule with `release stable point`: a release on an older line is a backport
        (["next", "point", "2.13"], 2, "not the newest line (2.14)", "stable backport 2.13"),
        (["changelog", "version-2.15"], 2, "not a release tag", "..version-2.15"),
        (["next", "stable", "--channel", "edge"], 2, "not a stable channel", "stable"),
        (["changelog", "nope..HEAD"], 1, "unknown revision 'nope'", "git log"),
        (["changelog", "edge-25.12.1...HEAD"], 2, "symmetric range", "FROM..TO"),
        (["changelog", "..HEAD"], 2, "has no start", "FROM..TO"),
        (["changelog", "--all", "HEAD"], 2, "takes no RANGE", "--all"),
    ],
)
def test_errors_are_one_line_with_a_hint(
    linkerd: LinkerdHistory,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
    hint: str,
) -> None:
    got, out, err = run(capsys, "--repo", str(linkerd.path), *argv)
    assert got == code
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert lines[1].startswith("hint: ")
    assert hint in lines[1]


def test_not_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "--repo", str(tmp_path), "status")
    assert code == 1
    assert err.splitlines() == [
        f"error: {tmp_path} is not a git repository",
        "hint: run inside a clone, or pass --repo PATH",
    ]


def test_shallow_and_no_tags_clones_are_refused(
    linkerd: LinkerdHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, args in (("shallow", ["--depth", "1"]), ("notags", ["--no-tags"])):
        dest = tmp_path / name
        subprocess.run(
            ["git", "clone", "-q", *args, f"file://{linkerd.path}", str(dest)],
            env=linkerd.repo.env,
            check=True,
        )
        code, out, err = run(capsys, "--repo", str(dest), "next", "edge")
        assert code == 1
        assert out == ""
        assert err.startswith("error: ")
        assert "\nhint: " in err
        assert ("shallow" if name == "shallow" else "--no-tags") in err
    code, _, err = run(capsys, "--json", "--repo", str(tmp_path / "shallow"), "status")
    assert code == 1
    assert "shallow clone" in err


# -- changelog ------------------------------------------------------------------------


def test_changelog_default_range_is_latest_edge_to_head(
    linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--repo", str(linkerd.path), "changelog")
    assert code == 0
    assert out.startswith("## [Unreleased]\n\n### Bug Fixes\n\n- not released yet (#")
    assert out.count("\n- ") == 1


def test_changelog_range_and_single_release(
    linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "--repo", str(linkerd.path), "changelog", "edge-25.12.2..edge-25.12.3"
    )
    assert code == 0
    assert out.splitlines()[0] == "## [edge-25.12.3] - 2025-12-06"
    assert "topic work on the branch" in out
    assert "explain" not in out
    assert "Merge pull request #999" not in out
    _, single, _ = run(capsys, "--repo", str(linkerd.path), "changelog", "edge-25.12.3")
    assert single == out
    _, backport, _ = run(capsys, "--repo", str(linkerd.path), "changelog", "stable-2.13.7")
    assert backport.splitlines()[0] == "## [stable-2.13.7] - 2026-01-14"
    assert "backport number 7" in backport
    assert "backport number 6" not in backport
    _, breaking, _ = run(capsys, "--repo", str(linkerd.path), "changelog", "edge-25.12.5")
    assert breaking.split("\n\n")[1] == "### Breaking Changes"
    assert "**api:** drop the v1 API" in breaking


def test_changelog_links_from_the_configured_repository(
    linkerd: LinkerdHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    linkerd.repo.git("remote", "set-url", "origin", "git@github.com:linkerd/linkerd2.git")
    try:
        _, out, _ = run(capsys, "--repo", str(linkerd.path), "changelog", "edge-26.1.1")
    finally:
        linkerd.repo.git("remote", "set-url", "origin", str(linkerd.repo.origin))
    sha = linkerd.sha["edge-26.1.1"]
    assert f"([{sha[:7]}](https://github.com/linkerd/linkerd2/commit/{sha}))" in out
    assert "(https://github.com/linkerd/linkerd2/pull/" in out


def test_changelog_all_sections_match_single_ranges(
    linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--repo", str(linkerd.path), "changelog", "--all")
    assert code == 0
    sections = ["## " + s for s in out.split("\n## ") if s]
    sections[0] = sections[0].removeprefix("## ")
    titles = [s.splitlines()[0].split("]")[0].removeprefix("## [") for s in sections]
    assert titles[0] == "Unreleased"
    assert titles[1:3] == ["stable-2.13.7", "stable-2.14.1"]  # newest first, by date
    assert sorted(titles[1:]) == sorted([*EDGES, *STABLE_213, *STABLE_214])
    for title, section in zip(titles[1:], sections[1:], strict=True):
        _, single, _ = run(capsys, "--repo", str(linkerd.path), "changelog", title)
        assert single.rstrip("\n") == section.rstrip("\n"), title


def test_changelog_json(linkerd: LinkerdHistory, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--repo", str(linkerd.path), "changelog", "edge-26.1.1..edge-26.1.2")
    assert isinstance(data, dict)
    assert (data["title"], data["date"], data["from"], data["to"]) == (
        "edge-26.1.2",
        "2026-01-09",
        "edge-26.1.1",
        "edge-26.1.2",
    )
    assert [e["description"] for e in data["entries"]] == ["january feature"]
    assert data["entries"][0]["group"] == "Features"
    assert data["markdown"].startswith("## [edge-26.1.2] - 2026-01-09")
    every = run_json(capsys, "--repo", str(linkerd.path), "changelog", "--all")
    assert isinstance(every, list)
    assert len(every) == 1 + len(EDGES) + 10


def test_changelog_empty_repository(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--repo", str(repo.path), "changelog")
    assert code == 1
    assert err.startswith("error: the repository has no commits")


def test_changelog_without_releases_covers_everything(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit("feat: first", date="2026-01-01T00:00:00+00:00")
    repo.commit("fix: second", date="2026-01-02T00:00:00+00:00")
    _, out, _ = run(capsys, "--repo", str(repo.path), "changelog")
    assert "first" in out
    assert "second" in out
    _, every, _ = run(capsys, "--repo", str(repo.path), "changelog", "--all")
    assert every == out


# -- subprocesses -------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_python_dash_m_release_status(linkerd: LinkerdHistory) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "release", "--repo", str(linkerd.path), "--json", "status"],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["edge"]["latest"]["tag"] == "edge-26.1.2"


@pytest.mark.parametrize(
    "argv",
    [["status"], ["next", "edge"], ["changelog"], ["changelog", "--all"]],
)
def test_read_paths_do_not_import_heavy_modules(linkerd: LinkerdHistory, argv: list[str]) -> None:
    code = (
        "import io, sys, contextlib\n"
        "from release.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main({['--repo', str(linkerd.path), *argv]!r})\n"
        "top = {'sigstore', 'github', 'rich'}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in top)\n"
        "print(rc, heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=False
    )
    assert proc.stdout.strip() == "0 []", proc.stderr


def test_stable_only_project(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    (repo.path / "channels").mkdir()
    (repo.path / "channels" / "lts.toml").write_text('kind = "stable"\ntag-format = "v{version}"\n')
    # the default edge channel stays in force unless a file disables it
    (repo.path / "channels" / "edge.toml").write_text('kind = "none"\n')
    repo.commit("feat: one", date="2026-01-01T00:00:00+00:00")
    repo.tag("v1.0.0", date="2026-01-01T01:00:00+00:00")
    repo.commit("fix: two", date="2026-01-02T00:00:00+00:00")
    data = run_json(capsys, "--repo", str(repo.path), "status")
    assert isinstance(data, dict)
    assert data["edge"] is None
    assert data["stable"][0]["lines"][0]["latest"]["tag"] == "v1.0.0"
    code, out, _ = run(capsys, "--repo", str(repo.path), "changelog")
    assert code == 0
    assert "two" in out
    assert "one" not in out
    code, _, err = run(capsys, "--repo", str(repo.path), "next", "edge")
    assert code == 2
    assert err.splitlines() == [
        "error: no edge channel is configured",
        'hint: remove kind = "none" from channels/edge.toml, or add an edge channel',
    ]
    assert run(capsys, "--repo", str(repo.path), "next", "point", "1.0")[1] == "v1.0.1\n"


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("release-channels ")


def test_repo_that_is_not_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--repo", str(tmp_path / "missing"), "status")
    assert code == 1
    assert err.splitlines() == [
        f"error: {tmp_path / 'missing'} is not a directory",
        "hint: pass --repo PATH of a git clone",
    ]
