from __future__ import annotations

import sys
from pathlib import Path

import pytest

from release.adapters.build import BuildContext, plan_artifacts, run_builds
from release.config import BuildSpec
from release.errors import BuildError, ConfigError

CTX = BuildContext(version="26.11.1", pep440="2026.11.1", tag="edge-26.11.1", python=sys.executable)
WRITE = "import pathlib,sys; [pathlib.Path(a).write_text(a) for a in sys.argv[1:]]"


def spec(
    *outputs: str, artifacts: tuple[str, ...] | None = None, targets: tuple[str, ...] = ()
) -> BuildSpec:
    return BuildSpec(
        name="t",
        command=("{python}", "-c", WRITE, *outputs),
        artifacts=artifacts if artifacts is not None else tuple(Path(o).name for o in outputs),
        targets=targets,
    )


def test_placeholders_and_matrix_targets(tmp_path: Path) -> None:
    s = spec("{out}/tool-{version}-{os}-{arch}", targets=("linux-amd64", "darwin-arm64"))
    arts = run_builds([s], CTX, src=tmp_path, out=tmp_path / "out")
    assert sorted(a.name for a in arts) == [
        "tool-26.11.1-darwin-arm64",
        "tool-26.11.1-linux-amd64",
    ]
    assert {(a.os, a.arch) for a in arts} == {("linux", "amd64"), ("darwin", "arm64")}
    one = plan_artifacts([s], CTX, tmp_path, target="linux-amd64")
    assert [a.name for a in one] == ["tool-26.11.1-linux-amd64"]


def test_missing_and_extra_files_are_errors(tmp_path: Path) -> None:
    s = spec("{out}/a", artifacts=("a", "b"))
    with pytest.raises(BuildError, match="missing b"):
        run_builds([s], CTX, src=tmp_path, out=tmp_path / "o1")
    s2 = spec("{out}/a", "{out}/surprise", artifacts=("a",))
    with pytest.raises(BuildError, match="unexpected surprise"):
        run_builds([s2], CTX, src=tmp_path, out=tmp_path / "o2")


def test_failing_command_reports_exit_code_and_output(tmp_path: Path) -> None:
    s = BuildSpec(
        "boom", ("{python}", "-c", "import sys; print('compiler says no'); sys.exit(3)"), ("x",)
    )
    with pytest.raises(BuildError, match="exit code 3") as info:
        run_builds([s], CTX, src=tmp_path, out=tmp_path / "o")
    assert "compiler says no" in (info.value.hint or "")


def test_unknown_placeholder_and_duplicate_artifacts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown placeholder"):
        plan_artifacts([spec(artifacts=("x-{nope}",))], CTX, tmp_path)
    with pytest.raises(ConfigError, match="same artifact"):
        plan_artifacts([spec(artifacts=("x",)), spec(artifacts=("x",))], CTX, tmp_path)
    with pytest.raises(BuildError, match="no build commands"):
        run_builds([], CTX, src=tmp_path, out=tmp_path)
