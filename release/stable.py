"""The stable flow: cut a line from an edge release, point releases, backports.

Facts (tags, branches, main's history, config, date) -> preflight collecting every
problem -> a :class:`ReleasePlan`; execution (cherry-picks in a temporary worktree,
build, sign, tag, publish) is the pipeline's. The user stays on main: the line
branch ``X.Y.x`` is advanced by compare-and-swap in the tag step, or created there
for a new line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path
from typing import TYPE_CHECKING

from release.adapters.build import BuildContext, plan_artifacts
from release.adapters.git import CherryPickConflict, Commit, Git, TagInfo, cherry_pick_onto
from release.changelog import FIRST_RELEASE_LIMIT, NOTES_LIMIT, render_section
from release.checksums import atomic_write
from release.config import ChannelConfig, ProjectConfig
from release.errors import (
    ConfigError,
    GitError,
    PreflightError,
    ReleaseError,
    UsageError,
)
from release.history import releases_by_channel
from release.journal import Journal
from release.ledger import (
    CUT,
    branch_ref,
    find_on_line,
    first_edge_containing,
    line_ledger,
    pr_number,
)
from release.pipeline import EventSink, RunOptions, RunResult, github_slug, work_root
from release.plan import ReleasePlan
from release.preflight import (
    Signing,
    check_common,
    check_signing,
    check_trust,
    raise_problems,
    usage_problem,
)
from release.runner import load_journal, run_release
from release.support import EOL, LineStatus, line_phase, line_statuses
from release.versions import (
    EdgeVersion,
    Line,
    StableVersion,
    next_backport,
    next_minor,
    next_point,
    parse_line,
    pep440,
)

if TYPE_CHECKING:
    from release.adapters.github import GitHubClient


class BackportConflict(GitError):
    """A backport conflicted; its conflicting state was committed on a branch for a human."""


# -- facts ------------------------------------------------------------------------------


def stable_channel(config: ProjectConfig, name: str | None) -> ChannelConfig:
    """The stable channel ``name`` (default: ``stable``). Raises :class:`ConfigError`."""
    channel = config.stable if name is None else config.channel(name)
    if channel.kind != "stable":
        raise ConfigError(
            f"channel {channel.name!r} is an {channel.kind} channel, not a stable one",
            hint="stable channels: " + ", ".join(c.name for c in config.stable_channels()),
        )
    return channel


def stable_releases(
    git: Git, channel: ChannelConfig, config: ProjectConfig | None = None
) -> list[tuple[TagInfo, StableVersion]]:
    """Every release tag of ``channel`` with its version (other tags are ignored, and so
    are the anomalies of :func:`release.history.tag_anomalies`, with ``config``'s
    ``[history]`` choices)."""
    tags = git.tags()
    source = config if config is not None else {channel.name: channel}
    kept = {r.name for r in releases_by_channel(tags, source).get(channel.name, [])}
    return [
        (t, v)
        for t in tags
        if t.name in kept and isinstance(v := channel.tag_format.parse(t.name), StableVersion)
    ]


def line_status(git: Git, channel: ChannelConfig, today: date) -> list[LineStatus]:
    """Every line of ``channel``, newest first: latest release, phase and EOL date.

    For ``release status`` and the channel index. One ``for-each-ref`` call.
    """
    releases = [(t.name, v, t.date.date()) for t, v in stable_releases(git, channel)]
    return line_statuses(releases, channel.support, today, branch_for=channel.branch_for)


def _first_days(releases: Sequence[tuple[TagInfo, StableVersion]]) -> dict[Line, date | None]:
    """The day of each line's first release (what the support rules count from)."""
    days: dict[Line, date | None] = {}
    for t, v in releases:
        day = t.date.astimezone(UTC).date()
        prev = days.get(v.line)
        days[v.line] = day if prev is None or day < prev else prev
    return days


def _main_ref(git: Git, channel: ChannelConfig, problems: list[str]) -> str | None:
    ref = branch_ref(git, channel.branch)
    if ref is None:
        problems.append(f"the source branch {channel.branch} does not exist (git fetch origin)")
    return ref


# -- plans ------------------------------------------------------------------------------


def plan_cut(
    git: Git,
    config: ProjectConfig,
    channel: ChannelConfig,
    opts: RunOptions,
    *,
    from_edge: str | None,
    line: str | None,
) -> ReleasePlan:
    """Preflight and plan a new line ``X.Y`` cut from an edge release (default: the
    latest edge and the next minor line). Creates branch ``X.Y.x`` at the edge's
    commit in the tag step; tags ``X.Y.0``. Raises :class:`PreflightError` with every
    problem; changes nothing."""
    problems: list[str] = []
    warnings: list[str] = []
    releases = stable_releases(git, channel, config)
    versions = [v for _, v in releases]
    edges = [
        (t, v)
        for t in git.tags()
        if isinstance(v := config.edge.tag_format.parse(t.name), EdgeVersion)
    ]
    edge: tuple[TagInfo, EdgeVersion] | None = None
    if from_edge is None:
        edge = max(edges, key=lambda tv: tv[1], default=None)
        if edge is None:
            problems.append("there is no edge release to cut a line from")
    else:
        edge = next((tv for tv in edges if tv[0].name == from_edge), None)
        if edge is None:
            known = sorted((tv for tv in edges), key=lambda tv: tv[1])[-3:]
            problems.append(
                f"{from_edge} is not an edge release tag"
                + (f" (latest: {', '.join(t.name for t, _ in known)})" if known else "")
            )
    new_line: Line | None = None
    if line is None:
        new_line = next_minor(versions, config.first_line).line
    else:
        try:
            new_line = parse_line(line)
        except UsageError as exc:
            problems.append(usage_problem(exc))
    existing_lines = sorted({v.line for v in versions})
    branch = channel.branch_for(new_line) if new_line else None
    if new_line is not None and branch is not None:
        if new_line in existing_lines:
            latest = max(v for v in versions if v.line == new_line)
            problems.append(
                f"line {new_line} already exists (latest {channel.tag_format.format(latest)}); "
                f"use: release stable point {new_line}"
            )
        elif branch_ref(git, branch) is not None:
            problems.append(f"line {new_line} already exists: branch {branch} is there")
        if existing_lines and new_line < existing_lines[-1]:
            problems.append(
                f"line {new_line} is older than the newest line {existing_lines[-1]}; "
                "a new line must be newer"
            )
    main_ref = _main_ref(git, channel, problems)
    if edge is not None and existing_lines:
        newest = existing_lines[-1]
        zero = min((tv for tv in releases if tv[1].line == newest), key=lambda tv: tv[1])
        if git.is_ancestor(edge[0].commit, zero[0].commit):
            problems.append(
                f"{edge[0].name} is already in line {newest} ({zero[0].name}); "
                "cut from a newer edge release"
            )
    if edge is not None and main_ref and not git.is_ancestor(edge[0].commit, main_ref):
        warnings.append(f"{edge[0].name} is not on {channel.branch}")
    version = StableVersion(new_line.major, new_line.minor, 0) if new_line else None
    tag = channel.tag_format.format(version) if version else None
    signing = check_signing(channel, opts, problems, warnings)
    trust_line = str(version.line) if version else None
    problems += check_trust(config, channel, signing, trust_line, opts.out)
    check_common(git, config, opts, problems, warnings, tag=tag, sign_mode=signing.mode)
    raise_problems(problems)
    if edge is None or version is None or tag is None or branch is None or not signing.mode:
        raise PreflightError(["could not plan the cut"])  # unreachable after preflight

    previous = _previous_line_zero(releases, version.line)
    rev_range = [edge[0].commit] + ([f"^{previous[0].commit}"] if previous else [])
    commits = git.log(rev_range, no_merges=True)
    intro = f"First release of the {version.line} line, cut from {edge[0].name}." + (
        f" Changes since {previous[0].name}:" if previous and commits else ""
    )
    # a first line may sit on years of history: bounded, with a link to the rest
    notes = render_section(
        tag,
        opts.today,
        commits,
        repository=config.repository,
        intro=intro,
        limit=NOTES_LIMIT if previous else FIRST_RELEASE_LIMIT,
    )
    return _plan(
        config,
        channel,
        opts,
        version=version,
        tag=tag,
        branch=branch,
        base=edge[0].commit,
        branch_exists=False,
        previous_tag=previous[0].name if previous else None,
        commit_count=len(commits),
        notes=notes,
        signing=signing,
        cut_from=edge[0].name,
        make_latest=not existing_lines or version.line > existing_lines[-1],
        warnings=warnings,
    )


def _previous_line_zero(
    releases: Sequence[tuple[TagInfo, StableVersion]], line: Line
) -> tuple[TagInfo, StableVersion] | None:
    older = [tv for tv in releases if tv[1].line < line]
    if not older:
        return None
    prev_line = max(v.line for _, v in older)
    return min((tv for tv in older if tv[1].line == prev_line), key=lambda tv: tv[1])


def plan_point(
    git: Git,
    config: ProjectConfig,
    channel: ChannelConfig,
    opts: RunOptions,
    *,
    line: str,
    picks: Sequence[str] = (),
    label: str | None = None,
) -> ReleasePlan:
    """Preflight and plan the next point release of the newest line ``line``: the
    ``picks`` (SHAs or ``#PR``; with ``label``, the merged PRs carrying it) are
    cherry-picked from main onto ``X.Y.x``. Raises :class:`PreflightError`."""
    return _plan_line_release(
        git, config, channel, opts, kind="point", line=line, picks=picks, label=label
    )


def plan_backport(
    git: Git,
    config: ProjectConfig,
    channel: ChannelConfig,
    opts: RunOptions,
    *,
    line: str,
    picks: Sequence[str] = (),
    label: str | None = None,
    force_eol: bool = False,
) -> ReleasePlan:
    """Preflight and plan a backport release onto an older line ``line``; refused on a
    line past its EOL unless ``force_eol`` (which adds a loud warning). Never becomes
    the channel's latest. Raises :class:`PreflightError`."""
    return _plan_line_release(
        git,
        config,
        channel,
        opts,
        kind="backport",
        line=line,
        picks=picks,
        label=label,
        force_eol=force_eol,
    )


def _plan_line_release(
    git: Git,
    config: ProjectConfig,
    channel: ChannelConfig,
    opts: RunOptions,
    *,
    kind: str,
    line: str,
    picks: Sequence[str],
    label: str | None,
    force_eol: bool = False,
) -> ReleasePlan:
    problems: list[str] = []
    warnings: list[str] = []
    releases = stable_releases(git, channel, config)
    versions = [v for _, v in releases]
    the_line: Line | None = None
    try:
        the_line = parse_line(line)
    except UsageError as exc:
        problems.append(usage_problem(exc))
    version: StableVersion | None = None
    if the_line is not None:
        try:
            if kind == "backport":
                version = next_backport(versions, the_line)
            else:
                version = next_point(versions, the_line)
                newest = max(v.line for v in versions)
                if the_line != newest:
                    problems.append(
                        f"line {the_line} is not the newest line ({newest}); "
                        f"use: release stable backport {the_line} --pick …"
                    )
        except UsageError as exc:
            problems.append(
                f"line {the_line} does not exist in channel {channel.name}"
                + (f" ({exc.hint})" if exc.hint else "")
                if "no stable release" in exc.message
                else usage_problem(exc)
            )
    branch = channel.branch_for(the_line) if the_line else None
    base: str | None = None
    branch_exists = True
    latest: tuple[TagInfo, StableVersion] | None = None
    if branch is not None:
        base, branch_exists = _line_base(git, branch, problems)
    if the_line is not None and branch is not None and version is not None:
        latest = max(
            (tv for tv in releases if tv[1].line == the_line), key=lambda tv: tv[1], default=None
        )
        if base and latest and not git.is_ancestor(latest[0].commit, base):
            problems.append(f"{latest[0].name} is not on {branch}; the line has diverged")
        if latest and version <= latest[1]:
            problems.append(f"{version} is not above the line's latest {latest[0].name}")
        phase, eol = line_phase(
            the_line,
            {v.line for v in versions},
            channel.support,
            opts.now.date(),
            released=_first_days(releases),
        )
        if phase == EOL:
            since = f" since {eol.isoformat()}" if eol else ""
            if force_eol:
                warnings.append(
                    f"!!! LINE {the_line} IS END-OF-LIFE{since.upper()}: releasing anyway "
                    "because of --force-eol; users of this line are unsupported !!!"
                )
            else:
                problems.append(
                    f"line {the_line} is past its end of life{since} "
                    "(pass --force-eol to release on it anyway)"
                )
    main_ref = _main_ref(git, channel, problems)
    specs = list(picks)
    if label:
        specs += _label_picks(config, label, opts, problems)
    chosen: list[Commit] = []
    if base and version and main_ref and branch:
        chosen = _resolve_picks(git, main_ref, base, branch, specs, problems, warnings)
    elif main_ref:
        _validate_picks(git, main_ref, specs, problems)  # still report bad picks
    tag = channel.tag_format.format(version) if version else None
    signing = check_signing(channel, opts, problems, warnings)
    trust_line = str(version.line) if version else None
    problems += check_trust(config, channel, signing, trust_line, opts.out)
    if base and latest and specs and not chosen and not problems:
        skipped = "; ".join(w.removeprefix("skipping ") for w in warnings if "already on" in w)
        problems.append(
            f"nothing to release: every pick is already on the line {branch} ({skipped})"
            + (
                f"; to release what {branch} carries since {latest[0].name}, run "
                f"release stable {kind} {the_line} without --pick"
                if base != latest[0].commit
                else ""
            )
        )
    if base and latest and not specs and base == latest[0].commit:
        problems.append(f"nothing new on {branch} since {latest[0].name}; pass --pick SHA|#PR")
    if opts.dry_run and chosen and base and not problems:
        # The dry run tries the picks (in a temporary worktree) so a conflict shows now.
        try:
            cherry_pick_onto(git, base, [c.sha for c in chosen], when=opts.now.isoformat())
        except CherryPickConflict as exc:
            warnings.append(f"the picks will not apply: {exc.message}")
    check_common(git, config, opts, problems, warnings, tag=tag, sign_mode=signing.mode)
    raise_problems(problems)
    if (
        version is None
        or tag is None
        or branch is None
        or base is None
        or latest is None
        or not signing.mode
    ):
        raise PreflightError([f"could not plan the {kind} release"])  # unreachable

    on_branch = git.log([base, f"^{latest[0].commit}"], no_merges=True)
    on_line = _on_line_origins(git, str(version.line), branch, main_ref, on_branch)
    edge_format = config.edge.tag_format
    also = {
        c.sha: f"also in {edge}"
        for c in chosen
        if (edge := first_edge_containing(git, edge_format, c.sha))
    }
    # newest first, like git log: the picks land on top of what the branch already has
    what = "Point release" if kind == "point" else "Backport release"
    notes = render_section(
        tag,
        opts.today,
        [*reversed(chosen), *on_branch],
        repository=config.repository,
        intro=f"{what} of the {version.line} line (after {latest[0].name}).",
        notes=also,
        limit=NOTES_LIMIT,
    )
    newest_line = max(v.line for v in versions)
    return _plan(
        config,
        channel,
        opts,
        version=version,
        tag=tag,
        branch=branch,
        base=base,
        branch_exists=branch_exists,
        previous_tag=latest[0].name,
        commit_count=len(on_branch) + len(chosen),
        notes=notes,
        signing=signing,
        picks=tuple(c.sha for c in chosen),
        on_line=on_line,
        make_latest=kind == "point" and version.line == newest_line,
        warnings=warnings,
    )


def _on_line_origins(
    git: Git, line: str, branch: str, main_ref: str | None, commits: Sequence[Commit]
) -> tuple[str, ...]:
    """One row per unreleased commit already on the line (newest first), with the
    main commit the ledger traces it to: ``<sha> <subject>  <- <main sha> (how)``."""
    if not commits:
        return ()
    origins = {}
    if main_ref is not None:
        ledger = line_ledger(git, line, branch, main_ref)
        origins = {e.commit: e.origin for e in ledger.entries}
    rows = []
    for c in commits:
        origin = origins.get(c.sha)
        src = (
            f"<- {origin.main_commit[:12]} ({origin.describe()})"
            if origin is not None
            else "(made on the line)"
        )
        rows.append(f"{c.sha[:12]} {c.subject}  {src}")
    return tuple(rows)


def _line_base(git: Git, branch: str, problems: list[str]) -> tuple[str | None, bool]:
    """The head the release starts from, and whether the local branch exists.

    A line that exists only on origin (a fresh clone) starts from ``origin/X.Y.x``
    and the local branch is created in the tag step.
    """
    local = git.run("rev-parse", "-q", "--verify", f"refs/heads/{branch}", check=False)
    remote = git.run("rev-parse", "-q", "--verify", f"refs/remotes/origin/{branch}", check=False)
    lsha, rsha = local.stdout.strip(), remote.stdout.strip()
    if lsha:
        if rsha and not git.is_ancestor(rsha, lsha):
            problems.append(
                f"branch {branch} is behind or diverged from origin/{branch}; "
                f"update it first (git fetch origin && git branch -f {branch} origin/{branch})"
            )
        return lsha, True
    if rsha:
        return rsha, False
    problems.append(
        f"branch {branch} does not exist (locally or on origin); if the line branches are "
        "named otherwise, set branch-format in channels/*.toml (release init --dry-run infers it)"
    )
    return None, True


def _resolve_picks(
    git: Git,
    main_ref: str,
    base: str,
    branch: str,
    specs: Sequence[str],
    problems: list[str],
    warnings: list[str],
) -> list[Commit]:
    """The main commits to pick, oldest first; skipped picks become warnings."""
    if not specs:
        return []
    candidates = git.log([main_ref, f"^{base}"])  # on main, not yet in the line's ancestry
    by_sha = {c.sha: c for c in candidates}
    by_pr: dict[int, Commit] = {}
    for c in reversed(candidates):
        n = pr_number(c.subject)
        if n is not None:
            by_pr.setdefault(n, c)
    wanted: dict[str, Commit] = {}
    for spec in dict.fromkeys(s.strip() for s in specs):
        if re.fullmatch(r"#\d{1,9}", spec):
            n = int(spec.lstrip("#"))
            if n in by_pr:
                wanted[by_pr[n].sha] = by_pr[n]
                continue
            grep = git.run(
                "log",
                "-F",
                f"--grep=(#{n})",
                f"--grep=Merge pull request #{n} ",
                "--format=%H",
                "-n",
                "1",
                main_ref,
                check=False,
            ).stdout.split()
            if grep and git.is_ancestor(grep[0], base):
                warnings.append(f"skipping #{n}: already on {branch} (carried since the cut)")
            else:
                problems.append(
                    f"PR #{n} is not on {main_ref.split('/')[-1]} "
                    f"(no commit subject ends with (#{n}))"
                )
            continue
        try:
            sha = git.resolve(spec)
        except GitError:
            problems.append(f"pick {spec!r} is not a known commit")
            continue
        if sha in by_sha:
            wanted[sha] = by_sha[sha]
        elif git.is_ancestor(sha, base):
            warnings.append(f"skipping {spec}: already on {branch} (carried since the cut)")
        else:
            problems.append(f"pick {spec} ({sha[:12]}) is not on {main_ref.split('/')[-1]}")
    if not wanted:
        return []
    maybe: dict[str, tuple[str, str]] = {}
    carried = find_on_line(git, base, main_ref, list(wanted.values()), possible=maybe)
    for sha, (line_sha, how) in carried.items():
        c = wanted.pop(sha)
        where = "since the cut" if how == CUT else f"as {line_sha[:12]}, matched by {how}"
        warnings.append(f"skipping {sha[:12]} ({c.subject}): already on {branch} {where}")
    for sha, (line_sha, how) in maybe.items():
        warnings.append(
            f"{sha[:12]} ({wanted[sha].subject}) may already be on {branch} as "
            f"{line_sha[:12]} ({how}, low confidence): picking it anyway; drop the pick "
            "if it is the same change"
        )
    order = {c.sha: i for i, c in enumerate(candidates)}
    return sorted(wanted.values(), key=lambda c: -order[c.sha])


def _validate_picks(git: Git, main_ref: str, specs: Sequence[str], problems: list[str]) -> None:
    """Report picks that are unknown or not on main (when the line itself is unusable)."""
    source = main_ref.split("/")[-1]
    for spec in dict.fromkeys(s.strip() for s in specs):
        if re.fullmatch(r"#\d{1,9}", spec):
            found = git.run(
                "log",
                "-F",
                f"--grep=({spec})",
                f"--grep=Merge pull request {spec} ",
                "--format=%H",
                "-n",
                "1",
                main_ref,
                check=False,
            ).stdout.split()
            if not found:
                problems.append(
                    f"PR {spec} is not on {source} (no commit subject ends with ({spec}))"
                )
            continue
        try:
            sha = git.resolve(spec)
        except GitError:
            problems.append(f"pick {spec!r} is not a known commit")
            continue
        if not git.is_ancestor(sha, main_ref):
            problems.append(f"pick {spec} ({sha[:12]}) is not on {source}")


def _github_client(opts: RunOptions) -> GitHubClient:
    """A GitHub client from the environment (token, API URL). Raises :class:`ReleaseError`."""
    from release.adapters.github import GitHubClient  # PyGithub only when needed

    return GitHubClient.from_environment(opts.env)


def _label_picks(
    config: ProjectConfig, label: str, opts: RunOptions, problems: list[str]
) -> list[str]:
    """The merge commits of the merged PRs labelled ``label`` (GitHub), oldest first."""
    slug = github_slug(config.repository)
    if slug is None:
        problems.append("--label needs [tool.release] repository set to the GitHub repository URL")
        return []
    try:
        with _github_client(opts) as client:
            pulls = client.find_pull_commits(slug, label)
    except ReleaseError as exc:
        problems.append(f"--label {label}: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
        return []
    if not pulls:
        problems.append(f"no merged pull request of {slug} carries the label {label!r}")
    specs = []
    for pr in pulls:
        if pr.merge_commit_sha:
            specs.append(str(pr.merge_commit_sha))
        else:
            problems.append(f"PR #{pr.number} ({pr.title}) has no merge commit")
    return specs


def _plan(
    config: ProjectConfig,
    channel: ChannelConfig,
    opts: RunOptions,
    *,
    version: StableVersion,
    tag: str,
    branch: str,
    base: str,
    branch_exists: bool,
    previous_tag: str | None,
    commit_count: int,
    notes: str,
    signing: Signing,
    make_latest: bool,
    warnings: list[str],
    picks: tuple[str, ...] = (),
    on_line: tuple[str, ...] = (),
    cut_from: str | None = None,
) -> ReleasePlan:
    ctx = BuildContext(version=str(version), pep440=pep440(version), tag=tag)
    artifacts = tuple(a.name for a in plan_artifacts(config.builds, ctx, Path(".")))
    assert signing.mode is not None
    return ReleasePlan(
        channel=channel.name,
        kind="stable",
        version=version,
        tag=tag,
        pep440=pep440(version),
        branch=branch,
        base_commit=base,
        branch_exists=branch_exists,
        previous_tag=previous_tag,
        commit_count=commit_count,
        notes=notes,
        artifacts=artifacts,
        sign_mode=signing.mode,
        signer=signing.signer.for_line(version.line) if signing.signer else None,
        changelog_commit=config.changelog_commit,
        changelog_path=config.changelog,
        push=opts.push,
        out=str(opts.out),
        now=opts.now,
        repository=config.repository,
        picks=picks,
        on_line=on_line,
        cut_from=cut_from,
        make_latest=make_latest,
        prerelease=channel.prerelease,
        warnings=tuple(warnings),
    )


# -- entry point ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StableRequest:
    """What the user asked for: ``cut``, ``point`` or ``backport``."""

    action: str
    channel: str | None = None
    line: str | None = None
    from_edge: str | None = None
    picks: tuple[str, ...] = ()
    label: str | None = None
    force_eol: bool = False
    conflict_branch: bool = False

    def key(self) -> dict[str, object]:
        """What makes two requests the same release (for re-runs)."""
        return {
            "action": self.action,
            "line": self.line,
            "from_edge": self.from_edge,
            "picks": sorted(self.picks),
            "label": self.label,
        }


def release_stable(
    git: Git, config: ProjectConfig, opts: RunOptions, emit: EventSink, request: StableRequest
) -> RunResult:
    """Plan and run (or resume) a stable release. Raises :class:`ReleaseError`; with
    ``conflict_branch``, a conflicting backport raises :class:`BackportConflict` after
    committing the conflict on ``backport/X.Y/<shortsha>``."""
    channel = stable_channel(config, request.channel)
    line = request.line
    if request.action == "cut" and line is None:
        versions = [v for _, v in stable_releases(git, channel, config)]
        line = str(next_minor(versions, config.first_line).line)
        if versions:  # the same cut again, from the same edge: a re-run of the newest line
            newest = str(max(versions).line)
            cut = _finished_journal(opts, f"{channel.name}-{newest}")
            if (
                cut is not None
                and _request_of(cut) == request.key()
                and cut.inputs["plan"].get("cut_from") == _edge_to_cut(git, config, request)
            ):
                line = newest
    if request.action not in ("cut", "point", "backport"):
        raise UsageError(f"unknown stable action {request.action!r}")
    if line is None:
        raise UsageError(f"release stable {request.action} needs a LINE (e.g. 2.15)")
    journal_name = f"{channel.name}-{line}"

    def make_plan() -> ReleasePlan:
        if request.action == "cut":
            return plan_cut(
                git, config, channel, opts, from_edge=request.from_edge, line=request.line
            )
        if request.action == "point":
            return plan_point(
                git, config, channel, opts, line=line, picks=request.picks, label=request.label
            )
        return plan_backport(
            git,
            config,
            channel,
            opts,
            line=line,
            picks=request.picks,
            label=request.label,
            force_eol=request.force_eol,
        )

    planned: list[ReleasePlan] = []

    def remember() -> ReleasePlan:
        planned.append(make_plan())
        return planned[-1]

    work = work_root(opts.out) / journal_name
    finished = _finished_journal(opts, journal_name)
    same_request = finished is not None and _request_of(finished) == request.key()
    # A finished release of this line is history unless this is the very same request
    # again (a re-run: already released, or now --push it); anything else is a new one.
    # Its journal stays where it is and in done/ (records are append-only).
    try:
        result = run_release(
            git,
            config,
            channel,
            opts,
            remember,
            emit,
            journal_name=journal_name,
            inputs={"request": request.key()},
            finished_is_history=finished is not None and not same_request,
        )
    except CherryPickConflict as exc:
        if not request.conflict_branch or not planned:
            raise
        raise _conflict_branch(git, config, opts, planned[-1], exc) from exc
    if result.state == "released":
        atomic_write(work / REQUEST_FILE, json.dumps(request.key()).encode())
    return result


REQUEST_FILE = "request.json"


def _edge_to_cut(git: Git, config: ProjectConfig, request: StableRequest) -> str | None:
    if request.from_edge:
        return request.from_edge
    edges = [
        (v, t.name)
        for t in git.tags()
        if isinstance(v := config.edge.tag_format.parse(t.name), EdgeVersion)
    ]
    return max(edges)[1] if edges else None


def _recorded_request(work: Path) -> object:
    try:
        return json.loads((work / REQUEST_FILE).read_bytes())
    except (OSError, ValueError):
        return None


def _request_of(journal: Journal) -> object:
    """What was asked for the journal's release: recorded in the journal itself (so a kill
    right after it finished changes nothing), else in ``request.json`` (older journals)."""
    return journal.inputs.get("request") or _recorded_request(journal.path.parent)


def _finished_journal(opts: RunOptions, journal_name: str) -> Journal | None:
    journal = load_journal(
        work_root(opts.out) / journal_name / "journal.json", dry_run=opts.dry_run
    )
    return journal if journal is not None and journal.done else None


def _conflict_branch(
    git: Git, config: ProjectConfig, opts: RunOptions, plan: ReleasePlan, exc: Exception
) -> BackportConflict:
    from release.adapters.git import CherryPickConflict, commit_conflict_branch

    assert isinstance(exc, CherryPickConflict)
    # a vendor channel's line 2.14 is not the default channel's: keep their branches apart
    scope = plan.line if plan.channel == config.stable.name else f"{plan.channel}/{plan.line}"
    name = f"backport/{scope}/{exc.commit[:7]}"
    made = commit_conflict_branch(
        git, plan.base_commit, plan.picks, when=opts.now.isoformat(), branch=name
    )
    if made is None:  # pragma: no cover - the same picks conflicted a moment ago
        return BackportConflict(str(exc))
    files = ", ".join(made.files)
    where = f"branch {name}"
    pr_note = _open_draft_pr(git, config, opts, plan, made.branch, made.conflicted, files)
    return BackportConflict(
        f"cherry-pick of {made.conflicted[:12]} onto {plan.branch} conflicts in {files}; "
        f"the conflicting state is committed on {where}" + (f" ({pr_note})" if pr_note else ""),
        hint=f"resolve the conflict markers on {name}, merge it into {plan.branch}, then run "
        f"release stable point/backport {plan.line} again (nothing was released)",
    )


def _open_draft_pr(
    git: Git,
    config: ProjectConfig,
    opts: RunOptions,
    plan: ReleasePlan,
    branch: str,
    conflicted: str,
    files: str,
) -> str:
    """Push the conflict branch and open a draft PR when GitHub is configured (with
    --push); otherwise say what to do. Returns a note for the user."""
    slug = github_slug(config.repository)
    if not (opts.push and slug):
        return f"push it and open a pull request into {plan.branch} for review"
    res = git.run("push", "origin", f"refs/heads/{branch}:refs/heads/{branch}", check=False)
    if res.returncode != 0:
        return f"pushing it failed ({res.stderr.strip().splitlines()[-1:]}); push it by hand"
    title = f"[{plan.line}] backport {conflicted[:12]} (conflicts to resolve)"
    body = (
        f"Cherry-picking {conflicted} onto `{plan.branch}` conflicted in: {files}.\n\n"
        "This branch holds the conflict markers. Resolve them, merge, then run "
        f"`release stable backport {plan.line}` again.\n"
    )
    try:
        with _github_client(opts) as client:
            pr = client.open_draft_pr(slug, branch, plan.branch, title, body)
    except ReleaseError as exc:
        return f"pushed; opening the draft PR failed: {exc.message}"
    return f"draft PR #{pr.number}: {pr.html_url}"
