"""Where a store lives, as a value: a directory or an S3 bucket + prefix (no I/O here).

``s3://BUCKET/PREFIX?endpoint=URL&region=REGION`` names an S3-compatible store; any
other string is a directory (a plain store or a pages checkout). Credentials are never
part of a location: they come from the standard AWS environment and config chain.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from release.errors import ConfigError

if TYPE_CHECKING:
    from release.channel.backends import Backend

# S3 bucket naming rules (lowercase, digits, dots, hyphens; 3-63 characters).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix on an S3-compatible endpoint (``None``: AWS itself)."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        check_bucket(self.bucket)
        object.__setattr__(self, "prefix", check_prefix(self.prefix))
        if self.endpoint_url is not None:
            check_endpoint(self.endpoint_url)

    @property
    def url(self) -> str:
        """``s3://bucket/prefix`` (plus the endpoint and region when set)."""
        query = {k: v for k, v in (("endpoint", self.endpoint_url), ("region", self.region)) if v}
        base = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return base + ("?" + urllib.parse.urlencode(query) if query else "")


def check_bucket(bucket: str) -> str:
    """Raises :class:`ConfigError` unless ``bucket`` is a valid S3 bucket name."""
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ConfigError(
            f"invalid S3 bucket name {bucket!r}",
            hint="3-63 characters: lowercase letters, digits, '.' and '-'",
        )
    return bucket


def check_prefix(prefix: str) -> str:
    """The prefix without surrounding ``/``. Raises :class:`ConfigError` for ``..`` and co."""
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    parts = stripped.split("/")
    if "\\" in stripped or any(p in ("", ".", "..") for p in parts):
        raise ConfigError(
            f"refusing S3 prefix {prefix!r}: not a plain relative path",
            hint="use a prefix like 'channels/myproject' (no '..', '.', '//' or '\\')",
        )
    return stripped


def check_endpoint(url: str) -> str:
    """An ``http(s)://host[:port]`` endpoint without credentials. Raises ConfigError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"invalid S3 endpoint URL {url!r}", hint="use https://host[:port] (http on loopback)"
        )
    if parts.username or parts.password:
        raise ConfigError(
            "the S3 endpoint URL must not carry credentials",
            hint="credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the "
            "AWS config chain",
        )
    return url


def parse_s3_url(url: str) -> S3Location:
    """``s3://bucket/prefix?endpoint=URL&region=R`` as a location. Raises ConfigError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"not an S3 URL: {url!r}", hint="use s3://BUCKET/PREFIX")
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"endpoint", "region"})
    if unknown or any(len(v) != 1 for v in query.values()):
        raise ConfigError(
            f"unknown or repeated S3 URL parameters in {url!r}: {', '.join(unknown) or 'repeat'}",
            hint="parameters: endpoint=URL, region=NAME",
        )
    return S3Location(
        bucket=parts.netloc,
        prefix=urllib.parse.unquote(parts.path),
        endpoint_url=query.get("endpoint", [None])[0] or None,
        region=query.get("region", [None])[0] or None,
    )


def open_backend(spec: str | S3Location, *, durable: bool = True) -> Backend:
    """The backend of an ``s3://`` URL, an :class:`S3Location` or a directory path.

    boto3 is imported only for S3. Raises ConfigError for a malformed location.
    """
    if isinstance(spec, S3Location) or spec.startswith("s3://"):
        try:
            from release.channel.backends.s3 import S3Backend
        except ImportError as exc:
            raise ConfigError(
                f"publishing to S3 needs boto3 ({exc.name} is not installed)",
                hint="pip install 'release-channels[s3]'",
            ) from None

        return S3Backend(spec if isinstance(spec, S3Location) else parse_s3_url(spec))
    from release.channel.backends.directory import DirectoryBackend

    return DirectoryBackend(Path(spec), durable=durable)
