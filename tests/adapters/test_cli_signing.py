"""``release sign`` / ``release verify`` end to end, and the stock sigstore CLI both ways."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import release.cli
from release.adapters.sigstore import open_signer
from release.provenance import build_statement
from tests.helpers.sigstore import EDGE_DEV, DevInstance

Run = Callable[..., tuple[int, str, str]]
GITHUB_SIGNER = "https://github.com/o/r/.github/workflows/edge.yml@refs/heads/main"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose edge channel has a real [signer] and the default [dev-signer]."""
    root = tmp_path / "project"
    (root / "channels").mkdir(parents=True)
    (root / "channels" / "edge.toml").write_text(
        f'name = "edge"\nkind = "edge"\n[signer]\nidentity = "{GITHUB_SIGNER}"\n'
        'issuer = "https://token.actions.githubusercontent.com"\n'
    )
    return root


@pytest.fixture
def run(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.setattr(release.cli, "COMMAND_MODULES", ("release.cli.signing",))

    def _run(*argv: str) -> tuple[int, str, str]:
        code = release.cli.main(["--repo", str(project), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


def _artifact(tmp_path: Path, name: str = "app.tar.gz", content: bytes = b"payload") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_sign_then_verify_by_channel_with_a_dev_trust_config(
    run: Run, dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    f = _artifact(tmp_path)
    tc = str(dev_sigstore.trust_config)
    token = dev_sigstore.token(EDGE_DEV)
    code, out, err = run(
        "sign",
        str(f),
        "--trust-config",
        tc,
        "--identity-token",
        token,
        "--channel",
        "edge",
    )
    assert (code, err) == (0, "")
    assert "edge@dev.invalid" in out
    assert token not in out
    code, out, err = run(
        "verify",
        str(f),
        "--bundle",
        f"{f}.sigstore.json",
        "--channel",
        "edge",
        "--trust-config",
        tc,
    )
    assert code == 0, err
    assert out.startswith(f"OK: {f} signed by edge@dev.invalid")

    code, out, err = run(
        "verify",
        str(f),
        "--identity",
        "stable@dev.invalid",
        "--issuer",
        "https://dev.invalid",
        "--trust-config",
        tc,
    )
    assert code == 1
    assert err.splitlines() == [
        f"error: wrong identity: {f}.sigstore.json was signed by 'edge@dev.invalid', "
        "expected 'stable@dev.invalid'"
    ]
    # The production [signer] of the channel does not accept a dev bundle.
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(json.loads(dev_sigstore.trust_config.read_text())["trustedRoot"]))
    code, _, err = run("verify", str(f), "--channel", "edge", "--trusted-root", str(root))
    assert code == 1
    assert err.startswith("error: wrong issuer")
    assert "expected 'https://token.actions.githubusercontent.com'" in err
    code, _, err = run("verify", str(f), "--channel", "edge", "--trusted-root", str(root), "--dev")
    assert code == 0, err
    # Against the public-good root (embedded, offline) a dev bundle is untrusted.
    code, _, err = run(
        "verify",
        str(f),
        "--identity",
        "edge@dev.invalid",
        "--issuer",
        "https://dev.invalid",
        "--offline",
    )
    assert code == 1
    assert err.startswith("error: untrusted root")
    f.write_bytes(b"tampered")
    code, _, err = run("verify", str(f), "--channel", "edge", "--trust-config", tc)
    assert code == 1
    assert err.startswith("error: digest mismatch")


def test_dev_mode_signs_and_verifies_with_its_persistent_state(run: Run, tmp_path: Path) -> None:
    files = [_artifact(tmp_path, f"a{i}.bin", bytes([i]) * 100) for i in range(3)]
    state = tmp_path / "dev-state"
    code, out, err = run("sign", *map(str, files), "--dev", "--dev-state", str(state))
    assert code == 0, err
    assert f"dev trust config: {state / 'dev-trust-config.json'}" in out
    code, out, err = run(
        "verify",
        *map(str, files),
        "--channel",
        "edge",
        "--dev",
        "--dev-state",
        str(state),
    )
    assert code == 0, err
    assert len(out.splitlines()) == 3


def test_verify_provenance(run: Run, dev_sigstore: DevInstance, tmp_path: Path) -> None:
    files = [_artifact(tmp_path, f"p{i}.whl", bytes([i]) * 10) for i in range(2)]
    statement = build_statement(
        subjects=[(f.name, hashlib.sha256(f.read_bytes()).hexdigest()) for f in files],
        repository="https://github.com/o/r",
        ref="refs/tags/edge-26.11.1",
        commit="c" * 40,
        version="edge-26.11.1",
        channel="edge",
        builder_id="test",
        invocation_id="1",
        started=datetime(2026, 11, 25, tzinfo=UTC),
        finished=datetime(2026, 11, 25, tzinfo=UTC),
    )
    prov = tmp_path / "provenance.intoto.sigstore.json"
    with open_signer(dev_sigstore.setup(EDGE_DEV), EDGE_DEV) as signer:
        signer.sign_statement(statement, prov)
    tc = str(dev_sigstore.trust_config)
    code, out, err = run(
        "verify",
        "--provenance",
        str(prov),
        *map(str, files),
        "--channel",
        "edge",
        "--trust-config",
        tc,
    )
    assert code == 0, err
    assert "provenance signed by edge@dev.invalid" in out
    extra = _artifact(tmp_path, "extra.bin", b"not in the release")
    code, _, err = run(
        "verify",
        "--provenance",
        str(prov),
        str(extra),
        "--channel",
        "edge",
        "--trust-config",
        tc,
    )
    assert code == 1
    assert "extra.bin" in err
    assert err.startswith("error: digest mismatch")


def test_verify_a_file_against_a_dsse_statement_as_the_stock_cli_does(
    run: Run, dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    f = _artifact(tmp_path, "app.whl", b"wheel bytes")
    stray = _artifact(tmp_path, "stray.whl", b"not a subject")
    statement = build_statement(
        subjects=[(f.name, hashlib.sha256(f.read_bytes()).hexdigest())],
        repository="https://github.com/o/r",
        ref="refs/tags/edge-26.11.1",
        commit="c" * 40,
        version="edge-26.11.1",
        channel="edge",
        builder_id="test",
        invocation_id="1",
        started=datetime(2026, 11, 25, tzinfo=UTC),
        finished=datetime(2026, 11, 25, tzinfo=UTC),
    )
    dsse = tmp_path / "app.intoto.sigstore.json"
    with open_signer(dev_sigstore.setup(EDGE_DEV), EDGE_DEV) as signer:
        signer.sign_statement(statement, dsse)
    tc = str(dev_sigstore.trust_config)
    common = ("--bundle", str(dsse), "--channel", "edge", "--trust-config", tc)
    code, out, err = run("verify", str(f), *common)
    assert (code, out) == (0, f"OK: {f} signed by edge@dev.invalid (issuer https://dev.invalid)\n")
    code, _, err = run("verify", str(stray), *common)
    assert code != 0
    assert err.startswith("error: digest mismatch: ")
    assert "is not a subject of the in-toto statement" in err
    stock = ("--cert-identity", "edge@dev.invalid", "--cert-oidc-issuer", "https://dev.invalid")
    assert (
        _stock(
            dev_sigstore.trust_config, "verify", "identity", str(f), "--bundle", str(dsse), *stock
        ).returncode
        == 0
    )
    assert (
        _stock(
            dev_sigstore.trust_config,
            "verify",
            "identity",
            str(stray),
            "--bundle",
            str(dsse),
            *stock,
        ).returncode
        != 0
    )


def test_trust_config_and_trusted_root_are_told_apart(
    run: Run, dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    f = _artifact(tmp_path)
    with open_signer(dev_sigstore.setup(EDGE_DEV), EDGE_DEV) as signer:
        signer.sign_files([f])
    tc = dev_sigstore.trust_config
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(json.loads(tc.read_text())["trustedRoot"]))
    who = ("--identity", "edge@dev.invalid", "--issuer", "https://dev.invalid")
    code, _, err = run("verify", str(f), *who, "--trusted-root", str(tc))
    assert code == 2
    assert err.splitlines() == [
        f"error: {tc} is a Sigstore ClientTrustConfig, not a trusted root",
        f"hint: pass it with --trust-config {tc}",
    ]
    code, _, err = run("verify", str(f), *who, "--trust-config", str(root))
    assert code == 2
    assert (
        err.splitlines()[0] == f"error: {root} is a Sigstore trusted root, not a ClientTrustConfig"
    )
    assert err.splitlines()[1] == f"hint: pass it with --trusted-root {root}"
    assert run("verify", str(f), *who, "--trusted-root", str(root))[0] == 0
    assert run("verify", str(f), *who, "--trust-config", str(tc))[0] == 0


def test_usage_and_token_errors(run: Run, tmp_path: Path) -> None:
    f = _artifact(tmp_path)
    code, _, err = run("verify", str(f), "--identity", "a@b.c")
    assert code == 2
    assert "needs --issuer" in err
    code, _, err = run("sign", str(f))
    assert code == 1
    assert err.startswith("error: no identity token")
    assert "hint:" in err
    assert not (tmp_path / "app.tar.gz.sigstore.json").exists()


def _stock(
    trust_config: Path, *args: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if token:
        env["SIGSTORE_IDENTITY_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "sigstore", "--trust-config", str(trust_config), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_round_trip_with_the_stock_sigstore_cli(
    run: Run, dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    tc = dev_sigstore.trust_config
    theirs = _artifact(tmp_path, "theirs.txt", b"signed by sigstore-python's CLI")
    proc = _stock(tc, "sign", str(theirs), token=dev_sigstore.token(EDGE_DEV))
    assert proc.returncode == 0, proc.stderr
    code, _, err = run("verify", str(theirs), "--channel", "edge", "--trust-config", str(tc))
    assert code == 0, err

    ours = _artifact(tmp_path, "ours.txt", b"signed by release sign")
    code, _, err = run(
        "sign",
        str(ours),
        "--trust-config",
        str(tc),
        "--identity-token",
        dev_sigstore.token(EDGE_DEV),
    )
    assert code == 0, err
    ok = _stock(
        tc,
        "verify",
        "identity",
        str(ours),
        "--cert-identity",
        "edge@dev.invalid",
        "--cert-oidc-issuer",
        "https://dev.invalid",
    )
    assert ok.returncode == 0, ok.stderr
    wrong = _stock(
        tc,
        "verify",
        "identity",
        str(ours),
        "--cert-identity",
        "stable@dev.invalid",
        "--cert-oidc-issuer",
        "https://dev.invalid",
    )
    assert wrong.returncode != 0


def test_line_templated_signers_need_the_line(run: Run, project: Path, tmp_path: Path) -> None:
    (project / "channels" / "stable.toml").write_text(
        'name = "stable"\nkind = "stable"\n[dev-signer]\n'
        'identity = "stable-{line}@dev.invalid"\nissuer = "https://dev.invalid"\n'
    )
    f = _artifact(tmp_path)
    state = str(tmp_path / "dev-state")
    code, _, err = run("sign", str(f), "--dev", "--dev-state", state, "--channel", "stable")
    assert code == 2
    assert "pass --line X.Y" in err
    code, out, err = run(
        "sign", str(f), "--dev", "--dev-state", state, "--channel", "stable", "--line", "2.15"
    )
    assert code == 0, err
    assert "identity stable-2.15@dev.invalid" in out
    verify = ("verify", str(f), "--dev", "--dev-state", state, "--channel", "stable")
    code, out, err = run(*verify, "--line", "2.15")
    assert code == 0, err
    code, _, err = run(*verify, "--line", "2.14")
    assert code == 1
    assert err.startswith("error: wrong identity")
