"""A channel store on S3-compatible object storage, with conditional writes (boto3).

- :meth:`S3Backend.put_if_absent` sends ``If-None-Match: *``: the object is created
  once. When it exists, its recorded sha256 decides: the same digest is a no-op, a
  different one raises :class:`ObjectExists`. An object that release-channels did not
  write (no ``x-amz-meta-release-channels``) is refused and never overwritten.
- :meth:`S3Backend.compare_and_swap` sends ``If-Match: <etag>`` (or ``If-None-Match: *``
  to create): it replaces the object only if nobody else did first; a ``412`` raises
  :class:`SwapConflict`, and the store above re-reads, rebuilds and retries.
- Before the first write the backend checks the bucket and **probes** that the server
  honours both conditions (a second ``If-None-Match: *`` put must fail, a stale
  ``If-Match`` must fail). A server that ignores or refuses them is refused up front:
  never a silent last-writer-wins.

Immutable objects get ``Cache-Control: public, max-age=31536000, immutable``, mutable
ones a short max-age (S3 adds the ``ETag``); every object gets a ``Content-Type``.
Credentials come only from the standard AWS environment and config chain; they never
appear in messages. Every failure is a :class:`~release.errors.ChannelError` naming the
key and the store.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import botocore.exceptions as bx

from release.channel.backends import (
    IMMUTABLE_CACHE,
    MUTABLE_CACHE,
    Blob,
    ObjectExists,
    SwapConflict,
    check_key,
    check_list_prefix,
)
from release.channel.backends.location import S3Location
from release.errors import ChannelError

# Marks objects written by release-channels; anything else under the prefix is foreign.
OWNER_META = "release-channels"
SHA256_META = "sha256"
OWNER_VALUE = "1"
# Probe objects for the conditional-write check (deleted right after; never listed).
PROBE_DIR = ".release-channels-probe"

_CONTENT_TYPES = (
    (".sigstore.json", "application/json"),
    (".intoto.jsonl", "application/jsonl"),
    (".json", "application/json"),
    (".html", "text/html; charset=utf-8"),
    (".xml", "application/xml"),
    (".atom", "application/atom+xml"),
    (".sh", "text/x-shellscript; charset=utf-8"),
    (".ps1", "text/plain; charset=utf-8"),
    (".txt", "text/plain; charset=utf-8"),
    (".md", "text/markdown; charset=utf-8"),
    (".tar.gz", "application/gzip"),
    (".tgz", "application/gzip"),
    (".gz", "application/gzip"),
    (".zip", "application/zip"),
    (".whl", "application/zip"),
    (".pem", "application/x-pem-file"),
)
_TEXT_NAMES = {"SHA256SUMS": "text/plain; charset=utf-8"}

_CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
    "TokenRefreshRequired",
    "RequestExpired",
    "AuthorizationHeaderMalformed",
    "InvalidClientTokenId",
}
_CONDITION_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
_UNSUPPORTED_CODES = {"NotImplemented", "501", "InvalidArgument", "InvalidRequest"}
# What boto3 raises: HTTP errors (ClientError) and transport/credential errors.
_BOTO_ERRORS = (bx.BotoCoreError, bx.ClientError)


def content_type(key: str) -> str:
    """The ``Content-Type`` of a store object, from its name."""
    name = key.rsplit("/", 1)[-1]
    if name in _TEXT_NAMES:
        return _TEXT_NAMES[name]
    lower = name.lower()
    for suffix, ctype in _CONTENT_TYPES:
        if lower.endswith(suffix):
            return ctype
    return "application/octet-stream"


def _code(exc: Any) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _meta(response: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (response.get("Metadata") or {}).items()}


def _status(exc: Any) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


class S3Backend:
    """The :class:`~release.channel.backends.Backend` of an S3 bucket + prefix.

    ``client`` (a boto3 S3 client) is for tests; by default one is built from the
    location and the standard AWS credential chain.
    """

    def __init__(self, location: S3Location, *, client: Any = None) -> None:
        self.location = location
        self._client = client
        self._checked = False
        # What this process knows without asking again: the sha256 of immutable objects
        # it created or confirmed, and the etags of versions of ours it read or wrote
        # (a swap from one of those needs no ownership check first).
        self._digests: dict[str, str] = {}
        self._ours: dict[str, str] = {}
        self._check_lock = threading.Lock()

    # --- plumbing --------------------------------------------------------------

    @property
    def description(self) -> str:
        return self.location.url

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _make_client(self.location)
        return self._client

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.location.prefix}/{key}" if self.location.prefix else key

    def _error(self, action: str, key: str, exc: Exception) -> ChannelError:
        """One clear error for a failed S3 call (never the credentials themselves)."""
        where = f"{key} in {self.description}" if key else self.description
        if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
            return ChannelError(
                f"no S3 credentials to {action} {where}",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in "
                "the environment; credentials never go in the repository",
            )
        if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
            endpoint = self.location.endpoint_url or "the AWS S3 endpoint"
            return ChannelError(
                f"cannot reach the S3 endpoint {endpoint} to {action} {where}",
                hint="check endpoint-url and the network; nothing was published",
            )
        if isinstance(exc, bx.BotoCoreError):
            return ChannelError(
                f"cannot {action} {where}: {type(exc).__name__}",
                hint="a network or client error; re-run to resume (published objects "
                "are kept, the index moves last)",
            )
        code, status = _code(exc), _status(exc)
        if code in _CREDENTIAL_CODES or (status == 403 and code in ("403", "")):
            return ChannelError(
                f"S3 refused the credentials ({code or status}) to {action} {where}",
                hint="the access key is wrong, expired or revoked; refresh AWS_* credentials",
            )
        if code == "AccessDenied":
            return ChannelError(
                f"S3 denied access to {action} {where}",
                hint="grant s3:GetObject, s3:PutObject, s3:ListBucket (and s3:DeleteObject "
                "for the probe) on the bucket and prefix",
            )
        if code == "NoSuchBucket" or (status == 404 and not key):
            return ChannelError(
                f"the S3 bucket {self.location.bucket} does not exist ({self.description})",
                hint="create the bucket first (release-channels never creates buckets)",
            )
        return ChannelError(
            f"S3 could not {action} {where}: {code or status} {exc}",
            hint="re-run to resume; published objects are kept and the index moves last",
        )

    # --- checks ----------------------------------------------------------------

    def check(self, *, probe: bool = True) -> None:
        """Check the bucket, the credentials and that conditional writes are honoured.

        Runs once, before the first write (``probe=False``: the bucket and credentials
        only, writing nothing). Raises :class:`ChannelError`.
        """
        with self._check_lock:
            if self._checked:
                return
            self._head_bucket()
            if probe:
                self._probe_conditional_writes()
                self._checked = True

    def _head_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.location.bucket)
        except _BOTO_ERRORS as exc:
            raise self._error("access", "", exc) from None

    def _probe_conditional_writes(self) -> None:
        probe = self._key(f"{PROBE_DIR}/{uuid.uuid4().hex}")
        refused = ChannelError(
            f"the S3 server at {self.description} does not honour conditional writes "
            "(If-None-Match / If-Match)",
            hint="publishing there could silently lose a release to a concurrent "
            "publisher; use a server with conditional writes (AWS S3, R2, GCS, MinIO, "
            "SeaweedFS >= 3.80, Ceph)",
        )
        bucket = self.location.bucket
        try:
            try:
                first = self.client.put_object(Bucket=bucket, Key=probe, Body=b"1", IfNoneMatch="*")
            except bx.ClientError as exc:
                if _code(exc) in _UNSUPPORTED_CODES or _status(exc) in (400, 501):
                    raise refused from None
                raise
            for kwargs in (
                {"IfNoneMatch": "*"},
                {"IfMatch": '"0123456789abcdef0123456789abcdef"'},
            ):
                try:
                    self.client.put_object(Bucket=bucket, Key=probe, Body=b"2", **kwargs)
                except bx.ClientError as exc:
                    if _code(exc) in _CONDITION_CODES or _status(exc) == 412:
                        continue
                    if _code(exc) in _UNSUPPORTED_CODES or _status(exc) in (400, 501):
                        raise refused from None
                    raise
                raise refused
            if not first.get("ETag"):
                raise refused
        except _BOTO_ERRORS as exc:
            raise self._error("write the probe object", probe, exc) from None
        finally:
            # Best effort: a stray probe is harmless and never listed.
            with contextlib.suppress(*_BOTO_ERRORS):
                self.client.delete_object(Bucket=bucket, Key=probe)

    # --- the Backend protocol ----------------------------------------------------

    def read(self, key: str) -> Blob | None:
        """The bytes of ``key`` and its S3 ETag, or None. Raises ChannelError.

        Our objects are checked against the sha256 recorded when they were written.
        """
        name = self._key(key)
        try:
            response = self.client.get_object(Bucket=self.location.bucket, Key=name)
            data = response["Body"].read()
        except _BOTO_ERRORS as exc:
            if _code(exc) != "NoSuchBucket" and (_code(exc) == "NoSuchKey" or _status(exc) == 404):
                return None
            raise self._error("read", key, exc) from None
        recorded = _meta(response).get(SHA256_META)
        if recorded is not None and recorded != hashlib.sha256(data).hexdigest():
            raise ChannelError(
                f"{key} in {self.description} does not match the sha256 recorded when it "
                "was written",
                hint="the object was altered or truncated in the bucket; restore it from a "
                "mirror with `release channel sync`",
            )
        etag = str(response["ETag"])
        if _meta(response).get(OWNER_META) == OWNER_VALUE:
            self._ours[key] = etag
        return Blob(data, etag)

    def digest(self, key: str) -> str | None:
        """The sha256 recorded with our object (one HEAD, none for an immutable object
        this backend created), else of its bytes; None if absent."""
        if key in self._digests:
            return self._digests[key]
        head = self._head(key, self._key(key))
        if head is None:
            return None
        recorded = _meta(head).get(SHA256_META)
        if recorded is not None and _meta(head).get(OWNER_META) == OWNER_VALUE:
            return recorded
        blob = self.read(key)
        return None if blob is None else hashlib.sha256(blob.data).hexdigest()

    def _head(self, key: str, name: str, **conditions: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(
                Bucket=self.location.bucket, Key=name, **conditions
            )
        except _BOTO_ERRORS as exc:
            code, status = _code(exc), _status(exc)
            if code in ("NoSuchKey", "404") or status == 404:
                return None
            if code in _CONDITION_CODES or status == 412:
                raise SwapConflict(
                    f"{key} in {self.description} changed since it was read",
                    hint="another publisher moved it first; re-read and retry",
                ) from None
            raise self._error("read", key, exc) from None
        return head

    def _refuse_foreign(self, key: str, head: dict[str, Any]) -> str | None:
        """The recorded sha256 of one of our objects; raises for a foreign one."""
        meta = _meta(head)
        if meta.get(OWNER_META) != OWNER_VALUE:
            raise ChannelError(
                f"{key} in {self.description} was not written by release-channels; "
                "refusing to overwrite it",
                hint="publish to an empty prefix, or remove the foreign object yourself",
            )
        return meta.get(SHA256_META)

    def _put(self, key: str, data: bytes, digest: str, cache: str, **conditions: str) -> str:
        response = self.client.put_object(
            Bucket=self.location.bucket,
            Key=self._key(key),
            Body=data,
            CacheControl=cache,
            ContentType=content_type(key),
            Metadata={OWNER_META: OWNER_VALUE, SHA256_META: digest},
            # The server checks the bytes it received (S3 and every compatible server).
            ContentMD5=base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode(),
            **conditions,
        )
        return str(response["ETag"])

    def put_if_absent(self, key: str, data: bytes, *, immutable: bool = True) -> bool:
        """Create ``key`` with ``If-None-Match: *``. False if the same bytes are there.

        Raises :class:`ObjectExists` (different digest), ChannelError (a foreign
        object, or S3 failed).
        """
        name = self._key(key)
        self.check()
        digest = hashlib.sha256(data).hexdigest()
        cache = IMMUTABLE_CACHE if immutable else MUTABLE_CACHE
        try:
            self._put(key, data, digest, cache, IfNoneMatch="*")
            if immutable:
                self._digests[key] = digest
            return True
        except _BOTO_ERRORS as exc:
            if _code(exc) not in _CONDITION_CODES and _status(exc) != 412:
                raise self._error("write", key, exc) from None
        head = self._head(key, name)
        if head is None:  # deleted in between: nothing of ours to compare with
            raise ChannelError(
                f"{key} in {self.description} appeared and vanished during the write",
                hint="another process is deleting objects under the prefix; re-run",
            )
        theirs = self._refuse_foreign(key, head)
        if theirs == digest:
            if immutable:
                self._digests[key] = digest
            return False
        raise ObjectExists(
            f"{key} already exists in {self.description} with different bytes "
            f"(sha256 {(theirs or '?')[:16]}…, new sha256 {digest[:16]}…)",
            hint="published files are immutable; it is never overwritten",
        )

    def compare_and_swap(self, key: str, data: bytes, expected_etag: str | None) -> str:
        """Replace ``key`` with ``If-Match`` (``If-None-Match: *`` when None).

        Returns the new ETag. Raises :class:`SwapConflict` (412) or ChannelError.
        """
        name = self._key(key)
        self.check()
        if expected_etag is None:
            conditions = {"IfNoneMatch": "*"}
        else:
            if self._ours.get(key) != expected_etag:
                head = self._head(key, name, IfMatch=expected_etag)
                if head is None:
                    raise SwapConflict(
                        f"{key} in {self.description} was removed since it was read",
                        hint="another process changed the prefix; re-read and retry",
                    )
                self._refuse_foreign(key, head)
            conditions = {"IfMatch": expected_etag}
        digest = hashlib.sha256(data).hexdigest()
        try:
            etag = self._put(key, data, digest, MUTABLE_CACHE, **conditions)
            self._ours[key] = etag
            return etag
        except _BOTO_ERRORS as exc:
            if _code(exc) in _CONDITION_CODES or _status(exc) == 412:
                raise SwapConflict(
                    f"{key} in {self.description} changed since it was read",
                    hint="another publisher moved it first; re-read and retry",
                ) from None
            if _status(exc) == 404 and _code(exc) != "NoSuchBucket":
                raise SwapConflict(f"{key} in {self.description} was removed") from None
            raise self._error("write", key, exc) from None

    def list(self, prefix: str = "") -> Iterator[str]:
        """The keys starting with ``prefix``, sorted. Raises ChannelError."""
        base = f"{self.location.prefix}/" if self.location.prefix else ""
        probe = base + PROBE_DIR + "/"
        keys: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=base + check_list_prefix(prefix)
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    name = str(item["Key"])
                    if not name.startswith(probe):
                        keys.append(name[len(base) :])
        except _BOTO_ERRORS as exc:
            raise self._error("list", prefix, exc) from None
        # Some S3-compatible servers (SeaweedFS) list in directory order, not byte order.
        yield from sorted(keys)


_LOADER: list[Any] = []
_LOADER_LOCK = threading.Lock()


def _botocore_session() -> Any:
    """A new botocore session (credentials resolved afresh) sharing one data loader, so
    the service model JSON is parsed once per process, not once per client."""
    import botocore.session

    session = botocore.session.get_session()
    with _LOADER_LOCK:
        if _LOADER:
            session.register_component("data_loader", _LOADER[0])
        else:
            _LOADER.append(session.get_component("data_loader"))
    return session


def _make_client(location: S3Location) -> Any:
    """A boto3 S3 client on the standard credential chain. Raises ChannelError."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        connect_timeout=5,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=32,  # sync copies in parallel
        parameter_validation=False,  # our calls are fixed; saves time on every request
        # S3-compatible servers (R2, GCS, older MinIO) reject trailing checksums.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path" if location.endpoint_url else "auto"},
    )
    try:
        session = boto3.session.Session(
            botocore_session=_botocore_session(), region_name=location.region
        )
        return session.client(
            "s3",
            endpoint_url=location.endpoint_url,
            region_name=location.region or session.region_name or "us-east-1",
            config=config,
        )
    except bx.BotoCoreError as exc:
        raise ChannelError(
            f"cannot set up an S3 client for {location.url}: {type(exc).__name__}",
            hint="check AWS_PROFILE / AWS_CONFIG_FILE and the region",
        ) from None
