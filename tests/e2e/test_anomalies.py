"""A stray lightweight edge tag in a Linkerd-shaped history: reported by ``release
status`` and left out of changelogs and next versions."""

from __future__ import annotations

import json

import pytest

from release.cli import main
from tests.helpers.linkerd import STRAY_EDGE, LinkerdHistory, add_stray_edge, build_linkerd_history


@pytest.fixture(scope="module")
def stray(tmp_path_factory: pytest.TempPathFactory) -> LinkerdHistory:
    h = build_linkerd_history(tmp_path_factory.mktemp("stray"))
    add_stray_edge(h)
    return h


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_reports_the_stray_tag(
    stray: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--repo", str(stray.path), "status", "--date", "2026-01-20")
    assert code == 0, err
    assert out.splitlines()[0] == "edge: latest edge-26.1.2 (2026-01-09), 10 releases"
    assert "not counted as releases:" in out
    row = next(ln for ln in out.splitlines() if ln.strip().startswith(STRAY_EDGE))
    assert "lightweight tag amid annotated releases" in row
    assert "ignore-tags" in out
    code, out, _ = run(capsys, "--repo", str(stray.path), "--json", "status")
    assert [a["tag"] for a in json.loads(out)["anomalies"]] == [STRAY_EDGE]


def test_changelog_of_the_next_edge_starts_at_the_real_previous_edge(
    stray: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--repo", str(stray.path), "--json", "changelog", "edge-26.1.1")
    assert code == 0
    section = json.loads(out)
    assert section["from"] == "edge-25.12.8"
    assert [e["description"] for e in section["entries"]] == [
        "year rollover fix",
        "Update the README",
    ]


def test_next_edge_in_december_ignores_the_stray_number(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    h = build_linkerd_history(tmp_path_factory.mktemp("december"))
    add_stray_edge(h)
    for t in ("edge-26.1.1", "edge-26.1.2"):  # the history as it was in December
        h.repo.git("tag", "-d", t)
    code, out, _ = run(capsys, "--repo", str(h.path), "next", "edge", "--date", "2025-12-20")
    assert code == 0
    assert out.strip() == "edge-25.12.9"


def test_ignore_tags_makes_it_explicit(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    h = build_linkerd_history(tmp_path_factory.mktemp("explicit"))
    add_stray_edge(h)
    (h.path / "pyproject.toml").write_text(
        f'[tool.release]\nproject = "l"\n[tool.release.history]\nignore-tags = ["{STRAY_EDGE}"]\n'
    )
    code, out, _ = run(capsys, "--repo", str(h.path), "status", "--date", "2026-01-20")
    assert code == 0
    assert "listed in [history] ignore-tags" in out
    assert "to make this explicit" not in out


def test_changelog_of_something_that_is_not_a_release_is_an_error(
    stray: LinkerdHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--repo", str(stray.path), "changelog", "version-2.15")
    assert code != 0
    assert out == ""
    assert err.splitlines()[0] == "error: version-2.15 is not a release tag of any channel"
    assert "version-2.15" in err.splitlines()[1]
    assert err.splitlines()[1].startswith("hint: ")
    code, _, err = run(capsys, "--repo", str(stray.path), "changelog", STRAY_EDGE)
    assert code != 0
    assert err.startswith(f"error: {STRAY_EDGE} is not counted as a release of edge: a lightweight")
    code, out, _ = run(capsys, "--repo", str(stray.path), "changelog", "HEAD")
    assert code == 0
    assert out.startswith("## [Unreleased]")


def test_status_on_interleaved_lines_with_a_stray_stable_tag_and_support_by_dates(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    h = build_linkerd_history(tmp_path_factory.mktemp("lines"))
    # a stray lightweight stable-2.13.9 on an old commit of the line: not its latest
    h.repo.git("tag", "stable-2.13.9", h.sha["stable-2.13.2"])
    (h.path / "channels").mkdir()
    (h.path / "channels" / "stable.toml").write_text("[support]\neol-months = 1\n")
    code, out, err = run(capsys, "--repo", str(h.path), "status", "--date", "2026-01-16")
    assert code == 0, err
    rows = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  2.")}
    assert rows["2.14"].split()[1] == "stable-2.14.1"
    assert rows["2.14"].endswith("active")
    assert rows["2.13"].split()[1] == "stable-2.13.7"  # not the stray 2.13.9
    # maintenance from 2.14.0 (2025-12-17), end of life a month later
    assert rows["2.13"].endswith("maintenance (eol 2026-01-17)")
    assert "stable-2.13.9" in out.split("not counted as releases:")[1]
    code, out, _ = run(capsys, "--repo", str(h.path), "status", "--date", "2026-01-17")
    assert code == 0
    assert "eol (eol 2026-01-17)" in next(ln for ln in out.splitlines() if ln.startswith("  2.13"))
    code, out, _ = run(capsys, "--repo", str(h.path), "next", "backport", "2.13")
    assert (code, out.strip()) == (0, "stable-2.13.8")
