"""Schema-2 (TUF) stores published by the real publisher (``release.channel.tuf.repo``).

``Ed25519Store`` signs with Ed25519 keys so races, crashes and attacks stay fast; the
same publisher code signs with Sigstore in the pipeline (and in the Sigstore tests).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata

from release.channel.backends.directory import DirectoryBackend
from release.channel.model import Release
from release.channel.store import ChannelStore
from release.channel.tuf import metadata as tm
from release.channel.tuf.repo import TufStore
from release.channel.tuf.trust import sign_with
from release.config import ChannelConfig
from tests.helpers.channelkit import EDGE, EDGE_ID, NOW, PROJECT, STABLE, STABLE_ID, KeyRoot
from tests.helpers.channelkit import make_release as _make_release


def new_key() -> CryptoSigner:
    return CryptoSigner.generate_ed25519()


class Ed25519Store:
    """A store with root v1 (one maintainer key) delegating edge and stable."""

    def __init__(
        self,
        root: Path,
        *,
        now: datetime = NOW,
        channels: tuple[ChannelConfig, ...] = (EDGE, STABLE),
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.backend = DirectoryBackend(root, durable=False)
        self.store = TufStore(self.backend)
        self.files = ChannelStore(root, durable=False)
        self.sigs = KeyRoot()
        self.maintainer = new_key()
        self.keys = {ch.name: new_key() for ch in channels}
        self.channels = {ch.name: ch for ch in channels}
        self.identities = {"edge": EDGE_ID, "stable": STABLE_ID}
        self.now = now
        self.root_md = tm.build_root(
            version=1,
            now=now,
            expiry=tm.Expiry(),
            root_keys=[self.maintainer.public_key],
            threshold=1,
            publisher_keys=[k.public_key for k in self.keys.values()],
            trust=None,
        )
        self.targets_md = tm.build_targets(
            version=1,
            now=now,
            expiry=tm.Expiry(),
            channels=[
                tm.ChannelDelegation(
                    ch.name, ch.tag_format.template, (self.keys[ch.name].public_key,)
                )
                for ch in channels
            ],
        )
        self.store.install(
            [sign_with(self.root_md, [self.maintainer])],
            sign_with(self.targets_md, [self.maintainer]),
        )

    def release(self, channel: str, version: str, **kwargs: Any) -> Release:
        ident = self.identities[channel]
        return _make_release(
            self.files, self.channels[channel], version, self.sigs.signer(ident), **kwargs
        )

    def publish(
        self,
        channel: str,
        version: str,
        *,
        now: datetime | None = None,
        signer: Any = None,
        **kwargs: Any,
    ) -> Any:
        when = now or self.now
        release = self.release(channel, version, published_at=when, **kwargs)
        return self.store.publish(
            self.channels[channel],
            release,
            project=PROJECT,
            now=when,
            signer=signer or self.keys[channel],
            identity=self.identities[channel],
        )

    def files_now(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and p.name != ".release-channels.lock"
        }

    def metadata(self, name: str) -> Metadata[Any]:
        return Metadata.from_bytes((self.root / "metadata" / name).read_bytes())

    def later(self, hours: int) -> datetime:
        return self.now + timedelta(hours=hours)
