"""`release edge` and `release stable` publishing to a bucket (real SeaweedFS, dev Sigstore),
then clients reading the bucket anonymously over plain HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release.channel.backends import IMMUTABLE_CACHE, MUTABLE_CACHE
from release.cli import main
from tests.backends.conftest import BUCKET
from tests.helpers.gitrepo import Repo
from tests.helpers.project import EDGE_TOML, make_project, run_release
from tests.helpers.seaweed import REGION, Seaweed, http_get
from tests.helpers.stablerepo import make_stable_repo


def publish_table(seaweed: Seaweed, prefix: str) -> str:
    return (
        f'\n[publish]\ntarget = "s3"\nbucket = "{BUCKET}"\nprefix = "{prefix}"\n'
        f'endpoint-url = "{seaweed.endpoint}"\nregion = "{REGION}"\n'
    )


def root_file(seaweed: Seaweed, prefix: str, to: Path) -> Path:
    """The dev root, taken out of band (the publisher's bucket, read with credentials)."""
    got = seaweed.client().get_object(Bucket=BUCKET, Key=f"{prefix}/metadata/1.root.json")
    to.write_bytes(got["Body"].read())
    return to


@pytest.mark.usefixtures("s3_env")
def test_edge_release_to_s3_read_over_http(
    repo: Repo, seaweed: Seaweed, prefix: str, tmp_path: Path
) -> None:
    project = make_project(
        repo, extra_files={"channels/edge.toml": EDGE_TOML + publish_table(seaweed, prefix)}
    )
    proc = run_release(project, "edge", "--date", "2026-11-25", "--sign", "dev", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["state"] == "released"
    base = seaweed.public_url(BUCKET, prefix)

    # Anonymous HTTP: immutable objects cached forever, the timestamp briefly.
    status, _, headers = http_get(base + "releases/edge-26.11.1/SHA256SUMS")
    assert status == 200
    assert headers["cache-control"] == IMMUTABLE_CACHE
    status, _, headers = http_get(base + "metadata/timestamp.json")
    assert status == 200
    assert headers["cache-control"] == MUTABLE_CACHE
    assert headers["content-type"] == "application/json"
    status, page, _ = http_get(base + "index.html")
    assert status == 200
    assert b"26.11.1" in page

    # The project's client reads the bucket over HTTP (no credentials, no boto3).
    root = root_file(seaweed, prefix, tmp_path / "root.json")
    client = ["--source", base, "--root", str(root), "--state-dir", str(tmp_path / "state")]
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    latest = run_release(project, "channel", "latest", "--channel", "edge", *client, env=env)
    assert latest.returncode == 0, latest.stderr
    assert latest.stdout.strip() in {"26.11.1", "edge-26.11.1"}
    dl = run_release(
        project, "channel", "download", "26.11.1", "--channel", "edge", "--to",
        str(tmp_path / "dl"), *client, env=env,
    )  # fmt: skip
    assert dl.returncode == 0, dl.stderr
    assert (tmp_path / "dl" / "tool-26.11.1.tar.gz").is_file()

    # The scheduled refresh re-signs the bucket's timestamp (no --store: the channel's
    # [publish] target), and readers follow.
    def timestamp_version() -> int:
        got = seaweed.client().get_object(Bucket=BUCKET, Key=f"{prefix}/metadata/timestamp.json")
        return int(json.loads(got["Body"].read())["signed"]["version"])

    before = timestamp_version()
    refresh = run_release(project, "channel", "refresh", "--channel", "edge", "--sign", "dev")
    assert refresh.returncode == 0, refresh.stderr
    assert timestamp_version() == before + 1
    again = run_release(project, "channel", "latest", "--channel", "edge", *client, env=env)
    assert again.returncode == 0, again.stderr


def test_edge_release_without_credentials_changes_nothing(
    repo: Repo, seaweed: Seaweed, prefix: str
) -> None:
    project = make_project(
        repo, extra_files={"channels/edge.toml": EDGE_TOML + publish_table(seaweed, prefix)}
    )
    proc = run_release(project, "edge", "--date", "2026-11-25", "--sign", "dev")
    assert proc.returncode != 0
    assert "no S3 credentials" in proc.stderr
    assert proc.stderr.count("error:") == 1
    assert project.git("tag", "-l") == ""  # refused in the preflight: nothing tagged
    listed = seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.usefixtures("s3_env")
def test_stable_cut_and_point_to_s3(
    tmp_path: Path, seaweed: Seaweed, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = make_stable_repo(tmp_path, support_extra=publish_table(seaweed, prefix))
    out = tmp_path / "out"
    for args in (["cut", "--from", "edge-26.10.1"], ["cut"], ["point", "2.15", "--pick", "#4"]):
        argv = ["--json", "--repo", str(sr.path), "stable", *args]
        code = main([*argv, "--sign", "dev", "--date", "2026-11-25", "--out", str(out)])
        data = json.loads(capsys.readouterr().out)
        assert code == 0, data
    assert data["tag"] == "stable-2.15.1"
    # The store is the bucket: no metadata in the local staging directory.
    assert not (out / "metadata").exists()
    from release.channel.tuf.client import open_client

    client = open_client(
        seaweed.public_url(BUCKET, prefix),
        root=root_file(seaweed, prefix, tmp_path / "root.json"),
        state_dir=tmp_path / "state",
        env={},
    )
    assert client.latest("stable") == "2.15.1"
    assert client.latest("stable", "2.14") == "2.14.0"
