"""Stable releases end to end (dev Sigstore signing, channel store): cut two lines from
edges, point releases with picks, a backport to the older line, conflicts, re-runs,
resume after a crash, and a vendor channel side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tuf.api.exceptions import RepositoryError

from release.cli import main
from tests.helpers.project import tree_digest
from tests.helpers.stablerepo import StableRepo, make_stable_repo
from tests.helpers.tufcheck import TufReader


def _release(
    capsys: pytest.CaptureFixture[str], sr: StableRepo, out: Path, *args: str
) -> tuple[int, dict[str, Any]]:
    argv = ["--json", "--repo", str(sr.path), "stable", *args]
    code = main([*argv, "--sign", "dev", "--date", "2026-11-25", "--out", str(out)])
    return code, json.loads(capsys.readouterr().out)


def _index(out: Path) -> dict[str, Any]:
    """What a TUF client verifies in the store, shaped like the v1 index's channels."""
    reader = TufReader(out)
    channels: dict[str, Any] = {}
    for name in reader.channels():
        try:
            doc = reader.channel(name)
        except RepositoryError:  # delegated, never published (no role in the snapshot)
            continue
        channels[name] = {
            "latest": doc.latest,
            "signer": {"identity": doc.signer.identity, "issuer": doc.signer.issuer},
            "document": {"path": f"channels/{name}/v{doc.version}.json"},
            "lines": {
                e.line: {"latest": e.latest, "support": {"phase": e.support.phase}}
                for e in doc.lines
                if e.support.phase != "eol"
            },
        }
    return {"channels": channels}


def _lines(index: dict[str, Any], channel: str = "stable") -> dict[str, tuple[str, str]]:
    lines = index["channels"][channel]["lines"]
    return {k: (v["latest"], v["support"]["phase"]) for k, v in lines.items()}


def test_lines_points_and_a_backport(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sr = make_stable_repo(tmp_path)
    out = tmp_path / "out"
    main_before = sr.head_of("main")

    code, data = _release(capsys, sr, out, "cut", "--from", "edge-26.10.1")
    assert code == 0, data
    assert (data["state"], data["tag"]) == ("released", "stable-2.14.0")
    assert sr.head_of("2.14.x") == sr.shas["1"]
    assert _index(out)["channels"]["stable"]["latest"] == "2.14.0"

    code, data = _release(capsys, sr, out, "cut")
    assert (code, data["tag"]) == (0, "stable-2.15.0")
    tag_message = sr.repo.git("tag", "-l", "--format=%(contents)", "stable-2.15.0")
    assert "Cut from edge-26.11.1." in tag_message

    code, data = _release(capsys, sr, out, "point", "2.15", "--pick", "#4")
    assert (code, data["tag"]) == (0, "stable-2.15.1")
    code, data = _release(capsys, sr, out, "point", "2.15", "--pick", "#4", "--pick", "#5")
    assert (code, data["tag"]) == (0, "stable-2.15.2")
    assert sr.repo.git("log", "--format=%s", "stable-2.15.0..2.15.x").splitlines() == [
        "fix: five (#5)",
        "fix: four (#4)",
    ]

    code, data = _release(capsys, sr, out, "backport", "2.14", "--pick", "#4", "--pick", "#2")
    assert (code, data["tag"]) == (0, "stable-2.14.1")
    assert sr.repo.git("log", "--format=%s", "stable-2.14.0..2.14.x").splitlines() == [
        "fix: four (#4)",
        "fix: two (#2)",
    ]

    index = _index(out)
    assert index["channels"]["stable"]["latest"] == "2.15.2"  # a backport never takes it
    assert _lines(index) == {"2.15": ("2.15.2", "active"), "2.14": ("2.14.1", "maintenance")}
    channel_doc = json.loads((out / index["channels"]["stable"]["document"]["path"]).read_text())
    assert [(x["line"], x["latest"], x["releases"]) for x in channel_doc["lines"]] == [
        ("2.14", "2.14.1", 2),
        ("2.15", "2.15.2", 3),
    ]
    line_doc = json.loads((out / channel_doc["lines"][1]["document"]["path"]).read_text())
    cut_from = {r["version"]: r.get("from_edge") for r in line_doc["releases"]}
    assert cut_from == {"2.15.0": "edge-26.11.1", "2.15.1": None, "2.15.2": None}
    for tag in (
        "stable-2.14.0",
        "stable-2.14.1",
        "stable-2.15.0",
        "stable-2.15.1",
        "stable-2.15.2",
    ):
        assert (out / "releases" / tag / "SHA256SUMS").is_file()
        assert tag in sr.tags()
    # the user stayed on main, which never moved
    assert sr.repo.git("symbolic-ref", "--short", "HEAD") == "main"
    assert sr.head_of("main") == main_before
    assert sr.repo.git("status", "--porcelain") == ""

    # a conflicting backport: nothing changes, not even the channel index
    sr.repo.git("checkout", "-q", "2.14.x")
    sr.repo.commit("line-only: five", files={"five.txt": "2.14 version\n"})
    sr.repo.git("checkout", "-q", "main")
    before, index_bytes = sr.repo.snapshot(), (out / "metadata/timestamp.json").read_bytes()
    store_before = tree_digest(out)
    code, data = _release(capsys, sr, out, "backport", "2.14", "--pick", "#5")
    assert code == 1
    assert data["kind"] == "CherryPickConflict"
    assert sr.repo.snapshot() == before
    assert (out / "metadata/timestamp.json").read_bytes() == index_bytes
    # the failed run removed what it made, and only that: earlier records are all kept
    # (docs/failures.md#records)
    assert tree_digest(out) == store_before
    assert (out / ".release-work" / "stable-2.14" / "done" / "stable-2.14.1.json").is_file()


def test_rerun_is_a_no_op_and_new_picks_make_a_new_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path)
    out = tmp_path / "out"
    assert _release(capsys, sr, out, "cut")[0] == 0
    code, data = _release(capsys, sr, out, "cut")
    assert (code, data["state"]) == (0, "already-released")
    sr.repo.tag("edge-26.11.2", ref=sr.shas["5"])  # a newer edge: `cut` means the next line
    code, data = _release(capsys, sr, out, "cut", "--dry-run")
    assert (code, data["plan"]["tag"], data["plan"]["cut_from"]) == (
        0,
        "stable-2.15.0",
        "edge-26.11.2",
    )
    assert _release(capsys, sr, out, "point", "2.14", "--pick", "#4")[1]["tag"] == "stable-2.14.1"
    code, data = _release(capsys, sr, out, "point", "2.14", "--pick", "#4")
    assert (code, data["state"], data["tag"]) == (0, "already-released", "stable-2.14.1")
    code, data = _release(capsys, sr, out, "point", "2.14", "--pick", "#5", "--dry-run")
    assert (code, data["state"], data["plan"]["tag"]) == (0, "planned", "stable-2.14.2")
    code, data = _release(capsys, sr, out, "point", "2.14", "--pick", "#5")
    assert (code, data["tag"]) == (0, "stable-2.14.2")
    assert _index(out)["channels"]["stable"]["latest"] == "2.14.2"


def test_resume_after_a_crash_makes_the_same_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path)
    out = tmp_path / "out"
    sr.repo.git("branch", "2.14.x", "edge-26.10.1")
    sr.repo.tag("stable-2.14.0", ref="2.14.x")
    argv = [
        sys.executable, "-m", "release", "--repo", str(sr.path), "stable", "point", "2.14",
        "--pick", "#2", "--pick", "#4", "--sign", "dev", "--date", "2026-11-25",
        "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "RELEASE_CHANNELS_FAULT": "kill-after:sign"}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == -9
    journal = json.loads((out / ".release-work" / "stable-2.14" / "journal.json").read_text())
    commit = journal["steps"]["prepare"]["release_commit"]
    assert "stable-2.14.1" not in sr.tags()
    assert sr.head_of("2.14.x") == sr.shas["1"]  # refs move only in the tag step
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "resum" in proc.stdout + proc.stderr
    assert sr.head_of("stable-2.14.1^{commit}") == commit
    assert sr.head_of("2.14.x") == commit
    assert _index(out)["channels"]["stable"]["latest"] == "2.14.1"


def test_vendor_channel_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sr = make_stable_repo(tmp_path, acme=True)
    out = tmp_path / "out"
    assert _release(capsys, sr, out, "cut", "--from", "edge-26.10.1")[1]["tag"] == "stable-2.14.0"
    code, data = _release(
        capsys, sr, out, "cut", "--channel", "stable-acme", "--from", "edge-26.10.1"
    )
    assert (code, data["tag"], data["channel"]) == (0, "acme-2.14.0", "stable-acme")
    code, data = _release(
        capsys, sr, out, "point", "2.14", "--channel", "stable-acme", "--pick", "#2"
    )
    assert (code, data["tag"]) == (0, "acme-2.14.1")
    code, data = _release(capsys, sr, out, "point", "2.14", "--pick", "#4")
    assert (code, data["tag"]) == (0, "stable-2.14.1")
    assert sr.repo.git("log", "--format=%s", "acme-2.14.0..acme-2.14.x").splitlines() == [
        "fix: two (#2)"
    ]
    assert sr.repo.git("log", "--format=%s", "stable-2.14.0..2.14.x").splitlines() == [
        "fix: four (#4)"
    ]
    index = _index(out)
    assert index["channels"]["stable"]["latest"] == "2.14.1"
    assert index["channels"]["stable-acme"]["latest"] == "2.14.1"
    assert index["channels"]["stable-acme"]["signer"]["identity"] == "acme-2.14@dev.invalid"
    # The vendor's role is delegated to its line identity only, in the dev root's targets.
    top = json.loads(max((out / "metadata").glob("*.targets.json")).read_bytes())["signed"]
    roles = {r["name"]: r for r in top["delegations"]["roles"]}
    acme_keys = roles["stable-acme"]["keyids"]
    assert [top["delegations"]["keys"][k]["keyval"]["identity"] for k in acme_keys] == [
        "acme-2.14@dev.invalid"
    ]
    assert _lines(index, "stable-acme") == {"2.14": ("2.14.1", "active")}
    bundle = out / "releases" / "acme-2.14.1" / "tool-2.14.1.txt.sigstore.json"
    assert bundle.is_file()
    # the vendor's ledger only sees its own line
    code = main(["--json", "--repo", str(sr.path), "stable", "ledger", "--channel", "stable-acme"])
    ledger = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(x["line"], x["branch"], len(x["entries"])) for x in ledger["lines"]] == [
        ("2.14", "acme-2.14.x", 1)
    ]
    assert ledger["lines"][0]["entries"][0]["main_commit"] == sr.shas["2"]


def test_changelog_commits_go_on_the_line_branch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path, changelog_commit=True)
    out = tmp_path / "out"
    main_before = sr.head_of("main")
    assert _release(capsys, sr, out, "cut")[1]["tag"] == "stable-2.14.0"
    assert _release(capsys, sr, out, "point", "2.14", "--pick", "#5")[1]["tag"] == "stable-2.14.1"
    assert sr.repo.git("log", "--format=%s", "edge-26.11.1..2.14.x").splitlines() == [
        "Release stable-2.14.1",
        "fix: five (#5)",
        "Release stable-2.14.0",
    ]
    changelog = sr.repo.git("show", "2.14.x:CHANGELOG.md")
    assert changelog.index("## [stable-2.14.1]") < changelog.index("## [stable-2.14.0]")
    assert "cut from edge-26.11.1" in changelog
    assert sr.head_of("stable-2.14.1^{commit}") == sr.head_of("2.14.x")
    assert sr.head_of("main") == main_before
    assert "stable-2.14" not in sr.repo.git("show", "main:CHANGELOG.md")
    # the ledger tells the release commits apart from the backport
    code = main(["--json", "--repo", str(sr.path), "stable", "ledger", "2.14"])
    entries = json.loads(capsys.readouterr().out)["lines"][0]["entries"]
    assert code == 0
    assert [(e["subject"], e["main_commit"]) for e in entries] == [
        ("Release stable-2.14.0", None),
        ("fix: five (#5)", sr.shas["5"]),
        ("Release stable-2.14.1", None),
    ]


def test_a_point_after_the_cut_is_not_the_cut_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path)
    out = tmp_path / "out"
    assert _release(capsys, sr, out, "cut", "--line", "2.14")[1]["tag"] == "stable-2.14.0"
    code, data = _release(capsys, sr, out, "point", "2.14")
    assert code == 4  # a precondition
    assert "nothing new on 2.14.x since stable-2.14.0" in data["error"]
    # commits pushed to the line by hand make a point release without picks
    sr.repo.git("checkout", "-q", "2.14.x")
    sr.repo.commit("fix: made on the line", files={"line.txt": "x\n"})
    sr.repo.git("checkout", "-q", "main")
    code, data = _release(capsys, sr, out, "point", "2.14")
    assert (code, data["tag"]) == (0, "stable-2.14.1")
    code, data = _release(capsys, sr, out, "point", "2.14")
    assert (code, data["state"]) == (0, "already-released")
