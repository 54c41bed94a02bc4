"""Channel store fixtures: a test signing root (Ed25519), releases on disk, loopback HTTP.

``KeyRoot`` stands in for a Sigstore trusted root: it maps identities to public
keys. Its signers implement ``DocumentSigner`` (writing ``<file>.sigstore.json``) and
its verifier implements ``DocumentVerifier`` with real signatures, so a bundle for
another file, another identity or another key fails exactly as Sigstore would.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from release.channel import model
from release.channel.model import Release, Source
from release.channel.signing import bundle_path
from release.channel.store import ChannelStore
from release.config import ChannelConfig, Identity, SupportPolicy
from release.errors import VerificationError
from release.versions import TagFormat

ISSUER = "https://issuer.example"
EDGE_ID = Identity("https://ci.example/edge.yml@refs/heads/main", ISSUER)
STABLE_ID = Identity("https://ci.example/stable.yml@refs/heads/main", ISSUER)
EDGE = ChannelConfig("edge", "edge", TagFormat("edge-{yy}.{m}.{n}"), signer=EDGE_ID)
STABLE = ChannelConfig(
    "stable",
    "stable",
    TagFormat("stable-{version}"),
    signer=STABLE_ID,
    support=SupportPolicy(maintained_lines=2),
)
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
PROJECT = "demo"


class KeySigner:
    def __init__(self, key: Ed25519PrivateKey, identity: Identity) -> None:
        self.key = key
        self.identity = identity
        self.signed: list[Path] = []

    def sign(self, path: Path) -> Path:
        data = path.read_bytes()
        bundle = {
            "mediaType": "application/x.test-bundle+json",
            "identity": self.identity.identity,
            "issuer": self.identity.issuer,
            "signature": base64.b64encode(self.key.sign(data)).decode(),
        }
        target = bundle_path(path)
        target.write_text(json.dumps(bundle))
        self.signed.append(path)
        return target


class KeyVerifier:
    def __init__(self, root: KeyRoot) -> None:
        self.root = root
        self.calls = 0

    def verify(self, data: bytes, bundle: bytes, expected: Identity) -> None:
        self.calls += 1
        try:
            b = json.loads(bundle)
            got = Identity(b["identity"], b["issuer"])
            sig = base64.b64decode(b["signature"])
        except (ValueError, KeyError, TypeError) as exc:
            raise VerificationError(f"malformed bundle: {exc}") from exc
        if got != expected:
            raise VerificationError(f"signed by {got.identity}, expected {expected.identity}")
        key = self.root.keys.get(got)
        if key is None:
            raise VerificationError(f"no trusted key for {got.identity}")
        try:
            key.public_key().verify(sig, data)
        except InvalidSignature:
            raise VerificationError("signature does not match the data") from None


class KeyRoot:
    """Identities → keys; ``signer(ident)`` signs as that identity (trusted)."""

    def __init__(self) -> None:
        self.keys: dict[Identity, Ed25519PrivateKey] = {}

    def signer(self, identity: Identity) -> KeySigner:
        key = self.keys.setdefault(identity, Ed25519PrivateKey.generate())
        return KeySigner(key, identity)

    def impostor(self, identity: Identity) -> KeySigner:
        """Claims ``identity`` with a key the root does not trust."""
        return KeySigner(Ed25519PrivateKey.generate(), identity)

    def verifier(self) -> KeyVerifier:
        return KeyVerifier(self)


def make_release(
    store: ChannelStore,
    channel: ChannelConfig,
    version: str,
    signer: KeySigner,
    *,
    published_at: datetime = NOW,
    platforms: tuple[tuple[str, str], ...] = (("linux", "amd64"),),
    from_edge: str | None = None,
    notes: str | None = None,
) -> Release:
    """Write a release's files under releases/<tag>/ (signed) and describe them."""
    v = model.parse_version(channel.kind, version)
    tag = channel.tag_format.format(v)
    directory = store.root / "releases" / tag
    directory.mkdir(parents=True, exist_ok=True)
    artifacts = []
    sums = []
    for os_name, arch in platforms:
        name = f"demo-{tag}-{os_name}-{arch}.tar.gz"
        path = directory / name
        path.write_bytes(f"{tag} {os_name} {arch}\n".encode() * 64)
        signer.sign(path)
        art = store.describe_artifact(tag, name, kind="archive", os=os_name, arch=arch)
        artifacts.append(art)
        sums.append(f"{art.sha256}  {name}\n")
    (directory / "SHA256SUMS").write_text("".join(sums))
    commit = hashlib.sha1(tag.encode()).hexdigest()
    return Release(
        version=version,
        tag=tag,
        published_at=published_at,
        source=Source("https://github.com/demo/demo", commit, f"refs/tags/{tag}"),
        signer=signer.identity.for_line(v.line),
        artifacts=tuple(artifacts),
        checksums=store.file_ref(f"releases/{tag}/SHA256SUMS"),
        from_edge=from_edge,
        notes=notes,
    )


def publish(
    store: ChannelStore,
    channel: ChannelConfig,
    version: str,
    signer: KeySigner,
    *,
    now: datetime = NOW,
    **kwargs: object,
) -> model.Release:
    release = make_release(store, channel, version, signer, published_at=now, **kwargs)  # type: ignore[arg-type]
    store.publish(channel, release, project=PROJECT, now=now, signer=signer)
    return release


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
