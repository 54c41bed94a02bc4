from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import release.cli as cli
from release.channel.store import ChannelStore
from tests.helpers.channelkit import (
    EDGE,
    EDGE_ID,
    PROJECT,
    STABLE,
    STABLE_ID,
    KeyRoot,
    publish,
    serve_directory,
)

# Runs the real `release` entry point; command modules of other branches that are not
# in this tree yet are skipped, so the command line is exactly what ships once merged.
RUNNER = (
    "import importlib.util, sys; import release.cli as c; "
    "c.COMMAND_MODULES = tuple(m for m in c.COMMAND_MODULES if importlib.util.find_spec(m)); "
    "code = c.main(sys.argv[1:]); "
    "heavy = sorted(m for m in ('sigstore', 'github', 'rich', 'urllib.request') "
    "if m in sys.modules); "
    "print('LOADED=' + ','.join(heavy), file=sys.stderr); "
    "raise SystemExit(code)"
)
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def keys() -> KeyRoot:
    return KeyRoot()


@pytest.fixture
def source(tmp_path: Path, keys: KeyRoot) -> Path:
    """A store published a few minutes ago (the CLI reads the real clock)."""
    store = ChannelStore(tmp_path / "store", durable=False)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    stable, edge = keys.signer(STABLE_ID), keys.signer(EDGE_ID)
    for i, v in enumerate(["2.14.0", "2.14.1", "2.15.0"]):
        publish(
            store,
            STABLE,
            v,
            stable,
            now=now + timedelta(minutes=i),
            platforms=(("linux", "amd64"), ("darwin", "arm64")),
            notes="### Fixed\n- <script>alert(1)</script> escaped" if v == "2.15.0" else None,
        )
    publish(store, EDGE, "26.11.1", edge, now=now + timedelta(hours=1))
    return store.root


@pytest.fixture
def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keys: KeyRoot,
    tmp_path: Path,
) -> Any:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("release.cli.channel",))
    monkeypatch.setattr("release.cli.channel.make_verifier", lambda args: keys.verifier())
    state = tmp_path / "client-state"

    def go(*argv: str) -> tuple[int, str, str]:
        args = ["--json", "channel", *argv[1:]] if argv[0] == "--json" else ["channel", *argv]
        code = cli.main([*args, "--state-dir", str(state)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return go


def test_latest_list_show(run: Any, source: Path) -> None:
    assert run("latest", "--source", str(source)) == (0, "2.15.0\n", "")
    assert run("latest", "--source", str(source), "--line", "2.14", "--tag")[1] == "stable-2.14.1\n"
    assert run("latest", "--source", str(source), "--channel", "edge")[1] == "26.11.1\n"
    code, out, _ = run("--json", "latest", "--source", str(source), "--verify")
    assert (code, json.loads(out)) == (
        0,
        {
            "channel": "stable",
            "line": None,
            "version": "2.15.0",
            "tag": "stable-2.15.0",
            "signatures_verified": True,
        },
    )
    code, out, _ = run("list", "--source", str(source), "--channel", "stable")
    assert code == 0
    assert out.splitlines()[0] == "stable (stable): latest 2.15.0"
    assert out.splitlines()[1].split()[:2] == ["2.15", "active"]
    assert out.splitlines()[2].split()[:2] == ["2.14", "maintenance"]
    code, out, _ = run("show", "--source", str(source), "2.14.1")
    assert code == 0
    assert out.startswith("stable-2.14.1 (stable) active\n")
    assert "demo-stable-2.14.1-darwin-arm64.tar.gz  darwin/arm64" in out


def test_verify_download_check(run: Any, source: Path, tmp_path: Path) -> None:
    code, out, _ = run("verify", "--source", str(source))
    assert (code, out) == (0, "verified index v4: 2 channels, 3 lines, 4 releases\n")
    dest = tmp_path / "dl"
    code, out, _ = run(
        "download",
        "--source",
        str(source),
        "2.14.1",
        "--os",
        "linux",
        "--arch",
        "amd64",
        "--to",
        str(dest),
    )
    assert code == 0
    assert sorted(p.name for p in dest.iterdir()) == [
        "demo-stable-2.14.1-linux-amd64.tar.gz",
        "demo-stable-2.14.1-linux-amd64.tar.gz.sigstore.json",
    ]
    assert run("check", "--source", str(source), "2.15.0")[:2] == (
        0,
        "2.15.0 is up to date (stable, line 2.15)\n",
    )
    code, out, _ = run("--json", "check", "--source", str(source), "2.14.0")
    assert code == 1
    assert json.loads(out)["status"] == "patch-available"
    code, out, _ = run("check", "--source", str(source), "9.9.9")
    assert (code, out) == (3, "unknown: 9.9.9 is not a release of channel stable (no line 9.9)\n")


def test_refusals_exit_1_with_error_and_hint(run: Any, source: Path) -> None:
    # An attack refused exits 1; a check that could not decide says "unknown" (3).
    assert run("verify", "--source", str(source))[0] == 0  # state now holds index v4
    shutil.copy(source / "index/v3.json", source / "index.json")
    code, out, err = run("latest", "--source", str(source))
    assert (code, out) == (1, "")
    assert err == (
        "error: index version 3 is older than version 4 seen before (rollback)\n"
        "hint: the source serves an old index; refusing\n"
    )
    code, out, _ = run("check", "--source", str(source), "2.15.0")
    assert code == 3
    assert out.startswith("unknown: index version 3 is older")
    code, _, err = run("latest", "--source", str(source / "missing"))
    assert code == 2
    assert "is not a directory or URL" in err


def test_latest_does_not_load_sigstore_github_or_rich(source: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            "channel",
            "latest",
            "--source",
            str(source),
            "--state-dir",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (0, "2.15.0\n"), proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "LOADED="


def test_a_url_source_is_read_only_through_tuf(source: Path, tmp_path: Path) -> None:
    """Schema-1 stores are read (transitionally) from directories only: over a URL the
    TUF client runs, and without a root of trust it refuses to guess (exit 3)."""
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    with serve_directory(source) as url:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                RUNNER,
                "channel",
                "latest",
                "--source",
                url,
                "--channel",
                "edge",
                "--state-dir",
                str(tmp_path / "s"),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
    assert (proc.returncode, proc.stdout) == (3, ""), proc.stderr
    assert proc.stderr.startswith(f"error: no root of trust for {url}")
    assert "sigstore" not in proc.stderr.splitlines()[-1]


def test_page_is_rendered_and_escaped(run: Any, source: Path) -> None:
    code, out, _ = run("page", "--source", str(source))
    assert (code, out) == (0, f"wrote {source / 'index.html'}\n")
    html = (source / "index.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # no external assets
    assert "src=" not in html


@pytest.mark.chromium
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (/usr/bin/chromium)")
def test_page_in_headless_chromium(run: Any, source: Path, tmp_path: Path) -> None:
    assert run("page", "--source", str(source))[0] == 0
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--dump-dom",
            (source / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert f"<title>{PROJECT} release channels</title>" in dom
    assert 'Latest: <strong class="latest">2.15.0</strong>' in dom
    assert '<td class="phase-maintenance">maintenance</td>' in dom
    store = ChannelStore(source)
    doc = store.read_channel("stable")
    assert doc is not None
    line = store.read_line(doc, "2.14")
    assert line is not None
    art = line.release("2.14.1").artifacts[0]  # type: ignore[union-attr]
    assert f'<code class="sha">{art.sha256}</code>' in dom
    assert (
        f"release verify {art.name} --bundle {art.name}.sigstore.json --identity "
        f"{STABLE_ID.identity} --issuer {STABLE_ID.issuer}"
    ) in dom
    assert f"echo '{art.sha256}  {art.name}' | sha256sum -c -" in dom
    assert "<script>alert(1)</script>" not in dom
    assert dom.count('class="artifact"') == 2 * 3 + 1
    assert EDGE.name in dom


def test_a_source_url_with_credentials_is_refused_and_never_shown(
    run: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    for command in (("latest",), ("check", "2.15.0"), ("verify",)):
        code, out, err = run(*command, "--source", "https://bob:hunter2@example.com/channel")
        assert code == 2, err
        assert out == ""
        assert err.startswith("error: refusing a channel source URL with credentials")
        assert "hunter2" not in err + caplog.text
        assert "bob" not in err + caplog.text
    assert not (tmp_path / "client-state").exists()
