"""``release channel …`` on a TUF store: bootstrap, UNVERIFIED output, tags, state,
downloads, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import release.cli as cli
from tests.helpers.tufstore import TufWorld


@pytest.fixture
def world(tmp_path: Path) -> TufWorld:
    return TufWorld(tmp_path)


@pytest.fixture
def run(
    world: TufWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.delenv("RELEASE_CHANNEL_ROOT", raising=False)
    monkeypatch.delenv("RELEASE_CHANNEL_SOURCE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(world.tmp / "xdg"))
    monkeypatch.chdir(world.tmp)  # no channels/root.json here

    def run(*args: str, source: bool = True, state: bool = True) -> tuple[int, str, str]:
        argv = ["channel", *args]
        if source:
            argv += ["--source", str(world.root)]
        if state:
            argv += ["--state-dir", str(world.state_dir)]
        code = cli.main(argv)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_no_root_is_one_clear_error_naming_the_three_options(run: Any) -> None:
    code, _out, err = run("latest")
    assert code == 3
    assert err.startswith("error: no root of trust for ")
    hint = err.splitlines()[1]
    for option in ("--root FILE", "$RELEASE_CHANNEL_ROOT", "channels/root.json", "--root-sha256"):
        assert option in hint
    assert "Traceback" not in err


def test_each_way_to_give_the_root(
    run: Any, world: TufWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert run("latest", "--root", str(world.root_file), state=False)[:2] == (0, "2.15.1\n")
    monkeypatch.setenv("RELEASE_CHANNEL_ROOT", str(world.root_file))
    assert run("latest", "--channel", "edge", state=False)[:2] == (0, "26.11.1\n")
    monkeypatch.delenv("RELEASE_CHANNEL_ROOT")
    repo = tmp_path / "project"
    (repo / "channels").mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "channels" / "root.json").write_bytes(world.root_file.read_bytes())
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert run("latest", "--state-dir", str(tmp_path / "s3"), state=False)[:2] == (0, "2.15.1\n")
    monkeypatch.chdir(tmp_path)
    digest = hashlib.sha256(world.repo.root_bytes()).hexdigest()
    code, out, _ = run("latest", "--root-sha256", digest, "--state-dir", str(tmp_path / "s4"))
    assert (code, out) == (0, "2.15.1\n")
    code, _, err = run("latest", "--root-sha256", "ab" * 32, "--state-dir", str(tmp_path / "s5"))
    assert code == 1
    assert "has sha256 abab" in err
    assert "(role root)" in err


def test_trust_on_first_use_is_loud(run: Any, world: TufWorld) -> None:
    code, out, err = run("latest", "--trust-on-first-use")
    assert (code, out) == (0, "2.15.1\n")
    digest = hashlib.sha256(world.repo.root_bytes(1)).hexdigest()
    assert f"warning: TRUST ON FIRST USE: pinned root v1 sha256 {digest}" in err
    # Afterwards the state holds the root: no flag needed, nothing loud.
    code, out, err = run("latest")
    assert (code, out, err) == (0, "2.15.1\n", "")


def test_no_verify_says_unverified_on_every_line(run: Any) -> None:
    code, out, _ = run("list", "--no-verify", state=False)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 6
    assert all(line.startswith("UNVERIFIED: ") for line in lines)
    code, out, _ = run("--json", "latest", "--no-verify", state=False)
    assert json.loads(out)["verified"] is False
    code, out, _ = run("--json", "check", "2.14.0", "--no-verify", state=False)
    assert code == 3
    assert json.loads(out)["status"] == "unknown"
    code, out, _ = run("--json", "show", "2.15.1", "--root", "r.json")
    assert code == 2  # a missing --root file is a config error, never a silent fallback


def test_verified_output_and_tags_as_versions(run: Any, world: TufWorld) -> None:
    root = ("--root", str(world.root_file))
    code, out, _ = run("--json", "latest", *root)
    assert json.loads(out) == {
        "verified": True,
        "channel": "stable",
        "line": None,
        "version": "2.15.1",
        "tag": "stable-2.15.1",
    }
    for spelled in ("2.15.1", "stable-2.15.1"):
        code, out, _ = run("show", spelled, *root)
        assert code == 0
        assert out.startswith("stable-2.15.1 (stable) active")
    code, out, _ = run("show", "edge-26.11.1", *root)  # a tag names its channel
    assert code == 0
    assert out.startswith("edge-26.11.1 (edge)")
    code, out, _ = run("--json", "check", "edge-26.11.1", *root)
    assert json.loads(out)["status"] == "up-to-date"
    code, _, err = run("check", "edge-26.11.1", "--channel", "stable", *root)
    assert code == 2
    assert "hint: did you mean --channel edge?" in err
    code, out, _ = run("--json", "check", "stable-2.14.0", *root)
    data = json.loads(out)
    assert (code, data["status"], data["latest_in_line"]) == (0, "patch-available", "2.14.1")
    code, _, err = run("show", "2.16.0", *root)
    assert code == 2
    assert "not a release of channel stable" in err


def test_attack_exit_code_names_file_and_role(run: Any, world: TufWorld) -> None:
    doc = world.root / world.repo.current_channel_doc("stable")
    doc.write_bytes(doc.read_bytes() + b" ")
    code, _, err = run("latest", "--root", str(world.root_file))
    assert code == 1
    assert err.startswith("error: channels/stable/v")
    assert "(role stable)" in err


def test_verify_checks_release_files(run: Any, world: TufWorld) -> None:
    root = ("--root", str(world.root_file))
    code, out, _ = run("verify", "stable-2.15.1", *root)
    assert (code, out) == (0, "verified 2 channels, 4 lines, 6 releases; 6 files of 1 releases\n")
    sums = world.root / "releases" / "stable-2.15.1" / "SHA256SUMS"
    sums.write_text(sums.read_text().replace("linux", "linUx"))
    code, _, err = run("verify", "2.15.1", *root)
    assert code == 1
    assert "releases/stable-2.15.1/SHA256SUMS (role stable.2.15)" in err
    assert run("verify", *root)[0] == 0  # documents alone are still fine


def test_download_stages_and_leaves_to_unchanged_on_failure(
    run: Any, world: TufWorld, tmp_path: Path
) -> None:
    root = ("--root", str(world.root_file))
    to = tmp_path / "dl"
    code, _out, _ = run("download", "stable-2.15.1", "--to", str(to), *root)
    assert code == 0
    assert sorted(p.name for p in to.iterdir()) == [
        "demo-stable-2.15.1-darwin-arm64.tar.gz",
        "demo-stable-2.15.1-darwin-arm64.tar.gz.sigstore.json",
        "demo-stable-2.15.1-linux-amd64.tar.gz",
        "demo-stable-2.15.1-linux-amd64.tar.gz.sigstore.json",
    ]
    # The second artifact is tampered: nothing at all lands, not even the first one.
    art = world.root / "releases/stable-2.15.1/demo-stable-2.15.1-linux-amd64.tar.gz"
    art.write_bytes(art.read_bytes()[:-1] + b"!")
    to2 = tmp_path / "dl2"
    to2.mkdir()
    (to2 / "keep.txt").write_text("mine")
    code, _, err = run("download", "2.15.1", "--to", str(to2), *root)
    assert code == 1
    assert "(role stable.2.15)" in err
    assert [p.name for p in to2.iterdir()] == ["keep.txt"]
    code, _, err = run("download", "2.15.1", "--to", str(tmp_path / "dl3"), *root)
    assert code == 1
    assert not (tmp_path / "dl3").exists()
    # --to naming a file, or a read-only directory: one clear line, no traceback.
    code, _, err = run("download", "2.14.1", "--to", str(to2 / "keep.txt"), *root)
    assert (code, err.splitlines()[0]) == (
        2,
        f"error: --to {to2 / 'keep.txt'} is a file, not a directory",
    )
    code, _, err = run("download", "2.14.1", "--to", str(read_only_dir(tmp_path)), *root)
    assert code == 2
    assert "error: cannot write to --to" in err
    assert "Traceback" not in err


def read_only_dir(tmp_path: Path) -> Path:
    """A directory this process cannot create files in (root ignores mode bits: /sys)."""
    if os.geteuid() == 0:
        return Path("/sys")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return ro


def test_state_keyed_by_canonical_source_show_and_forget(
    run: Any, world: TufWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = ("--root", str(world.root_file))
    assert run("latest", *root)[0] == 0
    monkeypatch.chdir(world.root.parent)
    code, out, _ = run("--json", "state", "show", "--source", "./store", source=False)
    info = json.loads(out)
    assert info["source"] == str(world.root.resolve())
    assert info["exists"]
    assert info["trusted_root_version"] == 1
    state_file = Path(info["state_file"])
    assert state_file.is_file()
    code, out, _ = run("state", "forget", "--source", str(world.root) + "/", source=False)
    assert code == 0
    assert out.startswith(f"forgot the state of {world.root.resolve()}")
    assert not state_file.exists()


def test_corrupt_state_is_renamed_aside_never_trusted(run: Any, world: TufWorld) -> None:
    root = ("--root", str(world.root_file))
    assert run("latest", *root)[0] == 0
    state_file = next(world.state_dir.glob("*/state.json"))
    state_file.write_text("{not json")
    code, _, err = run("latest", *root)
    assert code == 2
    assert f"error: client state {state_file} is corrupt" in err
    aside = list(state_file.parent.glob("state.json.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_text() == "{not json"
    assert not state_file.exists()
    assert run("latest", *root)[:2] == (0, "2.15.1\n")  # starts again from the root


def test_unwritable_state_dir_names_it(run: Any, world: TufWorld, tmp_path: Path) -> None:
    ro = read_only_dir(tmp_path)
    code, _, err = run(
        "latest", "--root", str(world.root_file), "--state-dir", str(ro), state=False
    )
    assert code == 2
    assert "error: cannot write client state in " in err
    assert str(ro) in err


RUNNER = (
    "import sys, release.cli as c; code = c.main(sys.argv[1:]); "
    "heavy = sorted(m for m in ('sigstore', 'tuf', 'securesystemslib', 'boto3', 'botocore', "
    "'urllib3', 'release.channel.model') if m in sys.modules); "
    "print('LOADED=' + ','.join(heavy), file=sys.stderr); raise SystemExit(code)"
)


def test_repeated_latest_answers_from_verified_state_without_tuf(world: TufWorld) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[2])}
    args = ["channel", "latest", "--source", str(world.root), "--state-dir", str(world.state_dir)]

    def latest(*extra: str) -> tuple[str, str]:
        p = subprocess.run(
            [sys.executable, "-c", RUNNER, *args, *extra],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return p.stdout, p.stderr.strip().rsplit("LOADED=", 1)[1]

    first = latest("--root", str(world.root_file))
    assert first[0] == "2.15.1\n"
    assert first[1] == "release.channel.model,securesystemslib,tuf"  # no boto3, no urllib3
    assert latest() == ("2.15.1\n", "")  # unchanged store: no tuf, no sigstore, no model
    world.repo.publish()  # a new timestamp: the full workflow runs again
    assert latest()[1] != ""
    assert latest() == ("2.15.1\n", "")


def test_a_store_that_lost_its_tuf_metadata_is_a_refused_downgrade(
    run: Any, world: TufWorld, tmp_path: Path
) -> None:
    import shutil

    assert run("latest", "--root", str(world.root_file))[0] == 0  # state now holds the root
    # The server's owner removes metadata/ and serves a schema-1 index of their own.
    shutil.rmtree(world.root / "metadata")
    index = json.loads((world.root / "index.json").read_bytes())
    assert index["schema_version"].startswith("1.")
    for extra in ((), ("--root", str(world.root_file))):
        code, out, err = run("latest", *extra)
        assert (code, out) == (1, "")
        assert "has no TUF metadata (a schema-1 store), but a TUF root of trust is at hand" in err
    code, _, err = run("latest", "--root", str(world.root_file), "--state-dir", str(tmp_path / "x"))
    assert code == 1
    assert "(--root)" in err
