"""What the TUF code imports: securesystemslib's optional cloud signers' SDKs never
(boto3 and botocore alone take 0.2 s), python-tuf's default fetcher (urllib3) only when
somebody uses it. Fresh interpreters: the test process has imported all of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import release
from tests.helpers.tufstore import TufWorld

SDKS = ("boto3", "botocore", "google.cloud", "azure", "hvac", "PyKCS11")


def _python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(Path(release.__file__).parents[1])}
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return p.stdout.strip()


def test_tuf_modules_import_no_cloud_sdk_and_boto3_still_imports_later() -> None:
    out = _python(
        "import sys\n"
        "import release.channel.tuf.keys, release.channel.tuf.metadata\n"
        "import release.channel.tuf.trust, release.channel.tuf.repo, release.channel.tuf.client\n"
        f"print(sorted(m for m in {SDKS!r} if m in sys.modules))\n"
        "from securesystemslib.signer import CryptoSigner, AWSSigner, Signer\n"
        "print(type(CryptoSigner.generate_ed25519().public_key).__name__)\n"
        "import boto3, botocore.config\n"  # the S3 backend imports it afterwards
        "print(boto3.__name__)\n"
    )
    assert out.splitlines() == ["[]", "SSlibKey", "boto3"]


def test_the_stock_updater_still_gets_its_default_fetcher(tmp_path: Path) -> None:
    """tuf.ngclient loads without urllib3 on our paths; an ``Updater`` built without a
    fetcher (the stock client, sigstore's own TUF updater) still gets the real one."""
    world = TufWorld(tmp_path)
    out = _python(
        "import sys\n"
        "from release.channel.tuf.views import import_tuf\n"
        "import_tuf()\n"
        "print('urllib3' in sys.modules)\n"
        "from tuf.ngclient import Updater, Urllib3Fetcher\n"
        f"u = Updater({str(tmp_path / 'md')!r}, 'http://127.0.0.1:9/metadata/',\n"
        f"    bootstrap=open({str(world.root_file)!r}, 'rb').read())\n"
        "f = u._fetcher\n"
        "print(type(f).__module__, type(f).__name__, 'urllib3' in sys.modules)\n"
        "print(type(Urllib3Fetcher()).__name__)\n"
    )
    assert out.splitlines() == [
        "False",
        "tuf.ngclient.urllib3_fetcher Urllib3Fetcher True",
        "Urllib3Fetcher",
    ]
