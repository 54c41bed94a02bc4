"""The channel store and client with real Sigstore bundles (local instance on loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import release.cli as cli
from release.adapters.sigstore import open_signer, verify_file
from release.channel.client import Anchor, ChannelClient, StateFile
from release.channel.fetch import DirectoryFetcher
from release.channel.model import Release, Source
from release.channel.signing import SigstoreDocumentSigner, SigstoreDocumentVerifier
from release.channel.store import ChannelStore
from release.config import ChannelConfig, Identity
from release.errors import VerificationError
from release.versions import TagFormat
from tests.channel.forge import forge
from tests.helpers.sigstore import EDGE_DEV, STABLE_DEV, DevInstance

EDGE = ChannelConfig("edge", "edge", TagFormat("edge-{yy}.{m}.{n}"), dev_signer=EDGE_DEV)
STABLE = ChannelConfig("stable", "stable", TagFormat("stable-{version}"), dev_signer=STABLE_DEV)


class ForgeSigner:
    """The forge toolkit's signer interface over a real Sigstore signer."""

    def __init__(self, signer: SigstoreDocumentSigner, identity: Identity) -> None:
        self.doc_signer = signer
        self.identity = identity

    def sign(self, path: Path) -> Path:
        return self.doc_signer.sign(path)


@contextmanager
def signer_for(dev: DevInstance, ident: Identity) -> Iterator[Any]:
    with open_signer(dev.setup(ident), ident) as s:
        yield s


def release_files(
    store: ChannelStore,
    channel: ChannelConfig,
    version: str,
    files_signer: Any,
    ident: Identity,
    now: datetime,
) -> Release:
    from release.channel import model

    v = model.parse_version(channel.kind, version)
    tag = channel.tag_format.format(v)
    d = store.root / "releases" / tag
    d.mkdir(parents=True)
    paths = []
    for os_name in ("linux", "darwin"):
        p = d / f"demo-{tag}-{os_name}-amd64.tar.gz"
        p.write_bytes(f"{tag} {os_name}\n".encode() * 100)
        paths.append(p)
    files_signer.sign_files(paths)
    arts = tuple(
        store.describe_artifact(tag, p.name, kind="archive", os=os_name, arch="amd64")
        for p, os_name in zip(paths, ("linux", "darwin"), strict=True)
    )
    return Release(
        version=version,
        tag=tag,
        published_at=now,
        source=Source("https://github.com/demo/demo", "c" * 40, f"refs/tags/{tag}"),
        signer=ident,
        artifacts=arts,
    )


@pytest.fixture
def signed_store(tmp_path: Path, dev_sigstore: DevInstance) -> tuple[Path, datetime]:
    now = datetime.now(UTC).replace(microsecond=0)
    store = ChannelStore(tmp_path / "store", durable=False)
    verifier = SigstoreDocumentVerifier(trust_config=dev_sigstore.trust_config)
    with signer_for(dev_sigstore, STABLE_DEV) as s:
        doc_signer = SigstoreDocumentSigner(s)
        for i, version in enumerate(("2.14.0", "2.15.0")):
            at = now - timedelta(minutes=10 - i)
            r = release_files(store, STABLE, version, s, STABLE_DEV, at)
            store.publish(
                STABLE, r, project="demo", now=at, signer=doc_signer, dev=True, verifier=verifier
            )
    with signer_for(dev_sigstore, EDGE_DEV) as s:
        at = now - timedelta(minutes=5)
        r = release_files(store, EDGE, "26.11.1", s, EDGE_DEV, at)
        store.publish(
            EDGE,
            r,
            project="demo",
            now=at,
            signer=SigstoreDocumentSigner(s),
            dev=True,
            verifier=verifier,
        )
    return store.root, now


def test_real_bundles_verify_end_to_end(
    signed_store: tuple[Path, datetime], dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    root, now = signed_store
    verifier = SigstoreDocumentVerifier(trust_config=dev_sigstore.trust_config)
    anchors = {"edge": Anchor("edge", (EDGE_DEV,)), "stable": Anchor("stable", (STABLE_DEV,))}
    c = ChannelClient(
        DirectoryFetcher(root),
        now=now,
        verifier=verifier,
        anchors=anchors,
        state=StateFile(tmp_path / "state", str(root)),
    )
    assert c.verify_all() == {"channels": 2, "lines": 3, "releases": 3}
    assert c.latest("stable") == "2.15.0"
    files = c.download("stable", "2.14.0", tmp_path / "dl", os_name="darwin")
    assert files[0].read_bytes() == b"stable-2.14.0 darwin\n" * 100
    assert json.loads(files[1].read_text())["mediaType"].startswith("application/vnd.dev.sigstore")
    assert c.save_state()


def test_edge_certificate_cannot_sign_for_stable(
    signed_store: tuple[Path, datetime], dev_sigstore: DevInstance
) -> None:
    root, now = signed_store
    with signer_for(dev_sigstore, EDGE_DEV) as s:
        # the documents claim the stable identity; the certificate says edge
        forge(root, ForgeSigner(SigstoreDocumentSigner(s), STABLE_DEV), "stable")  # type: ignore[arg-type]
    verifier = SigstoreDocumentVerifier(trust_config=dev_sigstore.trust_config)
    c = ChannelClient(DirectoryFetcher(root), now=now, verifier=verifier)
    with pytest.raises(VerificationError) as info:
        c.verify_all()
    assert "edge@dev.invalid" in info.value.message


def test_cli_verify_and_download_with_trust_config(
    signed_store: tuple[Path, datetime],
    dev_sigstore: DevInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, _ = signed_store
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("release.cli.channel",))
    common = [
        "--source",
        str(root),
        "--state-dir",
        str(tmp_path / "s"),
        "--trust-config",
        str(dev_sigstore.trust_config),
    ]
    assert cli.main(["channel", "verify", *common]) == 0
    assert capsys.readouterr().out.startswith("verified index v3: 2 channels, 3 lines")
    assert (
        cli.main(
            [
                "channel",
                "download",
                "26.11.1",
                "--channel",
                "edge",
                "--os",
                "linux",
                "--to",
                str(tmp_path / "dl"),
                *common,
            ]
        )
        == 0
    )
    assert (tmp_path / "dl" / "demo-edge-26.11.1-linux-amd64.tar.gz").is_file()
    assert cli.main(["channel", "check", "2.14.0", *common]) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "2.14.0 is the latest of 2.14; line 2.15 has 2.15.0"


def test_cli_dev_uses_the_dev_state_trust_config(
    signed_store: tuple[Path, datetime],
    dev_sigstore: DevInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, _ = signed_store
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("release.cli.channel",))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    args = ["channel", "verify", "--dev", "--source", str(root)]
    assert cli.main(args) == 2
    assert "no dev trust config at" in capsys.readouterr().err
    dev_dir = tmp_path / "xdg" / "release-channels" / "dev-sigstore"
    dev_dir.mkdir(parents=True)
    (dev_dir / "dev-trust-config.json").write_bytes(dev_sigstore.trust_config.read_bytes())
    assert cli.main(args) == 0
    assert capsys.readouterr().out.startswith("verified index v3")
    assert list((tmp_path / "xdg" / "release-channels" / "client").glob("*.json"))


def test_cli_withdraw_and_refresh_sign_new_documents(
    signed_store: tuple[Path, datetime],
    dev_sigstore: DevInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, _ = signed_store
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("release.cli.channel",))
    repo = tmp_path / "repo"
    (repo / "channels").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.release]\nproject = "demo"\n')
    (repo / "channels" / "stable.toml").write_text(
        'name = "stable"\nkind = "stable"\n[dev-signer]\nidentity = "stable@dev.invalid"\n'
        'issuer = "https://dev.invalid"\n'
    )
    sign = [
        "--store",
        str(root),
        "--channel",
        "stable",
        "--sign",
        "trust-config",
        "--trust-config",
        str(dev_sigstore.trust_config),
        "--identity-token",
        dev_sigstore.token(STABLE_DEV),
    ]
    code = cli.main(
        ["--repo", str(repo), "channel", "withdraw", "2.15.0", "--reason", "loses data", *sign]
    )
    assert (code, capsys.readouterr().out) == (0, "withdrew stable 2.15.0: published; index v4\n")
    # The views follow every change: the page, the feed, versions.json (signed by stable).
    assert "Withdrawn" in (root / "index.html").read_text()
    assert "loses data" in (root / "index.html").read_text()
    assert "loses data" in (root / "channels" / "stable" / "feed.xml").read_text()
    versions = root / "channels" / "stable" / "versions.json"
    assert json.loads(versions.read_text())["stable"] == "stable-2.14.0"
    merged = json.loads((root / "versions.json").read_text())
    assert (merged["stable-2.14"], merged["edge"]) == ("stable-2.14.0", "edge-26.11.1")
    assert "stable-2.15" not in merged  # its only release is withdrawn
    verify_file(
        versions,
        versions.with_name("versions.json.sigstore.json"),
        STABLE_DEV,
        trust_config=dev_sigstore.trust_config,
    )
    install = (root / "channels" / "stable" / "install.sh").read_text()
    assert "LATEST='2.14.0'" in install
    assert cli.main(["--repo", str(repo), "channel", "refresh", *sign]) == 0
    assert capsys.readouterr().out == "refreshed the index as stable: published; index v5\n"
    read = [
        "--source",
        str(root),
        "--state-dir",
        str(tmp_path / "s"),
        "--trust-config",
        str(dev_sigstore.trust_config),
    ]
    assert cli.main(["channel", "verify", *read]) == 0
    assert cli.main(["channel", "latest", "--verify", *read]) == 0
    assert cli.main(["channel", "check", "2.15.0", *read]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["2.14.0", "2.15.0 was withdrawn: loses data; use 2.14.0"]


def test_the_pages_verify_command_works_as_shown(
    signed_store: tuple[Path, datetime], dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    import html
    import re
    import shlex
    import subprocess
    import sys

    root, now = signed_store
    release_dir = root / "releases" / "stable-2.15.0"
    # what `release edge --sign dev` publishes next to the bundles
    (release_dir / "dev-trust-config.json").write_bytes(dev_sigstore.trust_config.read_bytes())
    ChannelStore(root).render_views(now)
    page = (root / "index.html").read_text()
    assert "dev signatures: not trusted" in page
    row = re.search(
        r'<tr class="download" data-channel="stable" data-line="" '
        r'data-name="demo-stable-2.15.0-linux-amd64.tar.gz">(.*?)</tr>',
        page,
    )
    assert row is not None
    links = [html.unescape(h) for h in re.findall(r'href="([^"#]+)"', row[1])]
    commands = [html.unescape(c) for c in re.findall(r"<pre><code>(.*?)</code></pre>", row[1])]
    assert len(commands) == 2
    assert "--trust-config dev-trust-config.json" in commands[1]
    work = tmp_path / "downloaded"
    work.mkdir()
    for link in links:  # what a user downloads by following the row's links
        (work / link.rsplit("/", 1)[-1]).write_bytes((root / link).read_bytes())
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "release").write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m release "$@"\n'
    )
    (shim / "release").chmod(0o755)
    env = {
        "PATH": f"{shim}:/usr/bin:/bin",
        "PYTHONPATH": str(Path(__file__).parents[2]),
        "HOME": str(tmp_path),
    }
    for command in commands:
        proc = subprocess.run(
            ["sh", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
    # and the same command refuses a file that is not the released one
    (work / "demo-stable-2.15.0-linux-amd64.tar.gz").write_bytes(b"tampered")
    proc = subprocess.run(
        ["sh", "-c", commands[1]], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert "digest mismatch" in proc.stderr
