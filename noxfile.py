"""nox sessions: tests, lint, typecheck, bench; release sessions edge and stable run when named."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (offline: loopback Sigstore, git and GitHub stand-ins)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test,lint]")
    session.run("mypy", "--strict", "release")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Reproducible timings (see benchmarks/README.md); pass a script name to run one."""
    session.install("-e", ".[test,bench]")
    scripts = session.posargs or ["all"]
    session.run("python", "-m", "benchmarks", *scripts)


def _release_env(session: nox.Session) -> None:
    # `build` and `hatchling` let the configured build command run with --no-isolation,
    # so an edge release of this repository needs no network beyond this install.
    session.install(".", "build>=1.2", "hatchling>=1.25")


@nox.session(default=False)
def edge(session: nox.Session) -> None:
    """Cut an edge release of this repository: nox -s edge -- [release edge options]."""
    _release_env(session)
    session.run("release", "edge", *session.posargs, external=False)


@nox.session(default=False)
def stable(session: nox.Session) -> None:
    """Stable releases: nox -s stable -- cut|point|backport [options]."""
    if not session.posargs:
        session.error("usage: nox -s stable -- cut|point|backport|ledger [options]")
    _release_env(session)
    session.run("release", "stable", *session.posargs, external=False)
