"""The client against a store whose roles are signed with Sigstore keys (the local dev
instance): the key type channels use. Fulcio certifies anyone, so a foreign identity's
valid certificate must still be refused; and verdicts already reached are reused
without importing sigstore."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import release.cli as cli
from release.adapters.devsigstore import DEV_ISSUER
from release.channel.tuf import keys
from release.config import Identity
from release.errors import TrustError
from tests.helpers.sigstore import DevInstance
from tests.helpers.tufstore import TufRepo, TufWorld

MAINTAINER = Identity("maintainer@dev.invalid", DEV_ISSUER)
WORKFLOW = Identity("stable@dev.invalid", DEV_ISSUER)
INTRUDER = Identity("intruder@dev.invalid", DEV_ISSUER)


@pytest.fixture(scope="module")
def signers(dev_sigstore: DevInstance) -> Iterator[dict[Identity, keys.SigstoreOidcSigner]]:
    with ExitStack() as stack:
        yield {
            who: stack.enter_context(keys.open_signer(dev_sigstore.setup(who), who))
            for who in (MAINTAINER, WORKFLOW, INTRUDER)
        }


@pytest.fixture
def world(tmp_path: Path, dev_sigstore: DevInstance, signers: dict[Identity, Any]) -> TufWorld:
    w = TufWorld(tmp_path)
    trust = keys.SigstoreTrust.from_file(dev_sigstore.trust_config)
    for path in (w.root / "metadata").iterdir():
        path.unlink()
    w.repo = TufRepo(
        w.root,
        datetime.now(UTC),
        signer_for=lambda role: signers[MAINTAINER if role in ("root", "targets") else WORKFLOW],
        root_fields=keys.root_fields_for(trust),
    )
    w.repo.publish()
    w.root_file.write_bytes(w.repo.root_bytes(1))
    return w


def test_sigstore_signed_store_verifies_and_a_foreign_identity_is_refused(
    world: TufWorld, signers: dict[Identity, Any]
) -> None:
    c = world.client()
    assert c.latest("stable") == "2.15.1"
    assert c.verify_all() == {"channels": 2, "lines": 4, "releases": 6}
    assert c.save()
    assert c.view.cache.added >= 6  # root, timestamp, snapshot, targets, stable, a line
    # The intruder holds a perfectly valid Fulcio certificate — for the wrong identity.
    world.repo.publish(signers={"stable": [signers[INTRUDER]]})
    for state in (world.state_dir, world.fresh_state()):
        with pytest.raises(
            TrustError, match=r"metadata/\d+\.stable\.json \(role stable\) is not signed"
        ):
            world.client(state_dir=state).latest("stable")


RUNNER = (
    "import sys, release.cli as c; code = c.main(sys.argv[1:]); "
    "heavy = sorted(m for m in ('boto3', 'botocore', 'google.cloud', 'azure', 'urllib3') "
    "if m in sys.modules); "
    "print('SIGSTORE=' + str('sigstore' in sys.modules) + ' ' + ','.join(heavy), "
    "file=sys.stderr); raise SystemExit(code)"
)


def test_unchanged_metadata_is_not_verified_twice(world: TufWorld) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[2])}
    base = ["channel", "list", "--source", str(world.root), "--state-dir", str(world.state_dir)]

    def run(*extra: str) -> str:
        p = subprocess.run(
            [sys.executable, "-c", RUNNER, *base, *extra],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert p.stdout.startswith("edge (edge): latest 26.11.1")
        return p.stderr.strip().rsplit("SIGSTORE=", 1)[1]

    # New bytes: verified through sigstore (which brings urllib3), never a cloud SDK.
    assert run("--root", str(world.root_file)) == "True urllib3"
    # The same bytes: the verdicts are remembered; tuf runs without urllib3.
    assert run() == "False"


def test_dev_read_path_imports_no_cloud_sdk(world: TufWorld, dev_sigstore: DevInstance) -> None:
    """``--dev`` reads the store's root with our key type before tuf loads: still no
    boto3 or botocore (securesystemslib's optional signers)."""
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[2])}
    p = subprocess.run(
        [
            sys.executable, "-c", RUNNER, "channel", "latest", "--source", str(world.root),
            "--state-dir", str(world.fresh_state()), "--dev",
            "--trust-config", str(dev_sigstore.trust_config),
        ],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert p.stdout == "2.15.1\n"
    assert p.stderr.strip().rsplit("SIGSTORE=", 1)[1] == "True urllib3"


def test_dev_accepts_only_a_root_naming_this_machines_dev_instance(
    world: TufWorld, dev_sigstore: DevInstance, tmp_path: Path
) -> None:
    import json

    from release.channel.tuf.client import open_client

    c = open_client(
        str(world.root),
        state_dir=world.fresh_state(),
        env={},
        dev_trust_config=dev_sigstore.trust_config,
    )
    assert c.latest("stable") == "2.15.1"
    assert c.anchor is not None
    assert c.anchor.origin.startswith("--dev")
    other = json.loads(dev_sigstore.trust_config.read_text())
    other["trustedRoot"]["tlogs"] = []  # another instance's trust config
    (tmp_path / "other.json").write_text(json.dumps(other))
    with pytest.raises(TrustError, match=r"does not name the local dev Sigstore instance"):
        open_client(
            str(world.root),
            state_dir=world.fresh_state(),
            env={},
            dev_trust_config=tmp_path / "other.json",
        )
