"""Cross-check against a second, independent instance: npm ``@sigstore/mock`` on loopback.

Proves ``--trust-config`` support is not tuned to our own DevSigstore. Needs node and
npm; ``npm ci`` installs the pinned package into tests/node/node_modules (ignored).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from release.adapters.devsigstore import mint_identity_token
from release.adapters.sigstore import SigningSetup, open_signer, verify_file
from release.config import Identity
from release.errors import VerificationError
from tests.helpers.sigstore import DevInstance

pytestmark = pytest.mark.node

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
SIGNER = Identity(
    "https://github.com/o/r/.github/workflows/edge.yml@refs/heads/main",
    "https://token.actions.githubusercontent.com",
)


@pytest.fixture(scope="module")
def mock_trust_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: skipping the @sigstore/mock cross-check")
    if not (NODE_DIR / "node_modules" / "@sigstore" / "mock").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert installed.returncode == 0, f"npm ci failed: {installed.stderr[-2000:]}"
    proc = subprocess.Popen(
        [node, str(NODE_DIR / "sigstore-mock-server.js")],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"mock server did not start: {proc.stderr.read() if proc.stderr else ''}"
        path = tmp_path_factory.mktemp("sigstore-mock") / "trust-config.json"
        path.write_text(json.dumps(json.loads(line)["trustConfig"]))
        yield path
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_sign_and_verify_against_sigstore_js_mock(
    mock_trust_config: Path, dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    files = []
    for i in range(3):
        f = tmp_path / f"artifact-{i}.tgz"
        f.write_bytes(f"mock {i}".encode() * 100)
        files.append(f)
    token = mint_identity_token(SIGNER.identity, SIGNER.issuer)
    setup = SigningSetup(mode="trust-config", trust_config=mock_trust_config, identity_token=token)
    with open_signer(setup, SIGNER) as signer:
        bundles = signer.sign_files(files)
    for f, b in zip(files, bundles, strict=True):
        verify_file(f, b, SIGNER, trust_config=mock_trust_config)
    with pytest.raises(VerificationError, match=r"^wrong identity"):
        verify_file(
            files[0],
            bundles[0],
            Identity("https://other.invalid/x", SIGNER.issuer),
            trust_config=mock_trust_config,
        )
    with pytest.raises(VerificationError, match=r"^digest mismatch"):
        verify_file(files[1], bundles[0], SIGNER, trust_config=mock_trust_config)
    # The two instances are independent: neither root vouches for the other's bundles.
    with pytest.raises(VerificationError, match=r"^untrusted root"):
        verify_file(files[0], bundles[0], SIGNER, trust_config=dev_sigstore.trust_config)
