"""`release trust init|rotate|sign|show`: roots in the repository, rotation thresholds,
and the publisher refusing a root chain that is incomplete or not signed by a threshold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release import cli
from release.adapters.devsigstore import DEV_ISSUER
from release.channel.backends.directory import DirectoryBackend
from release.channel.tuf import trust as tt
from release.channel.tuf.repo import TufStore
from release.config import Identity
from release.errors import VerificationError
from tests.helpers.sigstore import DevInstance

ALICE = Identity("alice@dev.invalid", DEV_ISSUER)
BOB = Identity("bob@dev.invalid", DEV_ISSUER)


def _repo(tmp_path: Path, holders: list[Identity], threshold: int = 1) -> Path:
    repo = tmp_path / "repo"
    (repo / "channels").mkdir(parents=True, exist_ok=True)
    (repo / "pyproject.toml").write_text('[tool.release]\nproject = "demo"\n')
    (repo / "channels" / "edge.toml").write_text(
        'name = "edge"\nkind = "edge"\n[signer]\nidentity = "edge@ci.invalid"\n'
        'issuer = "https://dev.invalid"\n'
    )
    ids = ", ".join(f'{{ identity = "{h.identity}", issuer = "{h.issuer}" }}' for h in holders)
    (repo / "channels" / "trust.toml").write_text(
        f"[root]\nthreshold = {threshold}\nidentities = [{ids}]\n[expires]\ntimestamp = 1\n"
    )
    return repo


def _trust(repo: Path, dev: DevInstance, who: Identity, *command: str) -> int:
    return cli.main(
        [
            "--repo", str(repo), "trust", *command, "--sign", "trust-config",
            "--trust-config", str(dev.trust_config), "--identity-token", dev.token(who),
        ]
    )  # fmt: skip


def test_init_rotate_sign_and_install(
    tmp_path: Path, dev_sigstore: DevInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path, [ALICE])
    assert _trust(repo, dev_sigstore, ALICE, "init") == 0
    assert "still needed" not in capsys.readouterr().out
    channels = repo / "channels"
    assert (channels / "root.json").read_bytes() == (channels / "tuf/1.root.json").read_bytes()
    root = json.loads((channels / "root.json").read_bytes())["signed"]
    assert root["expires"]
    timestamp_keys = root["roles"]["timestamp"]["keyids"]
    assert [root["keys"][k]["keyval"]["identity"] for k in timestamp_keys] == ["edge@ci.invalid"]
    # A second init is refused; a rotate with nothing changed does nothing.
    assert _trust(repo, dev_sigstore, ALICE, "init") != 0
    assert _trust(repo, dev_sigstore, ALICE, "rotate") == 0
    assert "nothing to do" in capsys.readouterr().out

    # Add Bob with threshold 2: Alice's signature alone is not the new threshold.
    _repo(tmp_path, [ALICE, BOB], threshold=2)
    assert _trust(repo, dev_sigstore, ALICE, "rotate") == 0
    out = capsys.readouterr().out
    assert "root v2 is not signed by its own threshold" in out
    store = TufStore(DirectoryBackend(tmp_path / "store", durable=False))
    (tmp_path / "store").mkdir()
    with pytest.raises(VerificationError, match="not signed by its own threshold"):
        tt.install_repo_trust(store, channels)
    assert store.root() is None  # nothing installed
    # Mallory cannot add her signature; Bob can.
    mallory = Identity("mallory@dev.invalid", DEV_ISSUER)
    assert _trust(repo, dev_sigstore, mallory, "sign") != 0
    assert "not a root maintainer" in capsys.readouterr().err
    assert _trust(repo, dev_sigstore, BOB, "sign") == 0
    assert "still needed" not in capsys.readouterr().out
    tt.install_repo_trust(store, channels)
    newest = store.root()
    assert newest is not None
    assert newest.signed.version == 2
    assert (tmp_path / "store/metadata/1.root.json").is_file()
    assert cli.main(["--repo", str(repo), "trust", "show"]) == 0
    shown = capsys.readouterr().out
    assert "root v2" in shown
    assert "threshold 2" in shown


def test_a_rotated_root_missing_one_step_is_refused(
    tmp_path: Path, dev_sigstore: DevInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path, [ALICE])
    assert _trust(repo, dev_sigstore, ALICE, "init") == 0
    _repo(tmp_path, [ALICE, BOB])
    assert _trust(repo, dev_sigstore, ALICE, "rotate") == 0
    _repo(tmp_path, [BOB])
    assert _trust(repo, dev_sigstore, ALICE, "rotate") == 0  # old maintainer signs v3
    assert _trust(repo, dev_sigstore, BOB, "sign") == 0  # the new one too
    capsys.readouterr()
    channels = repo / "channels"
    assert len(tt.check_chain(tt.repo_roots(channels))) == 3
    (channels / "tuf/2.root.json").unlink()
    store = TufStore(DirectoryBackend(tmp_path / "store", durable=False))
    (tmp_path / "store").mkdir()
    with pytest.raises(VerificationError, match="root v3 does not follow v1"):
        tt.install_repo_trust(store, channels)
    assert store.root() is None


def test_a_root_signed_only_by_the_new_maintainers_is_refused(
    tmp_path: Path, dev_sigstore: DevInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    """Taking over the root needs the OLD maintainers too: Bob alone cannot replace Alice."""
    repo = _repo(tmp_path, [ALICE])
    assert _trust(repo, dev_sigstore, ALICE, "init") == 0
    _repo(tmp_path, [BOB])
    assert _trust(repo, dev_sigstore, BOB, "rotate") == 0
    assert "root v2 is not signed by a threshold of v1" in capsys.readouterr().out
    with pytest.raises(VerificationError, match="not signed by a threshold of v1"):
        tt.check_chain(tt.repo_roots(repo / "channels"))


def test_dev_init_makes_a_store_root(
    tmp_path: Path, dev_sigstore: DevInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path, [ALICE])
    (repo / "channels" / "edge.toml").write_text(
        'name = "edge"\nkind = "edge"\n[dev-signer]\nidentity = "edge@dev.invalid"\n'
        'issuer = "https://dev.invalid"\n'
    )
    store = tmp_path / "store"
    args = ["--repo", str(repo), "trust", "init", "--sign", "dev", "--store", str(store)]
    assert cli.main(args) == 0
    assert "consumers: --root" in capsys.readouterr().out
    root = json.loads((store / "metadata/1.root.json").read_bytes())["signed"]
    holders = [root["keys"][k]["keyval"]["identity"] for k in root["roles"]["root"]["keyids"]]
    assert holders == ["root@dev.invalid"]  # [dev] of trust.toml (default)
    assert root["x-release-channels"]["sigstore"]["trustedRoot"]
    assert cli.main(args) != 0  # a store has one root chain
    assert "already has a root" in capsys.readouterr().err
    assert cli.main(["--repo", str(repo), "trust", "show", "--store", str(store)]) == 0
    assert "edge@dev.invalid" in capsys.readouterr().out
