from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from release.errors import ReleaseError
from release.provenance import PREDICATE_TYPE, STATEMENT_TYPE, build_statement, subject_digests

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ARGS = {
    "repository": "https://github.com/o/r",
    "ref": "refs/tags/edge-26.11.1",
    "commit": "ab" * 20,
    "version": "edge-26.11.1",
    "channel": "edge",
    "builder_id": "https://github.com/o/r/.github/workflows/edge.yml@refs/heads/main",
    "invocation_id": "https://github.com/o/r/actions/runs/1/attempts/1",
    "started": START,
    "finished": START + timedelta(minutes=3),
}


def test_statement_is_in_toto_v1_with_slsa_v1_predicate() -> None:
    s = build_statement(subjects=[("a.whl", "AB" * 32), ("b.tar.gz", "cd" * 32)], **ARGS)  # type: ignore[arg-type]
    assert s["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert s["predicateType"] == PREDICATE_TYPE == "https://slsa.dev/provenance/v1"
    assert subject_digests(s) == {"a.whl": "ab" * 32, "b.tar.gz": "cd" * 32}
    build = s["predicate"]["buildDefinition"]
    assert build["externalParameters"] == {
        "repository": "https://github.com/o/r",
        "ref": "refs/tags/edge-26.11.1",
        "version": "edge-26.11.1",
        "channel": "edge",
    }
    assert build["resolvedDependencies"][0]["digest"] == {"gitCommit": "ab" * 20}
    run = s["predicate"]["runDetails"]
    assert run["builder"]["id"] == ARGS["builder_id"]
    assert run["metadata"] == {
        "invocationId": ARGS["invocation_id"],
        "startedOn": "2026-11-25T10:00:00Z",
        "finishedOn": "2026-11-25T10:03:00Z",
    }


def test_timestamps_are_normalised_to_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    args = dict(
        ARGS,
        started=datetime(2026, 11, 25, 12, 0, tzinfo=plus2),
        finished=datetime(2026, 11, 25, 12, 1, tzinfo=plus2),
    )
    s = build_statement(subjects=[("a", "0" * 64)], **args)  # type: ignore[arg-type]
    assert s["predicate"]["runDetails"]["metadata"]["startedOn"] == "2026-11-25T10:00:00Z"


@pytest.mark.parametrize(
    ("subjects", "overrides", "message"),
    [
        ([], {}, "at least one subject"),
        ([("a", "xyz")], {}, "not a sha256"),
        ([("a", "0" * 64), ("a", "1" * 64)], {}, "listed twice"),
        ([("dir/a", "0" * 64)], {}, "plain file name"),
        ([("a", "0" * 64)], {"commit": "abc123"}, "full git object id"),
        ([("a", "0" * 64)], {"finished": START - timedelta(seconds=1)}, "finished before"),
        ([("a", "0" * 64)], {"started": datetime(2026, 1, 1)}, "timezone-aware"),
    ],
)
def test_malformed_inputs_are_refused(
    subjects: list[tuple[str, str]], overrides: dict[str, object], message: str
) -> None:
    args = dict(ARGS, **overrides)
    with pytest.raises(ReleaseError, match=message):
        build_statement(subjects=subjects, **args)  # type: ignore[arg-type]
