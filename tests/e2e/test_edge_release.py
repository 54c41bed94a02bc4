"""`release edge` end to end on a temp clone with a bare origin: build, sums, dev Sigstore,
provenance, tag, changelog commit, channel index; re-runs, resume after SIGKILL, --push."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from release.plan import STEPS
from tests.helpers.gitrepo import Repo
from tests.helpers.project import make_project, run_release, tree_digest
from tests.helpers.tufcheck import TufReader

DATE = ["--date", "2026-11-25"]
TAG = "edge-26.11.1"
ARTIFACTS = ["tool-26.11.1-linux-amd64", "tool-26.11.1.tar.gz"]


@pytest.fixture
def project(repo: Repo) -> Repo:
    return make_project(repo)


def out_dir(repo: Repo) -> Path:
    return repo.path / "dist" / "channel"


def released_files(repo: Repo) -> dict[str, str]:
    """The published channel minus signatures and timestamps that differ per signing."""
    rel = out_dir(repo) / "releases" / TAG
    return {
        name: digest
        for name, digest in tree_digest(rel).items()
        if not name.endswith(".sigstore.json") and name != "dev-trust-config.json"
    }


def test_edge_release_end_to_end(project: Repo) -> None:
    proc = run_release(project, "edge", *DATE, "--sign", "dev", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["state"] == "released"
    assert summary["tag"] == TAG
    assert [a["name"] for a in summary["artifacts"]] == ARTIFACTS
    rel = out_dir(project) / "releases" / TAG

    # Checksums: sha256sum -c accepts the file.
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=rel, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 2

    # Every artifact and SHA256SUMS has a bundle that verifies for the edge identity,
    # with our verifier and with the stock sigstore CLI, using the written trust config.
    trust = rel / "dev-trust-config.json"
    for name in [*ARTIFACTS, "SHA256SUMS"]:
        ok = run_release(
            project,
            "verify",
            str(rel / name),
            "--bundle",
            str(rel / f"{name}.sigstore.json"),
            "--channel",
            "edge",
            "--trust-config",
            str(trust),
        )
        assert ok.returncode == 0, ok.stderr
        stock = subprocess.run(
            [
                sys.executable,
                "-m",
                "sigstore",
                "--trust-config",
                str(trust),
                "verify",
                "identity",
                "--offline",
                "--cert-identity",
                "edge@dev.invalid",
                "--cert-oidc-issuer",
                "https://dev.invalid",
                str(rel / name),
            ],
            capture_output=True,
            text=True,
            env=project.env | {"PATH": "/usr/bin:/bin"},
        )
        assert stock.returncode == 0, stock.stderr
    # The stable identity must not verify an edge bundle.
    wrong = run_release(
        project,
        "verify",
        str(rel / ARTIFACTS[0]),
        "--bundle",
        str(rel / f"{ARTIFACTS[0]}.sigstore.json"),
        "--channel",
        "stable",
        "--trust-config",
        str(trust),
    )
    assert wrong.returncode == 1, wrong.stderr
    prov = run_release(
        project,
        "verify",
        "--provenance",
        str(rel / "provenance.intoto.sigstore.json"),
        *(str(rel / n) for n in ARTIFACTS),
        "--channel",
        "edge",
        "--trust-config",
        str(trust),
    )
    assert prov.returncode == 0, prov.stderr

    # Git: the changelog commit is on main, tagged, and main's CHANGELOG has the section.
    assert project.git("describe", "--exact-match", "HEAD") == TAG
    assert project.git("log", "-1", "--format=%s") == f"Release {TAG}"
    changelog = (project.path / "CHANGELOG.md").read_text()
    assert f"## [{TAG}] - 2026-11-25" in changelog
    assert "- A hand-written entry." in changelog.split(f"## [{TAG}]")[1]
    assert "add the first feature ([#1](https://github.com/example/tool/pull/1))" in changelog
    assert project.git("status", "--porcelain") == ""
    message = project.git("tag", "-l", "--format=%(contents)", TAG)
    assert "repair the thing" in message
    assert project.git("ls-remote", "--tags", "origin") == ""  # no --push: nothing pushed

    # Channel (TUF, schema 2): any TUF client, given the dev root this run made, sees the
    # release, and every document and file it reads verifies.
    store = out_dir(project)
    reader = TufReader(store)
    assert reader.channels() == ["edge"]  # a dev store delegates what it published
    assert reader.latest("edge") == "26.11.1"
    assert reader.timestamp_version() == 1
    line = reader.line("edge", "26.11")
    assert [r.tag for r in line.releases] == [TAG]
    for ref in line.releases[0].files():
        assert reader.read(ref.path) == (store / ref.path).read_bytes()
    root = json.loads((store / "metadata" / "root.json").read_bytes())["signed"]
    assert root["x-release-channels"]["sigstore"]["trustedRoot"]  # the dev instance
    stub = json.loads((store / "index.json").read_bytes())
    assert stub["schema_version"] == "2.0"
    assert not (store / "index").exists()

    # The project's own client, given the dev root out of band: latest, verify, download.
    trust = ["--root", str(store / "metadata" / "1.root.json")]
    state = ["--state-dir", str(project.path / "state")]
    latest = run_release(
        project, "channel", "latest", "--source", str(store), "--channel", "edge", *trust, *state
    )
    assert latest.returncode == 0, latest.stderr
    assert latest.stdout.strip() in {"26.11.1", TAG}
    # The views follow the publication: page, versions.json (signed), feed, install script.
    out = out_dir(project)
    assert json.loads((out / "versions.json").read_bytes())["edge"] == TAG
    versions = out / "channels" / "edge" / "versions.json"
    assert json.loads(versions.read_bytes()) == {"edge": TAG, "edge-26.11": TAG}
    signed = run_release(
        project,
        "verify",
        str(versions),
        "--bundle",
        f"{versions}.sigstore.json",
        "--channel",
        "edge",
        "--trust-config",
        str(rel / "dev-trust-config.json"),
    )
    assert signed.returncode == 0, signed.stderr
    page = (out / "index.html").read_text()
    assert "dev signatures: not trusted" in page
    assert f'href="releases/{TAG}/dev-trust-config.json"' in page
    assert "<title>tool release channels</title>" in page
    assert TAG in (out / "channels" / "edge" / "feed.xml").read_text()
    assert (out / "channels" / "edge" / "install.sh").read_text().startswith("#!/bin/sh\n")

    verified = run_release(project, "channel", "verify", "--source", str(store), *trust, *state)
    assert verified.returncode == 0, verified.stderr
    got = project.path / "downloads"
    dl = run_release(
        project, "channel", "download", "26.11.1", "--source", str(store), "--channel", "edge",
        "--to", str(got), *trust, *state,
    )  # fmt: skip
    assert dl.returncode == 0, dl.stderr
    assert (got / ARTIFACTS[0]).read_bytes() == (rel / ARTIFACTS[0]).read_bytes()
    assert not list(out_dir(project).rglob("*.pem")), "no private keys in the channel"

    # A re-run is a no-op that says so.
    again = run_release(project, "edge", *DATE, "--sign", "dev")
    assert again.returncode == 0
    assert "already released" in again.stdout


def test_next_releases_number_within_the_month_and_reset(project: Repo) -> None:
    run_release(project, "edge", *DATE, "--sign", "dev", check=True)
    project.commit("feat: second (#3)")
    run_release(project, "edge", "--date", "2026-11-28", "--sign", "dev", check=True)
    project.commit("feat: third (#4)")
    run_release(project, "edge", "--date", "2026-12-01", "--sign", "dev", check=True)
    tags = project.git("tag", "-l", "edge-*", "--sort=creatordate").split()
    assert tags == ["edge-26.11.1", "edge-26.11.2", "edge-26.12.1"]
    notes = project.git("tag", "-l", "--format=%(contents)", "edge-26.11.2")
    assert "second" in notes
    assert "first feature" not in notes  # the range starts at the previous edge
    reader = TufReader(out_dir(project))
    assert reader.timestamp_version() == 3
    assert reader.latest("edge") == "26.12.1"
    assert [r.version for r in reader.line("edge", "26.11").releases] == ["26.11.1", "26.11.2"]


def test_push_sends_branch_and_tag_atomically(project: Repo) -> None:
    run_release(project, "edge", *DATE, "--sign", "dev", check=True)
    assert project.git("ls-remote", "--tags", "origin") == ""
    # Pushing later resumes the finished release at its push step.
    proc = run_release(project, "edge", *DATE, "--sign", "dev", "--push", "--allow-dev-signatures")
    assert proc.returncode == 0, proc.stderr
    remote = project.git("ls-remote", "origin")
    assert f"refs/tags/{TAG}" in remote
    assert project.git("rev-parse", "HEAD") in remote.split("refs/heads/main")[0]


def test_push_with_dev_signatures_is_refused_without_the_flag(project: Repo) -> None:
    before = project.git("rev-parse", "HEAD")
    proc = run_release(project, "edge", *DATE, "--sign", "dev", "--push")
    assert proc.returncode != 0
    assert "--push with dev signatures is refused" in proc.stderr
    assert "pages branch are public" in proc.stderr
    assert "--allow-dev-signatures" in proc.stderr
    assert project.git("rev-parse", "HEAD") == before
    assert project.git("tag", "-l") == ""
    assert "refs/tags/" not in project.git("ls-remote", "origin")
    assert not (out_dir(project) / "metadata").exists()
    allowed = run_release(
        project, "edge", *DATE, "--sign", "dev", "--push", "--allow-dev-signatures"
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "pushing DEV signatures" in allowed.stdout + allowed.stderr
    assert f"refs/tags/{TAG}" in project.git("ls-remote", "origin")


@pytest.mark.parametrize("step", [s for s in STEPS if s not in ("push", "github")])
def test_sigkill_after_each_step_then_resume(project: Repo, step: str, tmp_path: Path) -> None:
    # Reference run on an identical clone of the same history.
    twin_dir = tmp_path / "twin"
    subprocess.run(
        ["git", "clone", "-q", str(project.origin), str(twin_dir)], env=project.env, check=True
    )
    twin = Repo(twin_dir, project.origin, project.env)
    run_release(twin, "edge", *DATE, "--sign", "dev", check=True)

    killed = run_release(
        project,
        "edge",
        *DATE,
        "--sign",
        "dev",
        env={"RELEASE_CHANNELS_FAULT": f"kill-after:{step}"},
    )
    assert killed.returncode == -9, killed.stderr
    journal = json.loads((out_dir(project) / ".release-work/edge/journal.json").read_text())
    assert step in journal["steps"]
    assert not journal["done"]

    resumed = run_release(project, "edge", *DATE, "--sign", "dev")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming edge-26.11.1" in resumed.stdout
    assert f"skip {step}" in resumed.stdout.replace("  ", " ")
    # Same tag on a commit with the same tree, same artifacts, same sums.
    assert project.git("rev-parse", f"{TAG}^{{tree}}") == twin.git("rev-parse", f"{TAG}^{{tree}}")
    assert project.git("rev-list", "--count", TAG) == twin.git("rev-list", "--count", TAG)
    assert released_files(project) == released_files(twin)
    assert sorted(tree_digest(out_dir(project) / "releases" / TAG)) == sorted(
        tree_digest(out_dir(twin) / "releases" / TAG)
    )
    again = run_release(project, "edge", *DATE, "--sign", "dev")
    assert "already released" in again.stdout


def test_changed_artifact_is_refused_on_resume(project: Repo) -> None:
    killed = run_release(
        project,
        "edge",
        *DATE,
        "--sign",
        "dev",
        env={"RELEASE_CHANNELS_FAULT": "kill-after:checksums"},
    )
    assert killed.returncode == -9
    staged = out_dir(project) / ".release-work/edge/stage" / ARTIFACTS[0]
    staged.write_bytes(b"tampered")
    proc = run_release(project, "edge", *DATE, "--sign", "dev")
    assert proc.returncode != 0
    assert f"artifact {ARTIFACTS[0]} changed since it was built" in proc.stderr
    assert not (out_dir(project) / "releases").exists()


def test_resume_refuses_a_different_head(project: Repo) -> None:
    killed = run_release(
        project, "edge", *DATE, "--sign", "dev", env={"RELEASE_CHANNELS_FAULT": "kill-after:build"}
    )
    assert killed.returncode == -9
    project.commit("feat: sneaked in")
    proc = run_release(project, "edge", *DATE, "--sign", "dev")
    assert proc.returncode != 0
    assert "an unfinished release of edge-26.11.1" in proc.stderr


def test_published_release_files_are_immutable(project: Repo) -> None:
    killed = run_release(
        project, "edge", *DATE, "--sign", "dev", env={"RELEASE_CHANNELS_FAULT": "kill-after:tag"}
    )
    assert killed.returncode == -9
    squatter = out_dir(project) / "releases" / TAG / ARTIFACTS[0]
    squatter.parent.mkdir(parents=True)
    squatter.write_bytes(b"somebody else's file")
    proc = run_release(project, "edge", *DATE, "--sign", "dev")
    assert proc.returncode != 0
    assert "already exists with different content" in proc.stderr
    assert squatter.read_bytes() == b"somebody else's file"
    assert not (out_dir(project) / "index.json").exists()


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils missing")
def test_split_build_assemble_and_release(project: Repo, tmp_path: Path) -> None:
    slices = tmp_path / "slices"
    b = run_release(
        project, "build", "--json", "--target", "any", "--out", str(slices / "any"), *DATE
    )
    assert b.returncode == 0, b.stderr
    dup = run_release(
        project,
        "assemble",
        str(slices / "any"),
        str(slices / "any"),
        "--out",
        str(tmp_path / "bad"),
    )
    assert dup.returncode != 0
    assert "appears twice" in dup.stderr
    a = run_release(project, "assemble", str(slices / "any"), "--out", str(tmp_path / "asm"))
    assert a.returncode == 0, a.stderr
    r = run_release(
        project, "edge", *DATE, "--sign", "dev", "--assembled", str(tmp_path / "asm"), "--json"
    )
    assert r.returncode == 0, r.stderr
    built = {x["name"]: x["sha256"] for x in json.loads(b.stdout)["artifacts"]}
    released = {x["name"]: x["sha256"] for x in json.loads(r.stdout)["artifacts"]}
    assert built == released
    # Provenance names the commit the slices were built from, not the changelog commit.
    journal = json.loads((out_dir(project) / ".release-work/edge/journal.json").read_text())
    assert journal["steps"]["build"]["source_commit"] == json.loads(b.stdout)["commit"]
    assert journal["steps"]["build"]["source_commit"] != json.loads(r.stdout)["commit"]
    import base64

    bundle = json.loads((Path(json.loads(r.stdout)["provenance"])).read_text())
    statement = base64.b64decode(bundle["dsseEnvelope"]["payload"]).decode()
    assert json.loads(b.stdout)["commit"] in statement
    assert json.loads(r.stdout)["commit"] not in statement


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout of this project")
def test_this_repository_releases_itself(tmp_path: Path, repo: Repo) -> None:
    """What `nox -s edge` does on a fresh clone: build this project's sdist and wheel
    (stamped with the edge version), sign, publish."""
    origin = tmp_path / "self-origin.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(ROOT), str(origin)], env=repo.env, check=True
    )
    work = tmp_path / "self"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], env=repo.env, check=True)
    me = Repo(work, origin, repo.env)
    me.git("checkout", "-q", "-B", "main")
    released = me.git("tag", "--points-at", "HEAD", "--list", "edge-*")
    if released:
        # `nox -s edge` ran in this clone before the tests: HEAD is its release commit.
        # The next release of this repository is then of a newer commit, as in real life.
        me.git("commit", "-q", "--allow-empty", "-m", f"test: a change after {released}")
    proc = run_release(me, "edge", "--sign", "dev", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    tag = summary["tag"]
    assert tag.startswith("edge-")
    pep440 = "20" + tag.removeprefix("edge-")
    names = sorted(a["name"] for a in summary["artifacts"])
    assert names == [
        f"release_channels-{pep440}-py3-none-any.whl",
        f"release_channels-{pep440}.tar.gz",
    ]
    rel = Path(summary["release_dir"])
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=rel, capture_output=True)
    assert check.returncode == 0
    import zipfile

    with zipfile.ZipFile(rel / names[0]) as whl:
        meta = whl.read(f"release_channels-{pep440}.dist-info/METADATA").decode()
    assert f"Version: {pep440}\n" in meta
    stock = subprocess.run(
        [
            sys.executable,
            "-m",
            "sigstore",
            "--trust-config",
            str(rel / "dev-trust-config.json"),
            "verify",
            "identity",
            "--offline",
            "--cert-identity",
            "edge@dev.invalid",
            "--cert-oidc-issuer",
            "https://dev.invalid",
            str(rel / names[0]),
        ],
        capture_output=True,
        text=True,
    )
    assert stock.returncode == 0, stock.stderr
    assert f"## [{tag}]" in (work / "CHANGELOG.md").read_text()
