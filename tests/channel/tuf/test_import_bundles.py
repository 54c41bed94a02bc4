"""`release channel import` verifies every Sigstore bundle of the GitHub release assets it
records, against the identity the channel expects for the release's line, before anything
is written: the loopback GitHub stand-in serves assets signed by the dev Sigstore instance
(real sigstore-python signer and verifier); an attacker's re-signed asset, swapped bundles,
another Sigstore instance and a broken bundle are each refused with one error, the store
byte-identical."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from release import cli
from release.adapters.devsigstore import DEV_ISSUER
from release.adapters.sigstore import verify_file
from release.config import Identity
from tests.helpers.github_server import GitHubStandIn
from tests.helpers.gitrepo import git_env
from tests.helpers.linkerd import LinkerdHistory, build_linkerd_history
from tests.helpers.sigstore import STABLE_DEV, sign_blobs

TAG = "stable-2.14.1"
CLI = "linkerd2-cli-stable-2.14.1-linux-amd64"
DARWIN = "linkerd2-cli-stable-2.14.1-darwin"
CLI_BYTES = b"\x7fELF" + bytes(range(256)) * 5000  # 1.2 MiB: streamed in several chunks
DARWIN_BYTES = b"\xcf\xfa\xed\xfe darwin build"
ATTACKER = Identity("attacker@evil.invalid", DEV_ISSUER)


@dataclasses.dataclass(frozen=True)
class Signed:
    state: Path  # the dev instance the import trusts (--dev-state)
    good: dict[str, bytes]  # bundles signed as the channel's dev identity
    evil_cli: bytes  # the attacker's binary
    by_attacker: dict[str, bytes]  # the attacker's own identity over evil_cli
    wrong_issuer: dict[str, bytes]  # the right name, another OIDC issuer
    other_instance: dict[str, bytes]  # the right identity, another Sigstore instance


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    state = tmp_path_factory.mktemp("dev-state")
    evil = b"\x7fELF evil" + bytes(300)
    blobs = {CLI: CLI_BYTES, DARWIN: DARWIN_BYTES}
    return Signed(
        state=state,
        good=sign_blobs(state, STABLE_DEV, blobs),
        evil_cli=evil,
        by_attacker=sign_blobs(state, ATTACKER, {CLI: evil}),
        wrong_issuer=sign_blobs(
            state, Identity(STABLE_DEV.identity, "https://evil.invalid"), {CLI: evil}
        ),
        other_instance=sign_blobs(tmp_path_factory.mktemp("other"), STABLE_DEV, {CLI: evil}),
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> LinkerdHistory:
    h = build_linkerd_history(tmp_path_factory.mktemp("linkerd"))
    (h.path / "release.toml").write_text('repository = "https://github.com/acme/widget"\n')
    return h


@pytest.fixture(scope="module")
def edge_store(
    history: LinkerdHistory, signed: Signed, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A store that already holds the edge channel (the refusals must leave it as it was)."""
    store = tmp_path_factory.mktemp("edge") / "store"
    with pytest.MonkeyPatch.context() as mp:  # module scope: isolated by hand
        for key, value in git_env(tmp_path_factory.mktemp("home")).items():
            mp.setenv(key, value)
        for key in ("GITHUB_TOKEN", "GH_TOKEN", "CI"):
            mp.delenv(key, raising=False)
        code = cli.main(_import(history, store, signed, "--channel", "edge"))
    assert code == 0
    return store


def _import(h: LinkerdHistory, store: Path, signed: Signed, *extra: str) -> list[str]:
    return ["--repo", str(h.path), "channel", "import", "--store", str(store), "--sign", "dev",
            "--dev-state", str(signed.state), *extra]  # fmt: skip


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubStandIn]:
    with GitHubStandIn("tok-import") as gh:
        monkeypatch.setenv("GITHUB_TOKEN", "tok-import")
        monkeypatch.setenv("GITHUB_API_URL", gh.base_url)
        yield gh


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def tree(root: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def test_a_bundle_signed_by_the_channel_identity_is_recorded_and_downloads(
    history: LinkerdHistory,
    signed: Signed,
    github: GitHubStandIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    github.add_release(
        TAG,
        draft=False,
        assets={CLI: CLI_BYTES, DARWIN: DARWIN_BYTES, "README.txt": b"no bundle", **signed.good},
    )
    store = tmp_path / "store"
    code, out, err = run(capsys, _import(history, store, signed, "--channel", "stable"))
    assert code == 0, err
    assert f"imported into {store}" in out
    assert "warning" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # staging removed

    root = ("--source", str(store), "--root", str(store / "metadata" / "1.root.json"))
    code, _, err = run(capsys, ["channel", "download", TAG, "--to", str(tmp_path / "dl"), *root])
    assert code == 0, err
    got = tmp_path / "dl"
    assert sorted(p.name for p in got.iterdir()) == sorted(
        [CLI, DARWIN, f"{CLI}.sigstore.json", f"{DARWIN}.sigstore.json"]
    )
    assert (got / CLI).read_bytes() == CLI_BYTES
    # What the channel vouches for verifies for the channel's identity, as a user checks it.
    for name in (CLI, DARWIN):
        verify_file(
            got / name,
            got / f"{name}.sigstore.json",
            STABLE_DEV,
            trust_config=signed.state / "dev-trust-config.json",
        )
    sums = (store / "releases" / TAG / "SHA256SUMS").read_text()
    assert "README.txt" in sums  # an asset without a bundle: a checksummed file only


def _refusals(signed: Signed) -> dict[str, tuple[dict[str, bytes], tuple[str, ...]]]:
    """case -> (assets of stable-2.14.1, what the one error must say)."""
    swapped = {
        f"{CLI}.sigstore.json": signed.good[f"{DARWIN}.sigstore.json"],
        f"{DARWIN}.sigstore.json": signed.good[f"{CLI}.sigstore.json"],
    }
    good_cli = signed.good[f"{CLI}.sigstore.json"]
    return {
        # An attacker with write access to the releases re-uploads the binary, signed by
        # their own (perfectly valid) Sigstore identity.
        "foreign-identity": (
            {CLI: signed.evil_cli, **signed.by_attacker},
            ("wrong identity", "it names attacker@evil.invalid via https://dev.invalid"),
        ),
        "foreign-issuer": (
            {CLI: signed.evil_cli, **signed.wrong_issuer},
            ("wrong issuer", "via https://evil.invalid"),
        ),
        # The right identity name, but certified by a Sigstore instance the channel does
        # not trust (the attacker's own).
        "another-instance": (
            {CLI: signed.evil_cli, **signed.other_instance},
            ("does not chain to the trusted root", f"it names {STABLE_DEV.identity}"),
        ),
        # Two genuine bundles, each beside the other file.
        "swapped": (
            {CLI: CLI_BYTES, DARWIN: DARWIN_BYTES, **swapped},
            ("digest mismatch", f"it names {STABLE_DEV.identity}"),
        ),
        # The attacker's binary beside the genuine bundle of the real one.
        "replaced-binary": (
            {CLI: signed.evil_cli, f"{CLI}.sigstore.json": good_cli},
            ("digest mismatch",),
        ),
        "truncated": (
            {CLI: CLI_BYTES, f"{CLI}.sigstore.json": good_cli[: len(good_cli) // 2]},
            ("malformed bundle", "its certificate cannot be read"),
        ),
        "garbage": (
            {CLI: CLI_BYTES, f"{CLI}.sigstore.json": b"\x00\xffnot json at all"},
            ("malformed bundle", "its certificate cannot be read"),
        ),
        "huge": (
            {CLI: CLI_BYTES, f"{CLI}.sigstore.json": b" " * (2 << 20)},
            ("malformed bundle: 2097152 bytes",),
        ),
    }


CASES = (
    "foreign-identity",
    "foreign-issuer",
    "another-instance",
    "swapped",
    "replaced-binary",
    "truncated",
    "garbage",
    "huge",
)


@pytest.mark.parametrize("case", CASES)
def test_a_bundle_that_does_not_verify_is_refused_and_the_store_is_unchanged(
    case: str,
    history: LinkerdHistory,
    signed: Signed,
    edge_store: Path,
    github: GitHubStandIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assets, says = _refusals(signed)[case]
    github.add_release("stable-2.13.7", draft=False, assets={"notes.txt": b"fine"})
    github.add_release(TAG, draft=False, assets=assets)
    store = tmp_path / "store"
    shutil.copytree(edge_store, store)
    before = tree(store)

    code, out, err = run(capsys, _import(history, store, signed, "--merge"))
    assert code == 1, out
    lines = err.splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["error", "hint"], err  # one error, no traceback
    error = lines[0]
    assert TAG in error
    assert f"asset {CLI} " in error or f"asset {DARWIN} " in error
    assert f"expects {STABLE_DEV.identity} via {STABLE_DEV.issuer}" in error
    assert "line 2.14" in error
    for text in says:
        assert text in error
    assert "--unverified-bundles=record-as-files" in lines[1]
    assert "tok-import" not in err
    assert tree(store) == before  # nothing staged, placed or signed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # the staging is gone


def test_record_as_files_is_an_explicit_loud_opt_out(
    history: LinkerdHistory,
    signed: Signed,
    github: GitHubStandIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    github.add_release(
        TAG,
        draft=False,
        assets={
            CLI: signed.evil_cli,
            **signed.by_attacker,
            DARWIN: DARWIN_BYTES,
            f"{DARWIN}.sigstore.json": signed.good[f"{DARWIN}.sigstore.json"],
        },
    )
    store = tmp_path / "store"
    argv = _import(history, store, signed, "--channel", "stable")
    code, _, err = run(capsys, [*argv, "--unverified-bundles=record-as-files"])
    assert code == 0, err
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning: ")]
    assert len(warnings) == 1
    assert (
        f"{TAG}: {CLI} and {CLI}.sigstore.json are recorded as checksummed files only"
        in (warnings[0])
    )
    assert "attacker@evil.invalid" in warnings[0]

    from tests.helpers.tufcheck import TufReader

    release = {r.tag: r for r in TufReader(store).line("stable", "2.14").releases}[TAG]
    assert [a.name for a in release.artifacts] == [DARWIN]  # the verified one only
    assert release.checksums is not None
    sums = (store / release.checksums.path).read_text()
    assert f"  {CLI}\n" in sums  # the bytes are checksummed, not vouched for as signed


def test_a_refused_import_into_a_new_store_creates_nothing(
    history: LinkerdHistory,
    signed: Signed,
    github: GitHubStandIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    github.add_release(TAG, draft=False, assets={CLI: signed.evil_cli, **signed.by_attacker})
    store = tmp_path / "dist" / "channel"
    code, _, err = run(capsys, _import(history, store, signed))
    assert code == 1
    assert "wrong identity" in err
    assert not store.exists()
    assert list((tmp_path / "dist").iterdir()) == []  # no staging directory left beside it
