"""The benchmark's synthetic history is a valid Linkerd-like repo, and --all agrees with
per-range git log on it (merges, stable branches, interleaved dates)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.__main__ import available
from benchmarks.__main__ import main as bench_main
from benchmarks.synth import build
from release.adapters.git import Git
from release.cli import main
from release.config import default_channels
from release.history import build_history


def test_synth_history_and_all_sections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stats = build(tmp_path / "r", main_commits=240, every=12, line_every=96, points=2)
    git = Git(tmp_path / "r")
    history = build_history(git.tags(), default_channels())
    edges = len(history.releases("edge"))
    assert edges >= 15
    assert [str(s.line) for s in history.lines("stable")] == ["2.12", "2.11"]
    assert stats.release_tags == edges + 2 * 3
    assert stats.tags == stats.release_tags + 4  # junk tags ignored
    assert main(["--repo", str(tmp_path / "r"), "changelog", "--all"]) == 0
    out = capsys.readouterr().out
    sections = out.split("\n## ")
    assert len(sections) == stats.release_tags + 1  # + Unreleased
    for section in sections[1:]:
        title = section.split("]")[0].removeprefix("[")
        release = history.find(title)
        assert release is not None
        prev = history.previous(release)
        rev = [release.commit, f"^{prev.commit}"] if prev else [release.commit]
        singles = [c for c in git.log(rev) if len(c.parents) <= 1]
        assert section.count("\n- ") == len(singles), title


def test_benchmark_dispatcher(capsys: pytest.CaptureFixture[str]) -> None:
    assert "changelog" in available()
    assert bench_main(["--list"]) == 0
    assert "changelog" in capsys.readouterr().out.split()
    assert bench_main(["nope"]) == 2
    assert "no benchmark 'nope'" in capsys.readouterr().err
