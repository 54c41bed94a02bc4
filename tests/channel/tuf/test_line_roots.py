"""Real (non-dev) roots for a vendor channel whose signer has ``{line}``: one Sigstore
identity per stable line. `release trust init|rotate` names every line's identity
(tags, branches, ``--line``; retired only explicitly), the pipeline refuses a line the
targets do not authorise before anything is tagged, the client verifies an authorised
line against the real root, and the holder of one line's identity cannot sign for
another line, however they rewrite the roles they may sign."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tuf.api._payload import DelegatedRole, MetaFile, Targets
from tuf.api.metadata import Metadata

from release import cli
from release.adapters.devsigstore import DEV_ISSUER
from release.channel.tuf import keys
from release.channel.tuf.client import open_client
from release.channel.tuf.metadata import serialize, target_file
from release.config import Identity
from release.errors import TrustError
from tests.helpers.project import tree_digest
from tests.helpers.sigstore import DevInstance
from tests.helpers.stablerepo import StableRepo, make_stable_repo

ALICE = Identity("alice@dev.invalid", DEV_ISSUER)
WORKFLOW = "https://github.com/acme/x/.github/workflows/stable.yml@refs/heads/release/{line}"
CHANNEL = "stable-acme"
ACME = f"""\
name = "{CHANNEL}"
kind = "stable"
tag-format = "acme-{{version}}"
branch-format = "release/{{line}}"
[signer]
identity = "{WORKFLOW}"
issuer = "{DEV_ISSUER}"
[dev-signer]  # `channel withdraw` with the dev instance's trust config signs as it
identity = "{WORKFLOW}"
issuer = "{DEV_ISSUER}"
[support]
maintained-lines = 3
[support.lines."2.14"]
eol = 2026-11-01
"""
TRUST = (
    f'[root]\nthreshold = 1\nidentities = [{{ identity = "{ALICE.identity}", '
    f'issuer = "{DEV_ISSUER}" }}]\n'
)


def line_id(line: str) -> Identity:
    return Identity(WORKFLOW.replace("{line}", line), DEV_ISSUER)


def _vendor(tmp_path: Path) -> StableRepo:
    """Lines 2.14 (EOL by date) and 2.15 of the vendor channel: release tags on their
    ``release/X.Y`` branches, pushed."""
    sr = make_stable_repo(tmp_path)
    sr.repo.commit(
        "chore: vendor channel",
        date="2026-11-12T10:00:00Z",
        files={"channels/stable-acme.toml": ACME, "channels/trust.toml": TRUST},
    )
    for line, at, day in (("2.14", "1", "2026-10-05"), ("2.15", "2", "2026-11-04")):
        sr.repo.git("branch", f"release/{line}", sr.shas[at])
        sr.repo.tag(f"acme-{line}.0", ref=f"release/{line}", date=f"{day}T10:00:00Z")
    sr.repo.git("push", "-q", "origin", "main", "release/2.14", "release/2.15", "--tags")
    return sr


def _trust(sr: StableRepo, dev: DevInstance, *command: str, json_out: bool = False) -> int:
    return cli.main(
        [
            *(["--json"] if json_out else []), "--repo", str(sr.path), "trust", *command,
            "--sign", "trust-config", "--trust-config", str(dev.trust_config),
            "--identity-token", dev.token(ALICE),
        ]
    )  # fmt: skip


def _targets(sr: StableRepo) -> dict[str, Any]:
    folder = sr.path / "channels" / "tuf"
    newest = max(int(p.name.split(".")[0]) for p in folder.glob("*.targets.json"))
    signed: dict[str, Any] = json.loads((folder / f"{newest}.targets.json").read_bytes())["signed"]
    return signed


def _acme_identities(signed: dict[str, Any]) -> set[str]:
    role = next(r for r in signed["delegations"]["roles"] if r["name"] == CHANNEL)
    keys_ = signed["delegations"]["keys"]
    return {keys_[k]["keyval"]["identity"] for k in role["keyids"]}


def _binding(signed: dict[str, Any]) -> dict[str, Any]:
    role = next(r for r in signed["delegations"]["roles"] if r["name"] == CHANNEL)
    binding: dict[str, Any] = role["x-release-channels"]
    return binding


def _publishers(sr: StableRepo) -> set[str]:
    root = json.loads((sr.path / "channels" / "root.json").read_bytes())["signed"]
    return {root["keys"][k]["keyval"]["identity"] for k in root["roles"]["timestamp"]["keyids"]}


def _commit_trust(sr: StableRepo) -> None:
    sr.repo.git("add", "channels")
    sr.repo.git("commit", "-q", "-m", "chore: channel trust")
    sr.repo.git("push", "-q", "origin", "main")


def test_init_and_rotate_name_every_line_identity(
    tmp_path: Path, dev_sigstore: DevInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = _vendor(tmp_path)
    assert _trust(sr, dev_sigstore, "init") == 0
    out = capsys.readouterr().out
    assert f"channel {CHANNEL}: line identities 2.14 (new), 2.15 (new)" in out
    signed = _targets(sr)
    assert _acme_identities(signed) == {line_id("2.14").identity, line_id("2.15").identity}
    assert _binding(signed)["lines"] == {
        "2.14": line_id("2.14").identity,
        "2.15": line_id("2.15").identity,
    }
    assert _publishers(sr) == {line_id("2.14").identity, line_id("2.15").identity}
    assert cli.main(["--repo", str(sr.path), "trust", "show"]) == 0
    shown = capsys.readouterr().out
    assert f"  {CHANNEL} (one identity per line): 2.14 {line_id('2.14').identity}; 2.15" in shown

    # A line branch pushed before its first release is a line of the repository.
    sr.repo.git("push", "-q", "origin", f"{sr.shas['5']}:refs/heads/release/2.16")
    assert cli.main(["--repo", str(sr.path), "trust", "show"]) == 0
    assert "    in the repository but not authorised: 2.16 (nobody" in capsys.readouterr().out
    assert _trust(sr, dev_sigstore, "rotate") == 0
    assert "2.14, 2.15, 2.16 (new)" in capsys.readouterr().out
    # --line authorises a line nothing in the repository names yet ...
    assert _trust(sr, dev_sigstore, "rotate", "--line", "2.17") == 0
    assert "2.16, 2.17 (new)" in capsys.readouterr().out
    # ... and a later rotation keeps it (never dropped silently).
    sr.repo.git("push", "-q", "origin", ":refs/heads/release/2.16")
    assert _trust(sr, dev_sigstore, "rotate") == 0
    assert "nothing to do" in capsys.readouterr().out
    assert set(_binding(_targets(sr))["lines"]) == {"2.14", "2.15", "2.16", "2.17"}
    assert len(_publishers(sr)) == 4

    before = tree_digest(sr.path / "channels")
    for bad, expected in (
        (["--line", "2.x"], "error: --line '2.x' is not a release line"),
        (["--retire-line", "2.15"], f"error: line 2.15 of channel {CHANNEL} is still supported"),
        (["--retire-line", "3.1"], "error: --retire-line 3.1: no line identity to retire"),
        (["--line", "2.15", "--retire-line", "2.15"], "error: --line and --retire-line both"),
        (["--channel", "stable", "--line", "2.18"], "error: channel stable has no signer"),
    ):
        assert _trust(sr, dev_sigstore, "rotate", *bad) == 2
        err = capsys.readouterr().err.splitlines()
        assert err[0].startswith(expected), err
        assert len([e for e in err if e.startswith("error:")]) == 1
        assert tree_digest(sr.path / "channels") == before

    # 2.14 is past its end of life: its identity may go; its tags do not bring it back.
    assert _trust(sr, dev_sigstore, "rotate", "--retire-line", "2.14", json_out=True) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lines"][CHANNEL]["retired_now"] == ["2.14"]
    signed = _targets(sr)
    assert line_id("2.14").identity not in _acme_identities(signed)
    assert _binding(signed)["retired-lines"] == {"2.14": line_id("2.14").identity}
    assert line_id("2.14").identity not in _publishers(sr)
    assert _trust(sr, dev_sigstore, "rotate") == 0
    assert "nothing to do" in capsys.readouterr().out
    assert cli.main(["--repo", str(sr.path), "trust", "show"]) == 0
    assert "    retired: 2.14" in capsys.readouterr().out
    # Only --line authorises a retired line again.
    assert _trust(sr, dev_sigstore, "rotate", "--line", "2.14") == 0
    assert "2.14 (new)" in capsys.readouterr().out
    assert "2.14" not in _binding(_targets(sr))["retired-lines"]


# --- publishing, reading, attacking -----------------------------------------------------


def _release(sr: StableRepo, dev: DevInstance, out: Path, line: str, *args: str) -> int:
    argv = [
        "--repo", str(sr.path), "stable", *args, "--channel", CHANNEL, "--out", str(out),
        "--sign", "sigstore", "--trust-config", str(dev.trust_config),
        "--identity-token", dev.token(line_id(line)),
    ]  # fmt: skip
    return cli.main(argv)


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory, dev_sigstore: DevInstance
) -> tuple[StableRepo, Path]:
    """Real root (lines 2.14 and 2.15), then stable-acme 2.15.1 released by the 2.15
    workflow identity through the pipeline."""
    tmp = tmp_path_factory.mktemp("line-roots")
    sr = _vendor(tmp)
    assert _trust(sr, dev_sigstore, "init") == 0
    _commit_trust(sr)
    out = tmp / "out"
    assert _release(sr, dev_sigstore, out, "2.15", "point", "2.15", "--pick", "#4") == 0
    return sr, out


def _client(sr: StableRepo, out: Path, state: Path) -> Any:
    return open_client(str(out), root=sr.path / "channels" / "root.json", state_dir=state, env={})


def test_a_release_on_an_authorised_line_verifies_against_the_real_root(
    published: tuple[StableRepo, Path], tmp_path: Path
) -> None:
    sr, out = published
    c = _client(sr, out, tmp_path / "state")
    assert c.channels() == [CHANNEL]
    assert c.latest(CHANNEL) == "2.15.1"
    files = c.verify_release(CHANNEL, "2.15.1")
    assert "releases/acme-2.15.1/tool-2.15.1.txt" in files
    _, release = c.find(CHANNEL, "2.15.1")
    assert release.signer == line_id("2.15")
    assert c.save()


def test_a_release_on_a_line_targets_does_not_authorise_is_refused_before_anything(
    published: tuple[StableRepo, Path],
    dev_sigstore: DevInstance,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sr, out = published
    capsys.readouterr()
    repo_before, out_before = sr.repo.snapshot(), tree_digest(out)
    assert _release(sr, dev_sigstore, out, "2.16", "cut", "--from", "edge-26.11.1") != 0
    err = capsys.readouterr().err
    assert (
        f"line 2.16 of channel {CHANNEL} cannot be published: targets v1 does not authorise "
        f"line 2.16 (identity {line_id('2.16').identity}; authorised lines: 2.14, 2.15)"
    ) in err
    assert "`release trust rotate --line 2.16` signed by their threshold" in err
    assert sr.repo.snapshot() == repo_before
    assert tree_digest(out) == out_before
    assert not (out / "releases" / "acme-2.16.0").exists()

    # The store refuses it too (a publisher without the pipeline's preflight): withdraw
    # signs as 2.16's identity and is stopped before writing anything.
    code = cli.main(
        [
            "--repo", str(sr.path), "channel", "withdraw", "2.16.0", "--reason", "x",
            "--channel", CHANNEL, "--store", str(out), "--sign", "trust-config",
            "--trust-config", str(dev_sigstore.trust_config),
            "--identity-token", dev_sigstore.token(line_id("2.16")),
        ]
    )  # fmt: skip
    assert code != 0
    err = capsys.readouterr().err
    assert f"error: line 2.16 of channel {CHANNEL} cannot be published" in err
    assert "release trust rotate --line 2.16" in err
    assert tree_digest(out) == out_before


# An attacker holding line 2.14's workflow identity (a legitimate key of the channel
# role: every line's publication changes the channel document) and the web server.


@pytest.fixture(scope="module")
def mallory(dev_sigstore: DevInstance) -> Iterator[keys.SigstoreOidcSigner]:
    with keys.open_signer(dev_sigstore.setup(line_id("2.14")), line_id("2.14")) as signer:
        yield signer


def _served(out: Path, tmp_path: Path) -> Path:
    """A copy of the store the attacker serves (the fixture's store stays intact)."""
    import shutil

    served = tmp_path / "served"
    shutil.copytree(out, served)
    return served


def _md(store: Path, name: str) -> Any:
    return Metadata.from_bytes((store / "metadata" / name).read_bytes())


def _forge(
    store: Path,
    signer: Any,
    *,
    line_role: Callable[[Any], None] | None = None,
    channel_role: Callable[[Any], None] | None = None,
    new_roles: dict[str, Any] | None = None,
) -> None:
    """Rewrite roles as the attacker: new versions signed with their own key, then a
    snapshot and timestamp (their key is a publisher key: root accepts those)."""
    ts = _md(store, "timestamp.json")
    snap = _md(store, f"{ts.signed.snapshot_meta.version}.snapshot.json")
    for role, edit in ((f"{CHANNEL}.2.15", line_role), (CHANNEL, channel_role)):
        if edit is None:
            continue
        version = snap.signed.meta[f"{role}.json"].version
        md = _md(store, f"{version}.{role}.json")
        edit(md.signed)
        md.signed.version = version + 1
        md.sign(signer)
        (store / "metadata" / f"{version + 1}.{role}.json").write_bytes(serialize(md))
        snap.signed.meta[f"{role}.json"].version = version + 1
    for role, md in (new_roles or {}).items():
        md.sign(signer)
        (store / "metadata" / f"1.{role}.json").write_bytes(serialize(md))
        snap.signed.meta[f"{role}.json"] = MetaFile(1)
    snap.signed.version += 1
    snap.sign(signer)
    (store / "metadata" / f"{snap.signed.version}.snapshot.json").write_bytes(serialize(snap))
    ts.signed.version += 1
    ts.signed.snapshot_meta.version = snap.signed.version
    ts.sign(signer)
    (store / "metadata" / "timestamp.json").write_bytes(serialize(ts))


EVIL = b"#!/bin/sh\necho owned\n"
ARTIFACT = "releases/acme-2.15.1/tool-2.15.1.txt"
LINE_V2 = f"channels/{CHANNEL}/lines/2.15/v2.json"
CHANNEL_V2 = f"channels/{CHANNEL}/v2.json"


def _evil_documents(store: Path) -> dict[str, Any]:
    """What the attacker serves: evil bytes for 2.15.1's artifact, a line document v2
    recording them, a channel document v2 pinning it; returned as TUF targets by path."""
    import hashlib

    from release.channel import strictjson as sj

    (store / ARTIFACT).write_bytes(EVIL)
    line = json.loads((store / f"channels/{CHANNEL}/lines/2.15/v1.json").read_bytes())
    line["version"] = 2
    artifact = line["releases"][0]["artifacts"][0]
    artifact.update(size=len(EVIL), sha256=hashlib.sha256(EVIL).hexdigest())
    ldata = sj.dumps(line)
    (store / LINE_V2).write_bytes(ldata)
    doc = json.loads((store / f"channels/{CHANNEL}/v1.json").read_bytes())
    doc["version"] = 2
    doc["lines"][0]["document"].update(
        path=LINE_V2, version=2, length=len(ldata), sha256=hashlib.sha256(ldata).hexdigest()
    )
    cdata = sj.dumps(doc)
    (store / CHANNEL_V2).write_bytes(cdata)
    return {
        ARTIFACT: target_file(ARTIFACT, EVIL),
        LINE_V2: target_file(LINE_V2, ldata),
        CHANNEL_V2: target_file(CHANNEL_V2, cdata),
    }


def _list(targets: dict[str, Any], *paths: str) -> Callable[[Any], None]:
    def edit(role: Any) -> None:
        for path in paths:
            role.targets[path] = targets[path]

    return edit


def _only_channel_document(targets: dict[str, Any]) -> Callable[[Any], None]:
    def edit(role: Any) -> None:
        role.targets = {CHANNEL_V2: targets[CHANNEL_V2]}

    return edit


def _redelegate(to: Any, then: Callable[[Any], None]) -> Callable[[Any], None]:
    """The channel role (which 2.14 may sign) delegating line 2.15 to 2.14's key."""

    def edit(role: Any) -> None:
        then(role)
        delegated = role.delegations.roles[f"{CHANNEL}.2.15"]
        for kid in delegated.keyids:
            role.delegations.keys.pop(kid, None)
        delegated.keyids = [to.keyid]
        role.delegations.keys[to.keyid] = to

    return edit


@pytest.mark.parametrize("with_state", [True, False], ids=["with-state", "fresh"])
def test_one_lines_identity_cannot_sign_another_lines_role(
    published: tuple[StableRepo, Path],
    mallory: keys.SigstoreOidcSigner,
    tmp_path: Path,
    with_state: bool,
) -> None:
    """Each attack serves a complete, self-consistent forgery (documents, roles,
    snapshot, timestamp): only who may sign for line 2.15 stops it."""
    sr, out = published
    state = tmp_path / "state"
    if with_state:
        c = _client(sr, out, state)
        assert c.latest(CHANNEL) == "2.15.1"
        assert c.save()

    def attempt(served: Path) -> TrustError:
        with pytest.raises(TrustError) as refused:
            _client(sr, served, state).download(CHANNEL, "2.15.1", tmp_path / "dl")
        assert not (tmp_path / "dl").exists()
        return refused.value

    # 1. Re-sign 2.15's line role with 2.14's key (the channel role left as it is).
    served = _served(out, tmp_path / "1")
    forged = _evil_documents(served)
    _forge(served, mallory, line_role=_list(forged, ARTIFACT, LINE_V2))
    assert attempt(served).message.startswith(
        f"metadata/2.{CHANNEL}.2.15.json (role {CHANNEL}.2.15) is not signed by the keys its "
        "delegator trusts"
    )
    # 2. Also re-sign the channel role (2.14 is one of its keys), re-delegating line 2.15
    # to 2.14's key: python-tuf accepts it; the maintainers' binding does not.
    served = _served(out, tmp_path / "2")
    forged = _evil_documents(served)
    _forge(
        served,
        mallory,
        line_role=_list(forged, ARTIFACT, LINE_V2),
        channel_role=_redelegate(mallory.public_key, _only_channel_document(forged)),
    )
    assert attempt(served).message == (
        f"metadata/2.{CHANNEL}.json (role {CHANNEL}) delegates line role {CHANNEL}.2.15 to "
        f"{line_id('2.14').identity}; targets v1 binds line 2.15 to {line_id('2.15').identity}"
    )
    # 3. Or list 2.15's files in the channel role itself (searched before its delegations).
    served = _served(out, tmp_path / "3")
    forged = _evil_documents(served)
    _forge(served, mallory, channel_role=_list(forged, CHANNEL_V2, LINE_V2, ARTIFACT))
    assert attempt(served).message.startswith(
        f"metadata/2.{CHANNEL}.json (role {CHANNEL}) lists channels/{CHANNEL}/"
    )
    # 4. Or delegate its own line (2.14, bound to its key) first, with paths reaching over
    # line 2.15, and list the forged files there.
    served = _served(out, tmp_path / "4")
    forged = _evil_documents(served)
    own = f"{CHANNEL}.2.14"

    def first_own_line(role: Any) -> None:
        _only_channel_document(forged)(role)
        paths = [f"channels/{CHANNEL}/lines/2.14/*", "releases/acme-2.14.*/*"]
        paths += [f"channels/{CHANNEL}/lines/2.15/*", "releases/acme-2.15.*/*"]
        mine = DelegatedRole(own, [mallory.public_key.keyid], 1, True, paths=paths)
        role.delegations.roles = {own: mine, **role.delegations.roles}
        role.delegations.keys[mallory.public_key.keyid] = mallory.public_key

    evil_line = Metadata(Targets(version=1, expires=_md(served, "1.targets.json").signed.expires))
    evil_line.signed.targets = dict(_md(served, f"1.{CHANNEL}.2.15.json").signed.targets)
    _list(forged, LINE_V2, ARTIFACT)(evil_line.signed)
    _forge(served, mallory, channel_role=first_own_line, new_roles={own: evil_line})
    assert attempt(served).message == (
        f"metadata/2.{CHANNEL}.json (role {CHANNEL}) gives line role {own} the path "
        f"channels/{CHANNEL}/lines/2.15/*, outside line 2.14"
    )
    # The store the attacker did not touch still verifies and downloads.
    got = _client(sr, out, tmp_path / "after").download(CHANNEL, "2.15.1", tmp_path / "ok")
    assert [p.name for p in got] == ["tool-2.15.1.txt", "tool-2.15.1.txt.sigstore.json"]
    assert (tmp_path / "ok" / "tool-2.15.1.txt").read_bytes() != EVIL


def test_a_retired_lines_releases_stay_readable_and_its_identity_cannot_publish(
    tmp_path: Path, dev_sigstore: DevInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    """2.14 (end of life) and 2.15 publish; the maintainers retire 2.14's identity; 2.15
    publishes under the new root: 2.14.1 still verifies, 2.14's identity is refused."""
    sr = _vendor(tmp_path)
    assert _trust(sr, dev_sigstore, "init") == 0
    _commit_trust(sr)
    out = tmp_path / "out"
    backport = ("backport", "2.14", "--pick", "#2", "--force-eol")
    assert _release(sr, dev_sigstore, out, "2.14", *backport) == 0
    assert _release(sr, dev_sigstore, out, "2.15", "point", "2.15", "--pick", "#4") == 0
    before = _client(sr, out, tmp_path / "state")
    assert before.verify_all() == {"channels": 1, "lines": 2, "releases": 2}
    assert before.save()

    assert _trust(sr, dev_sigstore, "rotate", "--retire-line", "2.14") == 0
    _commit_trust(sr)
    assert _release(sr, dev_sigstore, out, "2.15", "point", "2.15", "--pick", "#5") == 0
    assert json.loads((out / "metadata" / "root.json").read_bytes())["signed"]["version"] == 2
    for state in (tmp_path / "state", tmp_path / "fresh"):
        c = _client(sr, out, state)
        assert c.verify_all() == {"channels": 1, "lines": 2, "releases": 3}
        assert "releases/acme-2.14.1/tool-2.14.1.txt" in c.verify_release(CHANNEL, "2.14.1")
        assert c.latest(CHANNEL) == "2.15.2"
    capsys.readouterr()
    repo_before, out_before = sr.repo.snapshot(), tree_digest(out)
    again = ("backport", "2.14", "--pick", "#3", "--force-eol")
    assert _release(sr, dev_sigstore, out, "2.14", *again) != 0
    err = capsys.readouterr().err
    assert (
        f"line 2.14 of channel {CHANNEL} cannot be published: line 2.14 was retired in targets v2"
    ) in err
    assert (sr.repo.snapshot(), tree_digest(out)) == (repo_before, out_before)


def test_a_store_of_another_root_chain_is_refused_before_anything(
    published: tuple[StableRepo, Path],
    dev_sigstore: DevInstance,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Another checkout with its own `trust init` publishing into this store: the
    publisher would refuse the root at the publish step, after tagging; the preflight
    refuses it first."""
    _, out = published
    other = _vendor(tmp_path)
    assert _trust(other, dev_sigstore, "init", "--line", "2.16") == 0
    _commit_trust(other)
    capsys.readouterr()
    repo_before, out_before = other.repo.snapshot(), tree_digest(out)
    assert _release(other, dev_sigstore, out, "2.16", "cut", "--from", "edge-26.11.1") != 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"error: the store's root v1 is not in the repository's root chain "
        f"({other.path / 'channels' / 'tuf'}): publish from the repository that holds this "
        "store's roots, or to another store"
    )
    assert (other.repo.snapshot(), tree_digest(out)) == (repo_before, out_before)


def test_each_line_refreshes_with_its_own_identity(
    published: tuple[StableRepo, Path],
    dev_sigstore: DevInstance,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sr, out = published
    store = _served(out, tmp_path)

    def refresh(line: str) -> int:
        return cli.main(
            [
                "--repo", str(sr.path), "channel", "refresh", "--channel", CHANNEL,
                "--line", line, "--store", str(store), "--sign", "trust-config",
                "--trust-config", str(dev_sigstore.trust_config),
                "--identity-token", dev_sigstore.token(line_id(line)),
            ]
        )  # fmt: skip

    before = json.loads((store / "metadata" / "timestamp.json").read_bytes())["signed"]
    assert refresh("2.15") == 0
    assert refresh("2.14") == 0  # authorised, nothing published: it may still re-sign
    after = json.loads((store / "metadata" / "timestamp.json").read_bytes())["signed"]
    assert after["version"] == before["version"] + 2
    c = _client(sr, store, tmp_path / "state")
    assert c.verify_all() == {"channels": 1, "lines": 1, "releases": 1}
    capsys.readouterr()
    digest = tree_digest(store)
    assert refresh("2.16") != 0
    assert f"error: line 2.16 of channel {CHANNEL} cannot be published" in capsys.readouterr().err
    assert tree_digest(store) == digest
