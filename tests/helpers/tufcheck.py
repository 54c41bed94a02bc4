"""Read a schema-2 store the way any TUF client would: the stock python-tuf Updater,
bootstrapped with a root given out of band, our ``sigstore-oidc`` Key registered and the
Sigstore trust the root names. Documents and files come back verified."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig

from release.channel import model
from release.channel.tuf import keys
from release.channel.tuf.trust import parse_root

BASE = "store://channel/"


class DirectoryFetcher(FetcherInterface):
    """``store://channel/<key>`` -> ``<root>/<key>`` (python-tuf's fetcher interface)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _fetch(self, url: str) -> Iterator[bytes]:
        from tuf.api.exceptions import DownloadHTTPError

        rel = url.removeprefix(BASE)
        path = self.root.joinpath(*rel.split("/"))
        if not path.is_file():
            raise DownloadHTTPError(f"{rel} not found", 404)
        yield path.read_bytes()


class TufReader:
    """A verified view of the store at ``root`` (refreshed once, on creation)."""

    def __init__(self, store: Path, bootstrap: bytes | None = None) -> None:
        keys.register()
        self.store = store
        self.bootstrap = bootstrap or (store / "metadata" / "1.root.json").read_bytes()
        root = parse_root(self.bootstrap, "root")
        self.trust = keys.trust_of_root(root.signed.unrecognized_fields)
        # The client's own state lives next to the store (the test's tmp directory).
        work = Path(tempfile.mkdtemp(prefix="tuf-reader-", dir=store.parent))
        meta, self.targets_dir = work / "meta", work / "dl"
        meta.mkdir()
        self.targets_dir.mkdir()
        with keys.verification_trust(self.trust):
            self.updater = Updater(
                str(meta),
                BASE + "metadata/",
                str(self.targets_dir),
                BASE,
                fetcher=DirectoryFetcher(store),
                config=UpdaterConfig(prefix_targets_with_hash=False),
                bootstrap=self.bootstrap,
            )
            self.updater.refresh()

    def read(self, path: str) -> bytes:
        """The verified bytes of target ``path``. Raises if no role lists it."""
        with keys.verification_trust(self.trust):
            info = self.updater.get_targetinfo(path)
            if info is None:
                raise LookupError(f"no role lists {path}")
            return Path(self.updater.download_target(info)).read_bytes()

    def channel(self, name: str) -> model.ChannelDocument:
        with keys.verification_trust(self.trust):
            self.updater.get_targetinfo(f"channels/{name}/v1.json")  # loads the role
        role = self.updater._trusted_set[name]  # the role the updater verified
        versions = sorted(
            int(p.rsplit("/v", 1)[1].removesuffix(".json"))
            for p in role.targets
            if p.startswith(f"channels/{name}/v")
        )
        path = f"channels/{name}/v{versions[-1]}.json"
        return model.parse_channel(self.read(path), path).document

    def line(self, channel: str, line: str) -> model.LineDocument:
        entry = self.channel(channel).entry(line)
        assert entry is not None, f"{channel} has no line {line}"
        data = self.read(entry.document.path)
        entry.document.check(data, "line document")
        return model.parse_line_document(data, entry.document.path).document

    def latest(self, channel: str) -> str | None:
        return self.channel(channel).latest

    def channels(self) -> list[str]:
        targets = self.updater._trusted_set["targets"]
        return sorted(targets.delegations.roles or {}) if targets.delegations else []

    def timestamp_version(self) -> int:
        return int(self.updater._trusted_set.timestamp.version)
