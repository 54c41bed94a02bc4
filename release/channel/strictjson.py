"""Strict JSON for channel documents (pure): parse bytes, write canonical bytes.

The channel index is read by clients that must not be confused by documents a
lenient parser would accept: a byte-order mark, duplicate keys (two readers may
pick different values), ``NaN``/``Infinity``, non-integer numbers, integers a
JavaScript reader rounds (``>= 2**53``), times that are not UTC. All of those are
refused here with :class:`DocumentError`, before any field is looked at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, NoReturn

from release.errors import ChannelError

MAX_SAFE_INTEGER = 2**53 - 1
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_BAD_SEGMENT_RE = re.compile(r"(?:^|/)\.{0,2}(?:/|$)")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class DocumentError(ChannelError, ValueError):
    """A channel document is malformed or breaks an invariant of the format."""


def fail(message: str, hint: str | None = None) -> NoReturn:
    raise DocumentError(message, hint=hint)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            fail(f"duplicate key {key!r} in JSON object")
        result[key] = value
    return result


def _parse_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        fail(f"integer {text[:30]} is outside the safe range (|n| < 2**53)")
    return value


def _parse_float(text: str) -> NoReturn:
    fail(f"number {text[:30]} is not an integer; channel documents use integers only")


def _parse_constant(text: str) -> NoReturn:
    fail(f"{text} is not valid JSON")


def loads(data: bytes, *, what: str = "document") -> dict[str, Any]:
    """Parse ``data`` as one strict JSON object. Raises :class:`DocumentError`."""
    if not isinstance(data, bytes | bytearray):
        fail(f"{what}: expected bytes")
    if data.startswith(b"\xef\xbb\xbf"):
        fail(f"{what} starts with a byte-order mark", "write UTF-8 without BOM")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"{what} is not UTF-8: {exc.reason} at byte {exc.start}")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except DocumentError as exc:
        fail(f"{what}: {exc.message}")
    except (ValueError, RecursionError) as exc:
        fail(f"{what} is not valid JSON: {exc}")
    if not isinstance(value, dict):
        fail(f"{what} must be a JSON object")
    return value


def dumps(obj: Mapping[str, Any]) -> bytes:
    """Canonical bytes: sorted keys, compact separators, UTF-8, trailing newline.

    The same document always gives the same bytes, so re-publishing is a no-op and
    pins (sha256 of these bytes) are reproducible.
    """
    text = json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8") + b"\n"


def _text(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _around(doc: Mapping[str, Any], field: str) -> tuple[bytes, bytes]:
    """What :func:`dumps` writes before and after the items of list ``field`` of ``doc``."""
    head = _text({k: v for k, v in doc.items() if k < field})[:-1]
    tail = _text({k: v for k, v in doc.items() if k > field})[1:]
    head += (b"," if len(head) > 1 else b"") + _text(field) + b":["
    tail = b"]" + (b"," if len(tail) > 1 else b"") + tail + b"\n"
    return head, tail


def dumps_reusing(
    new: Mapping[str, Any], *, old: Mapping[str, Any], old_bytes: bytes, field: str
) -> bytes:
    """:func:`dumps` of ``new``, reusing ``old_bytes`` (the bytes :func:`dumps` wrote for
    ``old``) for the items of list ``field`` that did not change.

    Publishing appends one release to a line document and replaces one line's entry in
    the channel document: serializing the other thousands of records again is most of
    a publication's cost. When ``new[field]`` is ``old[field]`` plus appended items, or
    with exactly one item replaced, only those items and the other fields are written;
    anything else (or ``old_bytes`` that are not what :func:`dumps` gives around the
    list) falls back to :func:`dumps`. The result is always ``dumps(new)``.
    """
    old_items, new_items = old.get(field), new.get(field)
    if (
        not isinstance(old_items, list)
        or not isinstance(new_items, list)
        or old.keys() != new.keys()
    ):
        return dumps(new)
    head, tail = _around(old, field)
    if not (old_bytes.startswith(head) and old_bytes.endswith(tail)):
        return dumps(new)
    middle = old_bytes[len(head) : len(old_bytes) - len(tail)]
    same = 0
    limit = min(len(old_items), len(new_items))
    while same < limit and old_items[same] == new_items[same]:
        same += 1
    if same == len(old_items):  # appended (or nothing changed)
        added = b",".join(_text(item) for item in new_items[same:])
        body = middle + (b"," if middle and added else b"") + added
    elif len(old_items) == len(new_items) and old_items[same + 1 :] == new_items[same + 1 :]:
        was = _text(old_items[same])
        at = middle.find(was)
        end = at + len(was)
        if (
            at < 0
            or middle.find(was, at + 1) >= 0  # not one item's text alone: play safe
            or (at > 0 and middle[at - 1 : at] != b",")
            or (end < len(middle) and middle[end : end + 1] != b",")
        ):
            return dumps(new)
        body = middle[:at] + _text(new_items[same]) + middle[end:]
    else:
        return dumps(new)
    new_head, new_tail = _around(new, field)
    return new_head + body + new_tail


# --- typed field readers (``where`` names the field in error messages) ---


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(f"{where} must be an object")
    return value


def req(d: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in d:
        fail(f"{where}: missing field {key!r}")
    return d[key]


def string(value: Any, where: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value):
        fail(f"{where} must be a{'' if empty else ' non-empty'} string")
    return value


def opt_string(value: Any, where: str) -> str | None:
    return None if value is None else string(value, where)


def integer(value: Any, where: str, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        fail(f"{where} must be an integer")
    if value < minimum:
        fail(f"{where} must be >= {minimum}, not {value}")
    if value > MAX_SAFE_INTEGER:
        fail(f"{where} is outside the safe integer range")
    return value


def array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        fail(f"{where} must be an array")
    return value


def sha256(value: Any, where: str) -> str:
    text = string(value, where)
    if not _SHA256_RE.fullmatch(text):
        fail(f"{where} is not a sha256 digest (64 lowercase hex digits)")
    return text


def time(value: Any, where: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds) → aware datetime."""
    text = string(value, where)
    if not _TIME_RE.fullmatch(text):
        fail(f"{where} {text[:40]!r} is not a UTC time YYYY-MM-DDTHH:MM:SSZ")
    try:  # by hand: strptime's first call imports _strptime (milliseconds on a read path)
        return datetime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
            tzinfo=UTC,
        )
    except ValueError:
        fail(f"{where} {text!r} is not a real time")


def format_time(value: datetime) -> str:
    """Aware datetime → ``YYYY-MM-DDTHH:MM:SSZ``. Raises :class:`DocumentError` if naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        fail("times must be timezone-aware (UTC)")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(value: Any, where: str) -> date | None:
    if value is None:
        return None
    text = string(value, where)
    if not _DATE_RE.fullmatch(text):
        fail(f"{where} {text[:40]!r} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{where} {text!r} is not a real date")


def format_day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def relpath(value: Any, where: str) -> str:
    """A relative POSIX path inside the store: no ``..``, no absolute path, no URL scheme."""
    text = string(value, where)
    if _SCHEME_RE.match(text) or text.startswith(("/", "\\")) or "\\" in text:
        fail(f"{where} {text[:80]!r} must be a relative path inside the channel store")
    if _BAD_SEGMENT_RE.search(text):
        fail(f"{where} {text[:80]!r} must not contain '..', '.' or empty segments")
    if _CONTROL_RE.search(text):
        fail(f"{where} contains control characters")
    return text


def unknown(d: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The unknown fields of ``d``: kept so they survive a round trip."""
    return {k: v for k, v in d.items() if k not in known}
