"""The edge flow: facts -> preflight -> plan for ``release edge``; execution is the pipeline's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from release.adapters.build import BuildContext, plan_artifacts
from release.adapters.git import Git
from release.config import ProjectConfig
from release.errors import PreflightError, UsageError
from release.history import build_history, next_edge_for
from release.pipeline import EventSink, RunOptions, RunResult
from release.plan import ReleasePlan
from release.preflight import (
    check_common,
    check_signing,
    check_trust,
    raise_problems,
    usage_problem,
)
from release.runner import run_release
from release.versions import EdgeVersion, pep440


def plan_edge(git: Git, config: ProjectConfig, opts: RunOptions) -> ReleasePlan:
    """Preflight (every problem at once) and the plan of the next edge release.

    Raises :class:`PreflightError` listing every problem found; changes nothing.
    """
    from release.changelog import FIRST_RELEASE_LIMIT, NOTES_LIMIT, render_section

    channel = config.edge
    problems: list[str] = []
    warnings: list[str] = []
    head = git.head()
    if head is None:
        raise PreflightError(["the repository has no commits"])
    branch = git.current_branch()
    if branch is None:
        problems.append(f"HEAD is detached; edge releases are cut from {channel.branch}")
    elif branch != channel.branch:
        problems.append(f"on branch {branch}; edge releases are cut from {channel.branch}")
    history = build_history(git.tags(), config)
    edges = history.releases(channel.name)
    released_here = sorted(r.name for r in edges if r.commit == head)
    if released_here:
        problems.append(f"HEAD {head[:12]} is already released as {released_here[0]}")
    version: EdgeVersion | None = None
    try:
        version = next_edge_for(history, channel, opts.today)
    except UsageError as exc:
        problems.append(usage_problem(exc))
    tag = channel.tag_format.format(version) if version else None
    signing = check_signing(channel, opts, problems, warnings)
    trust_line = str(version.line) if version else None
    problems += check_trust(config, channel, signing, trust_line, opts.out)
    sign_mode, signer = signing.mode, signing.signer
    check_common(git, config, opts, problems, warnings, tag=tag, sign_mode=sign_mode)
    raise_problems(problems)
    if version is None or tag is None or sign_mode is None:  # unreachable after preflight
        raise PreflightError(["could not determine the next edge version"])

    previous = edges[-1] if edges else None  # ascending by version
    rev_range = [head, f"^{previous.commit}"] if previous else [head]
    commits = git.log(rev_range, no_merges=False)
    notes = render_section(
        tag,
        opts.today,
        commits,
        repository=config.repository,
        limit=NOTES_LIMIT if previous else FIRST_RELEASE_LIMIT,
    )
    ctx = BuildContext(version=str(version), pep440=pep440(version), tag=tag)
    artifacts = tuple(a.name for a in plan_artifacts(config.builds, ctx, Path(".")))
    return ReleasePlan(
        channel=channel.name,
        kind="edge",
        version=version,
        tag=tag,
        pep440=pep440(version),
        branch=channel.branch,
        base_commit=head,
        branch_exists=True,
        previous_tag=previous.name if previous else None,
        commit_count=len(commits),
        notes=notes,
        artifacts=artifacts,
        sign_mode=sign_mode,
        signer=signer,
        changelog_commit=config.changelog_commit,
        changelog_path=config.changelog,
        push=opts.push,
        out=str(opts.out),
        now=opts.now,
        repository=config.repository,
        make_latest=True,
        prerelease=channel.prerelease,
        warnings=tuple(warnings),
    )


def release_edge(git: Git, config: ProjectConfig, opts: RunOptions, emit: EventSink) -> RunResult:
    """Plan and run (or resume) the next edge release. Raises :class:`ReleaseError`."""
    return run_release(git, config, config.edge, opts, lambda: plan_edge(git, config, opts), emit)


def next_edge_release(git: Git, config: ProjectConfig, today: date) -> tuple[EdgeVersion, str]:
    """The next edge version and tag for ``today`` (UTC). Raises :class:`UsageError`."""
    channel = config.edge
    history = build_history(git.tags(), config)
    version = next_edge_for(history, channel, today)
    return version, channel.tag_format.format(version)
