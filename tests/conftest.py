from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers.gitrepo import Repo, git_env, make_repo

# Timing goals live in benchmarks/, not in tests: a property test must not fail because
# a loaded CI machine ran one example slowly (Hypothesis' default deadline is 200 ms).
settings.register_profile("release-channels", deadline=None)
settings.load_profile("release-channels")


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never read the developer's HOME, git config or tokens."""
    home = tmp_path_factory.mktemp("home")
    for key, value in git_env(home).items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.endswith("_TOKEN") or key in {
            "GITHUB_ACTIONS",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "CI",
        }:
            monkeypatch.delenv(key, raising=False)
        if key.startswith("AWS_"):  # S3 tests set their own credentials
            monkeypatch.delenv(key, raising=False)
    # botocore looks for credentials on the instance metadata service: never off loopback.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """An empty clone on ``main`` with a bare ``origin``."""
    return make_repo(tmp_path)
