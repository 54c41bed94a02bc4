"""``channels/<ch>/install.sh`` run under dash and bash against a store served on loopback."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from release.adapters.sigstore import open_signer
from release.channel import model
from release.channel.model import Release, Source
from release.channel.signing import SigstoreDocumentSigner, SigstoreDocumentVerifier
from release.channel.store import ChannelStore
from release.config import ChannelConfig, Identity
from tests.helpers.channelkit import NOW, PROJECT, STABLE, STABLE_ID, KeyRoot, serve_directory
from tests.helpers.sigstore import STABLE_DEV, DevInstance

SHELLS = [s for s in ("dash", "bash") if shutil.which(s)]
PLATFORMS = {
    "2.14.0": (("linux", "amd64"), ("linux", "arm64")),
    "2.14.1": (("linux", "amd64"), ("linux", "arm64")),
    "2.15.0": (("linux", "amd64"), ("darwin", "arm64")),
}


def tarball(version: str, os_name: str, arch: str) -> bytes:
    """A .tar.gz holding an executable ``bin/demo`` that prints what it is."""
    script = f"#!/bin/sh\necho demo {version} {os_name}/{arch}\n".encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("demo/bin/demo")
        info.size, info.mode, info.mtime = len(script), 0o755, 0
        tar.addfile(info, io.BytesIO(script))
        readme = b"not executable\n"
        info = tarfile.TarInfo("demo/README")
        info.size, info.mode, info.mtime = len(readme), 0o644, 0
        tar.addfile(info, io.BytesIO(readme))
    return buf.getvalue()


def release_with_files(
    store: ChannelStore,
    channel: ChannelConfig,
    version: str,
    sign: Any,
    identity: Identity,
    platforms: tuple[tuple[str, str], ...],
    *,
    published_at: Any = NOW,
    extra_files: dict[str, bytes] | None = None,
) -> Release:
    """Write real tarballs + SHA256SUMS under releases/<tag>/, sign them, describe them."""
    v = model.parse_version(channel.kind, version)
    tag = channel.tag_format.format(v)
    d = store.root / "releases" / tag
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for os_name, arch in platforms:
        p = d / f"demo-{tag}-{os_name}-{arch}.tar.gz"
        p.write_bytes(tarball(version, os_name, arch))
        paths.append(p)
    sign(paths)
    (d / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in paths)
    )
    for name, data in (extra_files or {}).items():
        (d / name).write_bytes(data)
    arts = tuple(
        store.describe_artifact(tag, p.name, kind="archive", os=o, arch=a)
        for p, (o, a) in zip(paths, platforms, strict=True)
    )
    return Release(
        version=version,
        tag=tag,
        published_at=published_at,
        source=Source("https://github.com/demo/demo", "d" * 40, f"refs/tags/{tag}"),
        signer=identity,
        artifacts=arts,
        checksums=store.file_ref(f"releases/{tag}/SHA256SUMS"),
    )


@dataclass
class Served:
    root: Path
    url: str
    script: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    keys = KeyRoot()
    signer = keys.signer(STABLE_ID)
    store = ChannelStore(tmp_path / "store", durable=False)
    for i, (version, platforms) in enumerate(PLATFORMS.items()):
        at = NOW + timedelta(minutes=i)
        r = release_with_files(
            store,
            STABLE,
            version,
            lambda ps: [signer.sign(p) for p in ps],
            STABLE_ID,
            platforms,
            published_at=at,
        )
        store.publish(STABLE, r, project=PROJECT, now=at, signer=signer)
    with serve_directory(store.root) as url:
        base = url.rstrip("/")
        store.render_views(NOW + timedelta(hours=1), base_url=base)
        yield Served(store.root, base, store.root / "channels" / "stable" / "install.sh")


def run_script(
    shell: str, script: Path, home: Path, path: str = "/usr/bin:/bin", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": path, "HOME": str(home), "OS": "linux", "ARCH": "amd64", **env}
    return subprocess.run(
        [shell, str(script)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def installed(home: Path) -> list[str]:
    d = home / ".local" / "bin"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def test_the_script_passes_shellcheck(served: Served) -> None:
    if shutil.which("shellcheck") is None:
        if os.environ.get("RELEASE_REQUIRE_WORKFLOW_LINTERS"):
            pytest.fail("shellcheck is not installed")
        pytest.skip("needs shellcheck")
    proc = subprocess.run(
        ["shellcheck", "--shell=sh", "--severity=style", str(served.script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout
    assert served.script.read_text().startswith("#!/bin/sh\n")


@pytest.mark.parametrize("shell", SHELLS)
def test_installs_the_newest_release_checking_the_embedded_sha256(
    served: Served, tmp_path: Path, shell: str
) -> None:
    home = tmp_path / "home"
    proc = run_script(shell, served.script, home)
    assert proc.returncode == 0, proc.stderr
    binary = home / ".local" / "bin" / "demo"
    assert installed(home) == ["demo"]  # only the executable, no temp files
    assert os.access(binary, os.X_OK)
    assert subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout == (
        "demo 2.15.0 linux/amd64\n"
    )
    out = proc.stdout
    assert f"downloading demo stable-2.15.0 for linux/amd64 from {served.url}" in out
    assert "sha256 ok: " in out
    assert "SHA256SUMS agrees" in out
    assert "only the sha256 was checked, not the signature" in out
    assert f"installed demo 2.15.0 (stable-2.15.0, linux/amd64): {binary}" in out
    assert "is not on PATH" in out


@pytest.mark.parametrize("shell", SHELLS)
def test_line_version_and_tag_select_embedded_releases(
    served: Served, tmp_path: Path, shell: str
) -> None:
    for env, expect in (
        ({"LINE": "2.14"}, "demo 2.14.1 linux/arm64\n"),
        ({"VERSION": "stable-2.14.1"}, "demo 2.14.1 linux/arm64\n"),
        ({"VERSION": "2.15.0", "ARCH": "amd64"}, "demo 2.15.0 linux/amd64\n"),
    ):
        home = tmp_path / f"home-{len(env)}-{sorted(env.values())[0]}"
        env = {"ARCH": "arm64", **env}
        proc = run_script(shell, served.script, home, **env)
        assert proc.returncode == 0, (env, proc.stderr)
        got = subprocess.run([str(home / ".local/bin/demo")], capture_output=True, text=True)
        assert got.stdout == expect


@pytest.mark.parametrize("shell", SHELLS)
def test_curl_pipe_sh_with_install_dir(served: Served, tmp_path: Path, shell: str) -> None:
    target = tmp_path / "tools"
    proc = subprocess.run(
        [shell, "-c", f"curl -fsSL {served.url}/channels/stable/install.sh | {shell}"],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "INSTALL_DIR": str(target),
            "OS": "linux",
            "ARCH": "amd64",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in target.iterdir()) == ["demo"]


def _refused(
    proc: subprocess.CompletedProcess[str], code: int, error: str, home: Path
) -> list[str]:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: "), lines
    assert error in lines[0], lines
    assert installed(home) == []  # nothing installed, nothing left behind
    return lines


@pytest.mark.parametrize("shell", SHELLS)
def test_a_tampered_artifact_is_refused(served: Served, tmp_path: Path, shell: str) -> None:
    rel = served.root / "releases" / "stable-2.15.0" / "demo-stable-2.15.0-linux-amd64.tar.gz"
    good = rel.read_bytes()
    evil = tarball("6.6.6", "linux", "amd64")
    # the attacker controls the server: the artifact and its SHA256SUMS line both change
    rel.write_bytes(evil)
    sums = rel.with_name("SHA256SUMS")
    sums.write_text(
        sums.read_text().replace(hashlib.sha256(good).hexdigest(), hashlib.sha256(evil).hexdigest())
    )
    home = tmp_path / "home"
    lines = _refused(run_script(shell, served.script, home), 1, "mismatch for demo-", home)
    assert "the signed line document says" in lines[0]
    assert (
        lines[1] == "hint: the file on the server is not the one that was released; "
        "nothing was installed"
    )


@pytest.mark.parametrize("shell", SHELLS)
def test_sha256sums_disagreeing_with_the_line_document(
    served: Served, tmp_path: Path, shell: str
) -> None:
    sums = served.root / "releases" / "stable-2.15.0" / "SHA256SUMS"
    sums.write_text(sums.read_text().replace("linux-amd64", "linux-amd64.old"))
    home = tmp_path / "home"
    lines = _refused(run_script(shell, served.script, home), 1, "SHA256SUMS of stable-2.15.0", home)
    assert "says 'nothing' for demo-stable-2.15.0-linux-amd64.tar.gz" in lines[0]


@pytest.mark.parametrize("shell", SHELLS)
def test_a_missing_platform_is_refused(served: Served, tmp_path: Path, shell: str) -> None:
    home = tmp_path / "home"
    proc = run_script(shell, served.script, home, ARCH="aarch64")
    lines = _refused(proc, 4, "demo 2.15.0 has no build for linux/arm64", home)
    assert "(it has: linux/amd64 darwin/arm64 )" in lines[0]
    assert lines[1].startswith("hint: pick another release with VERSION= or LINE=")


@pytest.mark.parametrize("shell", SHELLS)
def test_an_unsupported_platform_is_refused(served: Served, tmp_path: Path, shell: str) -> None:
    home = tmp_path / "home"
    proc = run_script(shell, served.script, home, OS="Plan9", ARCH="mips")
    lines = _refused(proc, 4, "unsupported platform plan9/mips", home)
    assert "darwin/arm64 linux/amd64 linux/arm64" in lines[0]


@pytest.mark.parametrize("shell", SHELLS)
def test_an_unwritable_install_dir_is_refused_before_downloading(
    served: Served, tmp_path: Path, shell: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    home = tmp_path / "home"
    proc = run_script(shell, served.script, home, INSTALL_DIR=str(blocker / "bin"))
    lines = _refused(proc, 4, f"cannot create {blocker / 'bin'}", home)
    assert lines[1] == "hint: set INSTALL_DIR to a directory you can write"
    assert "downloading" not in proc.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_versions_and_lines_that_are_not_embedded(
    served: Served, tmp_path: Path, shell: str
) -> None:
    home = tmp_path / "home"
    proc = run_script(shell, served.script, home, VERSION="2.14.0")
    lines = _refused(proc, 2, "VERSION=2.14.0 is not embedded in this install script", home)
    assert (
        "(it embeds the newest release of the channel and of each line: 2.14.1 2.15.0 )" in lines[0]
    )
    assert "release channel download 2.14.0 --os linux --arch amd64" in lines[1]
    proc = run_script(shell, served.script, home, LINE="2.9")
    _refused(proc, 2, "the stable channel has no line 2.9", home)
    proc = run_script(shell, served.script, home, LINE="2.14", VERSION="2.14.1")
    _refused(proc, 2, "VERSION and LINE are exclusive", home)


@pytest.mark.parametrize("shell", SHELLS)
def test_an_unreachable_server_is_a_network_error(
    served: Served, tmp_path: Path, shell: str
) -> None:
    home = tmp_path / "home"
    proc = run_script(shell, served.script, home, BASE_URL=served.url + "/moved-away")
    lines = _refused(proc, 3, f"could not download {served.url}/moved-away/releases/", home)
    assert lines[1].startswith("hint: check the network and BASE_URL")


@pytest.mark.skipif("dash" not in SHELLS, reason="needs dash")
def test_with_the_sigstore_cli_the_bundle_is_verified_too(
    dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    stable = ChannelConfig("stable", "stable", STABLE.tag_format, dev_signer=STABLE_DEV)
    store = ChannelStore(tmp_path / "store", durable=False)
    verifier = SigstoreDocumentVerifier(trust_config=dev_sigstore.trust_config)
    with open_signer(dev_sigstore.setup(STABLE_DEV), STABLE_DEV) as signer:
        r = release_with_files(
            store,
            stable,
            "2.15.0",
            signer.sign_files,
            STABLE_DEV,
            PLATFORMS["2.15.0"],
            extra_files={"dev-trust-config.json": dev_sigstore.trust_config.read_bytes()},
        )
        store.publish(
            stable,
            r,
            project=PROJECT,
            now=NOW,
            signer=SigstoreDocumentSigner(signer),
            dev=True,
            verifier=verifier,
        )
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sigstore").symlink_to(Path(sys.executable).parent / "sigstore")
    path = f"{shim}:/usr/bin:/bin"
    with serve_directory(store.root) as url:
        store.render_views(NOW, base_url=url.rstrip("/"))
        script = store.root / "channels" / "stable" / "install.sh"
        home = tmp_path / "home"
        proc = run_script("dash", script, home, path=path)
        assert proc.returncode == 0, proc.stderr
        assert (
            "signature ok: sigstore verified demo-stable-2.15.0-linux-amd64.tar.gz as signed "
            "by stable@dev.invalid (https://dev.invalid)" in proc.stdout
        )
        assert "only the sha256" not in proc.stdout
        assert proc.stderr.startswith("warning: dev signatures: not trusted.")
        assert installed(home) == ["demo"]
        # A bundle for another file (the sha256 still matches the line document).
        d = store.root / "releases" / "stable-2.15.0"
        bundle = d / "demo-stable-2.15.0-linux-amd64.tar.gz.sigstore.json"
        bundle.write_bytes(
            (d / "demo-stable-2.15.0-darwin-arm64.tar.gz.sigstore.json").read_bytes()
        )
        home = tmp_path / "home2"
        lines = _refused(
            run_script("dash", script, home, path=path),
            1,
            "the Sigstore bundle of demo-stable-2.15.0-linux-amd64.tar.gz does not verify for "
            "stable@dev.invalid (https://dev.invalid)",
            home,
        )
        assert lines[1].startswith("hint: ")
