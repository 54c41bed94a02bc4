"""The S3 backend against a real SeaweedFS on loopback (conditional writes, headers, errors)."""

from __future__ import annotations

import hashlib
import urllib.parse
from pathlib import Path

import pytest

from release.channel.backends import IMMUTABLE_CACHE, MUTABLE_CACHE, ObjectExists, SwapConflict
from release.channel.backends.location import S3Location, open_backend, parse_s3_url
from release.channel.backends.s3 import PROBE_DIR, S3Backend, content_type
from release.errors import ChannelError, ConfigError
from tests.backends.conftest import BUCKET
from tests.backends.contract import BackendContract
from tests.helpers.s3proxy import conditionless_gateway
from tests.helpers.seaweed import REGION, Seaweed, free_ports, http_get, running_seaweed


def backend_at(seaweed: Seaweed, prefix: str, **kw: str) -> S3Backend:
    return S3Backend(S3Location(BUCKET, prefix, endpoint_url=seaweed.endpoint, region=REGION, **kw))


def raw_keys(seaweed: Seaweed, prefix: str) -> list[str]:
    listed = seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    return [o["Key"] for o in listed.get("Contents", ())]


@pytest.mark.usefixtures("s3_env")
class TestS3Backend(BackendContract):
    @pytest.fixture
    def backend(self, seaweed: Seaweed, prefix: str) -> S3Backend:
        return backend_at(seaweed, prefix)


@pytest.fixture
def s3(seaweed: Seaweed, prefix: str, s3_env: None) -> S3Backend:
    return backend_at(seaweed, prefix)


def test_objects_are_public_with_cdn_headers(s3: S3Backend, seaweed: Seaweed) -> None:
    s3.put_if_absent("releases/edge-26.1.1/install.sh", b"#!/bin/sh\necho hi\n")
    s3.put_if_absent("metadata/3.snapshot.json", b'{"signed": {}}')
    etag = s3.compare_and_swap("metadata/timestamp.json", b'{"v": 1}', None)
    base = seaweed.public_url(BUCKET, s3.location.prefix)

    status, body, headers = http_get(base + "metadata/3.snapshot.json")
    assert status == 200
    assert body == b'{"signed": {}}'
    assert headers["cache-control"] == IMMUTABLE_CACHE
    assert headers["content-type"] == "application/json"

    status, body, headers = http_get(base + "metadata/timestamp.json")
    assert (status, body) == (200, b'{"v": 1}')
    assert headers["cache-control"] == MUTABLE_CACHE
    assert headers["etag"] == etag

    status, _, headers = http_get(base + "releases/edge-26.1.1/install.sh")
    assert status == 200
    assert headers["content-type"].startswith("text/x-shellscript")


def test_anonymous_readers_cannot_write(s3: S3Backend, seaweed: Seaweed) -> None:
    import urllib.request

    url = seaweed.public_url(BUCKET, s3.location.prefix) + "index.json"
    request = urllib.request.Request(url, data=b"evil", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 403
    assert s3.read("index.json") is None


@pytest.mark.parametrize(
    ("key", "ctype"),
    [
        ("index.json", "application/json"),
        ("releases/t/a.whl.sigstore.json", "application/json"),
        ("index.html", "text/html; charset=utf-8"),
        ("install.sh", "text/x-shellscript; charset=utf-8"),
        ("releases/t/SHA256SUMS", "text/plain; charset=utf-8"),
        ("releases/t/linkerd2-cli-edge-26.1.1-linux-amd64.tar.gz", "application/gzip"),
        ("releases/t/a-1-py3-none-any.whl", "application/zip"),
        ("releases/t/linkerd2-cli-edge-26.1.1-darwin-arm64", "application/octet-stream"),
        ("feed.atom", "application/atom+xml"),
    ],
)
def test_content_types(key: str, ctype: str) -> None:
    assert content_type(key) == ctype


def test_objects_not_ours_are_refused_never_overwritten(s3: S3Backend, seaweed: Seaweed) -> None:
    client = seaweed.client()
    for key in ("index.json", "releases/t/a.tar.gz"):
        client.put_object(Bucket=BUCKET, Key=f"{s3.location.prefix}/{key}", Body=b"theirs")
    with pytest.raises(ChannelError, match=r"not written by release-channels"):
        s3.put_if_absent("releases/t/a.tar.gz", b"ours")
    blob = s3.read("index.json")
    assert blob is not None
    with pytest.raises(ChannelError, match=r"index\.json .* not written by release-channels"):
        s3.compare_and_swap("index.json", b"ours", blob.etag)
    for key in ("index.json", "releases/t/a.tar.gz"):
        got = client.get_object(Bucket=BUCKET, Key=f"{s3.location.prefix}/{key}")
        assert got["Body"].read() == b"theirs"


def test_same_bytes_are_recognised_by_their_recorded_digest(
    s3: S3Backend, seaweed: Seaweed
) -> None:
    data = b"artifact bytes" * 1000
    assert s3.put_if_absent("releases/t/big", data) is True
    head = seaweed.client().head_object(Bucket=BUCKET, Key=f"{s3.location.prefix}/releases/t/big")
    assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert s3.put_if_absent("releases/t/big", data) is False
    with pytest.raises(ObjectExists):
        s3.put_if_absent("releases/t/big", data + b"!")


def test_an_altered_object_is_detected_on_read(s3: S3Backend, seaweed: Seaweed) -> None:
    s3.put_if_absent("releases/t/a.tar.gz", b"good bytes")
    name = f"{s3.location.prefix}/releases/t/a.tar.gz"
    meta = seaweed.client().head_object(Bucket=BUCKET, Key=name)["Metadata"]
    seaweed.client().put_object(Bucket=BUCKET, Key=name, Body=b"evil bytes", Metadata=meta)
    with pytest.raises(ChannelError, match=r"does not match the sha256 recorded"):
        s3.read("releases/t/a.tar.gz")


def test_the_probe_leaves_nothing_behind(s3: S3Backend, seaweed: Seaweed) -> None:
    s3.put_if_absent("a", b"1")
    s3.put_if_absent("b", b"2")
    assert raw_keys(seaweed, s3.location.prefix) == [
        f"{s3.location.prefix}/a",
        f"{s3.location.prefix}/b",
    ]
    assert list(s3.list()) == ["a", "b"]


def test_probe_objects_are_never_listed(s3: S3Backend, seaweed: Seaweed) -> None:
    stray = f"{s3.location.prefix}/{PROBE_DIR}/left-by-a-killed-publisher"
    seaweed.client().put_object(Bucket=BUCKET, Key=stray, Body=b"1")
    s3.put_if_absent("index.json", b"{}")
    assert list(s3.list()) == ["index.json"]


def test_prefixes_do_not_leak(seaweed: Seaweed, prefix: str, s3_env: None) -> None:
    one = backend_at(seaweed, prefix + "/one")
    other = backend_at(seaweed, prefix + "/one-more")
    one.put_if_absent("index.json", b"1")
    other.put_if_absent("index.json", b"2")
    assert list(one.list()) == ["index.json"]
    blob = other.read("index.json")
    assert blob is not None
    assert blob.data == b"2"


@pytest.mark.parametrize("bad", ["..", "a/../b", "../escape", "a/./b", "a//b", "a\\b"])
def test_prefix_with_dotdot_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"refusing S3 prefix"):
        S3Location(BUCKET, bad)
    with pytest.raises(ConfigError, match=r"refusing S3 prefix"):
        parse_s3_url(f"s3://{BUCKET}/{urllib.parse.quote(bad)}")


def test_s3_urls() -> None:
    loc = parse_s3_url("s3://my-bucket/channels/proj/?endpoint=http://127.0.0.1:9000&region=eu-1")
    assert loc == S3Location("my-bucket", "channels/proj", "http://127.0.0.1:9000", "eu-1")
    assert parse_s3_url(loc.url) == loc
    assert parse_s3_url("s3://my-bucket") == S3Location("my-bucket")
    with pytest.raises(ConfigError, match=r"invalid S3 bucket name"):
        parse_s3_url("s3://My_Bucket/x")
    with pytest.raises(ConfigError, match=r"unknown or repeated"):
        parse_s3_url("s3://my-bucket/x?secret=1")
    with pytest.raises(ConfigError, match=r"must not carry credentials"):
        parse_s3_url("s3://my-bucket/x?endpoint=http://key:secret@127.0.0.1:9000")
    with pytest.raises(ConfigError, match=r"invalid S3 endpoint"):
        parse_s3_url("s3://my-bucket/x?endpoint=ftp://127.0.0.1")
    assert isinstance(open_backend(loc), S3Backend)


def test_missing_bucket_is_one_error(seaweed: Seaweed, prefix: str, s3_env: None) -> None:
    s3 = S3Backend(S3Location("no-such-bucket", prefix, seaweed.endpoint, REGION))
    with pytest.raises(ChannelError, match=r"bucket no-such-bucket does not exist") as err:
        s3.put_if_absent("index.json", b"{}")
    assert err.value.hint
    with pytest.raises(ChannelError, match=r"bucket no-such-bucket does not exist"):
        s3.read("index.json")
    with pytest.raises(ChannelError, match=r"bucket no-such-bucket does not exist"):
        list(s3.list())
    assert "no-such-bucket" not in [b["Name"] for b in seaweed.client().list_buckets()["Buckets"]]


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [("RCTESTPUBLISHER0001", "wrong-secret"), ("AKIAEXPIREDORREVOKED", "whatever")],
)
def test_wrong_credentials_are_one_error(
    seaweed: Seaweed, prefix: str, monkeypatch: pytest.MonkeyPatch, key_id: str, secret: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    s3 = backend_at(seaweed, prefix)
    for attempt in (
        lambda: s3.put_if_absent("index.json", b"{}"),
        lambda: s3.read("index.json"),
        lambda: list(s3.list()),
    ):
        with pytest.raises(ChannelError, match=r"S3 refused the credentials") as err:
            attempt()
        assert secret not in str(err.value)
        assert secret not in (err.value.hint or "")
    assert raw_keys(seaweed, prefix) == []


def test_expired_session_token_is_one_error(
    seaweed: Seaweed, prefix: str, s3_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "expired-session-token")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXPIREDSESSION01")
    with pytest.raises(ChannelError, match=r"S3 refused the credentials"):
        backend_at(seaweed, prefix).put_if_absent("index.json", b"{}")
    assert raw_keys(seaweed, prefix) == []


def test_no_credentials_is_one_error(seaweed: Seaweed, prefix: str) -> None:
    with pytest.raises(ChannelError, match=r"no S3 credentials") as err:
        backend_at(seaweed, prefix).put_if_absent("index.json", b"{}")
    assert "AWS_ACCESS_KEY_ID" in (err.value.hint or "")


def test_unreachable_endpoint_is_one_error(prefix: str, s3_env: None) -> None:
    (port,) = free_ports(1)
    s3 = S3Backend(S3Location(BUCKET, prefix, f"http://127.0.0.1:{port}", REGION))
    with pytest.raises(ChannelError, match=r"cannot reach the S3 endpoint http://127\.0\.0\.1"):
        s3.put_if_absent("index.json", b"{}")
    with pytest.raises(ChannelError, match=r"cannot reach the S3 endpoint"):
        s3.read("index.json")


@pytest.mark.parametrize("mode", ["ignore", "refuse"])
def test_a_server_without_conditional_writes_is_refused_up_front(
    seaweed: Seaweed, prefix: str, s3_env: None, mode: str
) -> None:
    with conditionless_gateway(seaweed.endpoint, mode) as endpoint:
        s3 = S3Backend(S3Location(BUCKET, prefix, endpoint, REGION))
        with pytest.raises(ChannelError, match=r"does not honour conditional writes") as err:
            s3.put_if_absent("releases/t/a", b"x")
        assert "lose a release" in (err.value.hint or "")
        with pytest.raises(ChannelError, match=r"does not honour conditional writes"):
            s3.compare_and_swap("index.json", b"x", None)
    assert raw_keys(seaweed, prefix) == []


def test_the_gateway_really_drops_conditions(seaweed: Seaweed, prefix: str) -> None:
    """The stand-in is honest: without the probe, the second put would win silently."""
    with conditionless_gateway(seaweed.endpoint, "ignore") as endpoint:
        client = seaweed.client(endpoint_url=endpoint)
        key = f"{prefix}/k"
        client.put_object(Bucket=BUCKET, Key=key, Body=b"1", IfNoneMatch="*")
        client.put_object(Bucket=BUCKET, Key=key, Body=b"2", IfNoneMatch="*")
    assert seaweed.client().get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"2"


def test_server_killed_and_restarted(tmp_path: Path, s3_env: None) -> None:
    with running_seaweed(tmp_path) as server:
        server.make_bucket(BUCKET)
        s3 = backend_at(server, "store")
        s3.put_if_absent("releases/t/a", b"before")
        etag = s3.compare_and_swap("index.json", b"v1", None)
        server.kill()
        with pytest.raises(ChannelError, match=r"cannot reach the S3 endpoint"):
            s3.put_if_absent("releases/t/b", b"during")
        with pytest.raises(ChannelError, match=r"cannot reach the S3 endpoint"):
            s3.compare_and_swap("index.json", b"v2", etag)
        server.start()
        blob = s3.read("index.json")
        assert blob is not None
        assert (blob.data, blob.etag) == (b"v1", etag)
        assert s3.put_if_absent("releases/t/a", b"before") is False
        assert s3.put_if_absent("releases/t/b", b"during") is True
        s3.compare_and_swap("index.json", b"v2", etag)
        with pytest.raises(SwapConflict):
            s3.compare_and_swap("index.json", b"v3", etag)
