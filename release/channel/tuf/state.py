"""Client state, one directory per channel store, keyed by its canonical source.

The canonical source of a directory is its resolved absolute path; of a URL, the
normalised URL (lower-case scheme and host, no default port, a trailing ``/``). Two
unrelated ``dist/channel`` directories therefore never share state, and
``./dist/channel`` and its absolute path do.

Layout under the state directory (``$XDG_STATE_HOME/release-channels/client``)::

    <sha256(canonical source)[:24]>/
        state.json          what this client verified last (format 2, JSON)
        metadata/           python-tuf's trusted metadata (root history, timestamp, …)

``state.json`` holds the source, the sha256 of every root given out of band that
led to the trusted root, the verdict cache (keys of signatures already verified) and
the answers of the fast path. It is written only after a verified refresh. A state
file that does not parse is renamed aside (``state.json.corrupt-<time>``) with an
error naming both paths: never trusted, never silently reset.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from release.channel.fetch import Fetcher, FetchError, NotFound, read_capped
from release.errors import StateError, UsageError
from release.files import write_atomic

STATE_FORMAT = 2
MAX_VERDICTS = 2048


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "release-channels" / "client"


def canonical_source(source: str) -> str:
    """The resolved absolute path of a directory, or the normalised URL. Raises UsageError."""
    if "://" in source:
        from release.channel.fetch import check_url

        parts = check_url(source)
        host = (parts.hostname or "").lower()
        if ":" in host:
            host = f"[{host}]"
        default = {"https": 443, "http": 80}[parts.scheme]
        netloc = host if parts.port in (None, default) else f"{host}:{parts.port}"
        url_path = parts.path or "/"
        while "//" in url_path:
            url_path = url_path.replace("//", "/")
        if not url_path.endswith("/"):
            url_path += "/"
        return urllib.parse.urlunsplit((parts.scheme, netloc, url_path, "", ""))
    try:
        resolved: Path | None = Path(source).resolve(strict=True)
    except (OSError, RuntimeError):
        resolved = None
    if resolved is None or not resolved.is_dir():
        raise UsageError(
            f"channel source {_printable(source)} is not a directory or URL",
            hint="pass --source DIR or --source https://…",
        )
    return str(resolved)


def _printable(text: str) -> str:
    """A path that may hold undecodable bytes (surrogate escapes), safe to print."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class ClientState:
    """The state of one source: ``state.json`` plus python-tuf's metadata directory."""

    def __init__(self, state_dir: Path, canonical: str) -> None:
        self.canonical = canonical
        key = hashlib.sha256(os.fsencode(canonical)).hexdigest()[:24]
        self.directory = Path(state_dir) / key
        self.path = self.directory / "state.json"
        self.metadata_dir = self.directory / "metadata"
        self._data: dict[str, Any] | None = None

    # --- reading -------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        """The saved state ({} when there is none). Raises StateError (file renamed aside)."""
        if self._data is not None:
            return self._data
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self._data = {}
            return self._data
        except OSError as exc:
            raise StateError(
                f"cannot read client state {self.path}: {exc.strerror}",
                hint="check the permissions of the state directory (--state-dir)",
            ) from exc
        problem = _check(raw, self.canonical)
        if problem is not None:
            aside = self.set_aside()
            raise StateError(
                f"client state {self.path} is corrupt ({problem}); moved it to {aside.name}",
                hint="nothing from it was trusted; the next run starts again from the "
                "root of trust (rollback protection restarts from that root)",
            )
        data: dict[str, Any] = json.loads(raw)
        self._data = data
        return data

    def set_aside(self) -> Path:
        """Rename ``state.json`` and the metadata beside it; returns the new state path."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"state.json.corrupt-{stamp}")
        try:
            os.replace(self.path, aside)
            if self.metadata_dir.exists():
                os.replace(self.metadata_dir, self.directory / f"metadata.corrupt-{stamp}")
        except OSError as exc:
            raise StateError(
                f"client state {self.path} is corrupt and cannot be moved aside: {exc.strerror}",
                hint=f"move {self.directory} away by hand",
            ) from exc
        return aside

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def has_trusted_root(self) -> bool:
        return (self.metadata_dir / "root.json").exists()

    def trusted_root_bytes(self, version: int | None = None) -> bytes | None:
        """The trusted root (newest, or one version of its history), or None."""
        path = (
            self.metadata_dir / "root.json"
            if version is None
            else self.metadata_dir / "root_history" / f"{version}.root.json"
        )
        try:
            return path.read_bytes()
        except OSError:
            return None

    # --- writing -------------------------------------------------------------

    def prepare(self) -> None:
        """Create the metadata directory. Raises StateError naming it."""
        try:
            self.metadata_dir.mkdir(parents=True, exist_ok=True)
            probe = self.metadata_dir / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StateError(
                f"cannot write client state in {self.directory}: {exc.strerror}",
                hint="pass a writable --state-dir (or set XDG_STATE_HOME)",
            ) from exc

    def save(self, data: dict[str, Any]) -> None:
        """Write ``state.json`` atomically. Raises StateError naming it."""
        payload = {**data, "format": STATE_FORMAT, "source": self.canonical}
        verdicts = payload.get("verdicts")
        if isinstance(verdicts, list) and len(verdicts) > MAX_VERDICTS:
            payload["verdicts"] = verdicts[-MAX_VERDICTS:]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomic(
                self.path, json.dumps(payload, indent=1, sort_keys=True).encode(), durable=False
            )
        except OSError as exc:
            raise StateError(
                f"cannot write client state {self.path}: {exc.strerror}",
                hint="pass a writable --state-dir (or set XDG_STATE_HOME); the verification "
                "itself succeeded",
            ) from exc
        self._data = payload

    def forget(self) -> bool:
        """Delete this source's state. True if there was any. Raises StateError."""
        if not self.directory.exists():
            return False
        try:
            import shutil  # not on the fast path of every read

            shutil.rmtree(self.directory)
        except OSError as exc:
            raise StateError(
                f"cannot remove client state {self.directory}: {exc.strerror}"
            ) from exc
        return True

    def describe(self) -> dict[str, Any]:
        """What ``release channel state show`` prints (no secrets: there are none)."""
        data = self.load()
        root = self.trusted_root_bytes()
        info: dict[str, Any] = {
            "source": self.canonical,
            "state_file": str(self.path),
            "exists": self.exists,
            "trusted_root_version": None,
            "trusted_root_sha256": None,
        }
        if root is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                info["trusted_root_version"] = json.loads(root)["signed"]["version"]
            info["trusted_root_sha256"] = hashlib.sha256(root).hexdigest()
        for key in ("verified_at", "timestamp_version", "snapshot_version", "anchors"):
            if key in data:
                info[key] = data[key]
        info["cached_answers"] = len(data.get("answers", {}))
        info["cached_verdicts"] = len(data.get("verdicts", []))
        return info


def _check(raw: bytes, canonical: str) -> str | None:
    """Why ``raw`` is not a usable state file, or None."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"not JSON: {exc}"
    if not isinstance(data, dict):
        return "not a JSON object"
    if data.get("format") != STATE_FORMAT:
        return f"format {data.get('format')!r}, expected {STATE_FORMAT}"
    if data.get("source") != canonical:
        return f"it belongs to source {data.get('source')!r}"
    types: dict[str, type | tuple[type, ...]] = {
        "anchors": list,
        "verdicts": list,
        "answers": dict,
        "channels": dict,
        "timestamp_sha256": str,
        "timestamp_version": int,
        "root_version": int,
        "valid_until": str,
        "verified_at": str,
    }
    for key, expected in types.items():
        if key in data and not isinstance(data[key], expected):
            return f"{key} has the wrong type"
    return None


class VerdictCache:
    """Signature verdicts already reached (``keys.VerdictCache``), kept in ``state.json``.

    Keys are salted with the fingerprint of the Sigstore trust the root names, so a
    verdict reached under one trust root never vouches for a signature under another.
    """

    def __init__(self, known: list[str], salt: str) -> None:
        self._known = dict.fromkeys(known)
        self._salt = salt
        self.added = 0

    def _key(self, key: str) -> str:
        return hashlib.sha256(f"{self._salt}:{key}".encode()).hexdigest()

    def get(self, key: str) -> bool:
        return self._key(key) in self._known

    def put(self, key: str) -> None:
        k = self._key(key)
        if k not in self._known:
            self._known[k] = None
            self.added += 1

    def keys(self) -> list[str]:
        return list(self._known)


# --- the fast path -------------------------------------------------------------------


def answer_key(*parts: str | None) -> str:
    """The key of a remembered answer (command and its arguments)."""
    return "\x1f".join(p or "" for p in parts)


def fast_answer(
    state: ClientState, fetcher: Fetcher, key: str, now: datetime, anchor_sha: str | None
) -> Any | None:
    """A remembered answer, if the store provably did not change since it was verified:
    no newer root, the same timestamp bytes, nothing expired, and the same anchor.
    None means "run the full TUF workflow". Reads two small files; imports no tuf."""
    data = state.load()
    answers = data.get("answers")
    if not isinstance(answers, Mapping) or key not in answers:
        return None
    if anchor_sha is not None and anchor_sha not in data.get("anchors", []):
        return None
    try:
        valid_until = datetime.fromisoformat(str(data["valid_until"]))
        if valid_until.tzinfo is None or now >= valid_until:
            return None
        root_version = int(data["root_version"])
    except (KeyError, ValueError, TypeError):
        return None
    try:
        read_capped(fetcher, f"metadata/{root_version + 1}.root.json", 512 * 1024, "root")
        return None  # a newer root: the full workflow must rotate to it
    except NotFound:
        pass
    except FetchError:
        return None
    try:
        ts = read_capped(fetcher, "metadata/timestamp.json", 16 * 1024, "timestamp")
    except FetchError:
        return None
    if hashlib.sha256(ts).hexdigest() != data.get("timestamp_sha256"):
        return None
    return answers[key]
