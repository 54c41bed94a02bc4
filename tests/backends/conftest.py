from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.helpers.seaweed import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    Seaweed,
    running_seaweed,
    unusable_reason,
)

BUCKET = "release-channels-test"
_counter = itertools.count()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    """One SeaweedFS for the session, with the test bucket created."""
    reason = unusable_reason()
    if reason is not None:
        if os.environ.get("RELEASE_REQUIRE_SEAWEEDFS"):  # CI (.ci/run): a failure, not a skip
            pytest.fail(f"SeaweedFS unavailable: {reason}")
        pytest.skip(f"SeaweedFS unavailable: {reason}")
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        server.make_bucket(BUCKET)
        yield server


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The publisher's credentials, from the standard environment variables only."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A fresh prefix in the shared bucket for each test."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60]
    return f"t/{next(_counter)}-{name}"
