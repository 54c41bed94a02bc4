"""SLSA v1 provenance for a release, as an in-toto Statement v1 (pure).

The pipeline signs the statement as DSSE into ``provenance.intoto.sigstore.json``
(see :meth:`release.adapters.sigstore.ReleaseSigner.sign_statement`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from release.errors import ReleaseError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://github.com/release-channels/release-channels/buildtypes/release/v1"
PROVENANCE_NAME = "provenance.intoto.sigstore.json"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _timestamp(moment: datetime, what: str) -> str:
    if moment.tzinfo is None:
        raise ReleaseError(f"provenance {what} time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_statement(
    *,
    subjects: Sequence[tuple[str, str]],
    repository: str,
    ref: str,
    commit: str,
    version: str,
    channel: str,
    builder_id: str,
    invocation_id: str,
    started: datetime,
    finished: datetime,
) -> dict[str, Any]:
    """An in-toto v1 Statement with an SLSA v1 provenance predicate.

    ``subjects`` are ``(file name, sha256 hex)`` pairs; names must be unique.
    Raises :class:`ReleaseError` on an empty or malformed subject, a commit that
    is not a full hex object id, naive datetimes or ``finished < started``.
    """
    if not subjects:
        raise ReleaseError("provenance needs at least one subject")
    seen: set[str] = set()
    subject_list = []
    for name, digest in subjects:
        digest = digest.lower()
        if not name or "/" in name:
            raise ReleaseError(f"provenance subject {name!r} must be a plain file name")
        if name in seen:
            raise ReleaseError(f"provenance subject {name!r} is listed twice")
        if not _SHA256.match(digest):
            raise ReleaseError(
                f"provenance subject {name!r}: {digest!r} is not a sha256 hex digest"
            )
        seen.add(name)
        subject_list.append({"name": name, "digest": {"sha256": digest}})
    commit = commit.lower()
    if not _COMMIT.match(commit):
        raise ReleaseError(f"provenance commit {commit!r} is not a full git object id")
    started_on = _timestamp(started, "start")
    finished_on = _timestamp(finished, "finish")
    if finished < started:
        raise ReleaseError("provenance: the build finished before it started")
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject_list,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "repository": repository,
                    "ref": ref,
                    "version": version,
                    "channel": channel,
                },
                "internalParameters": {},
                "resolvedDependencies": [
                    {
                        "uri": f"git+{repository}@{ref}",
                        "digest": {"gitCommit": commit},
                    }
                ],
            },
            "runDetails": {
                "builder": {"id": builder_id},
                "metadata": {
                    "invocationId": invocation_id,
                    "startedOn": started_on,
                    "finishedOn": finished_on,
                },
            },
        },
    }


def subject_digests(statement: dict[str, Any]) -> dict[str, str]:
    """``{name: sha256}`` of a statement's subjects (unknown shapes are skipped)."""
    result: dict[str, str] = {}
    for subject in statement.get("subject") or []:
        if isinstance(subject, dict) and isinstance(subject.get("digest"), dict):
            digest = subject["digest"].get("sha256")
            if isinstance(digest, str):
                result[str(subject.get("name", ""))] = digest.lower()
    return result
