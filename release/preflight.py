"""Preflight shared by the edge and stable flows: every problem at once, before a release
changes anything (repository, output directory, signing, the channels' root of trust)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters import build as build_adapter
from release.adapters.git import Git
from release.config import ChannelConfig, Identity, ProjectConfig
from release.errors import (
    ConfigError,
    GitError,
    PreflightError,
    SigningError,
    UsageError,
)
from release.pipeline import (
    RunOptions,
)


def resolve_sign_mode(requested: str, env: Mapping[str, str], token: str | None) -> str:
    """``auto``: Sigstore when a credential is at hand, dev signing on a laptop, and an
    error in CI (a CI run must never fall back to untrusted signatures silently)."""
    if requested != "auto":
        return requested
    if token or env.get("SIGSTORE_IDENTITY_TOKEN"):
        return "sigstore"
    if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        return "sigstore"
    if env.get("CI", "").lower() in ("1", "true", "yes"):
        raise SigningError(
            "no Sigstore identity in CI, and --sign auto never falls back to dev signing there",
            hint="grant `id-token: write`, pass --identity-token, or choose --sign dev explicitly",
        )
    return "dev"


# -- preflight helpers shared by the edge and stable flows ------------------------------


def check_common(
    git: Git,
    config: ProjectConfig,
    opts: RunOptions,
    problems: list[str],
    warnings: list[str],
    *,
    tag: str | None,
    sign_mode: str | None,
) -> None:
    """Problems every release shares: history, clean tree, tag absent, signer, builds, out."""
    try:
        git.ensure_full_history()
    except GitError as exc:
        problems.append(f"{exc.message} ({exc.hint})" if exc.hint else exc.message)
    dirty = git.status_porcelain()
    if dirty:
        problems.append(
            f"the working tree has uncommitted changes ({len(dirty)} paths, e.g. "
            f"{dirty[0][3:]}); commit or stash them"
        )
    if tag:
        if git.run("rev-parse", "-q", "--verify", f"refs/tags/{tag}", check=False).stdout:
            problems.append(f"tag {tag} already exists locally")
        if git.has_remote("origin"):
            try:
                if tag in git.remote_tags("origin"):
                    problems.append(f"tag {tag} already exists on origin")
            except GitError as exc:
                (problems if opts.push else warnings).append(
                    f"could not check origin for tag {tag}: {exc.message}"
                )
        elif opts.push:
            problems.append("--push needs a remote named origin")
    if sign_mode in ("sigstore", "staging"):
        try:
            from release.adapters.sigstore import resolve_identity_token

            resolve_identity_token(opts.identity_token, opts.env)
        except SigningError as exc:
            problems.append(exc.message + (f" ({exc.hint})" if exc.hint else ""))
    if not config.builds:
        problems.append("no build commands are configured ([[tool.release.build]])")
    elif opts.assembled is None:
        problems.extend(build_adapter.command_problems(config.builds))
    problems.extend(out_problems(git, opts.out, configured=config.root / config.out))
    from release.channel.store import store_problems

    problems.extend(store_problems(opts.out))


@dataclass(frozen=True)
class Signing:
    mode: str | None  # None: the mode itself could not be resolved (a problem says why)
    signer: Identity | None


def check_signing(
    channel: ChannelConfig, opts: RunOptions, problems: list[str], warnings: list[str]
) -> Signing:
    """The signing mode and the identity the channel expects, problems collected."""
    mode: str | None = None
    try:
        mode = resolve_sign_mode(opts.sign, opts.env, opts.identity_token)
    except SigningError as exc:
        problems.append(exc.message + (f" ({exc.hint})" if exc.hint else ""))
    signer = None
    if mode and mode != "none":
        try:
            signer = channel.expected_signer(dev=mode == "dev")
        except ConfigError as exc:
            problems.append(exc.message)
    if mode == "none":
        warnings.append("artifacts will NOT be signed and the channel index is not updated")
    if mode == "dev" and opts.push:
        consequences = (
            "the tag, the GitHub release and the pages branch are public, and dev-signed "
            "releases on them verify only against this machine's throwaway dev Sigstore "
            "instance: no consumer can trust them, and their channel carries a dev root"
        )
        if opts.allow_dev_signatures:
            warnings.append(f"pushing DEV signatures: {consequences}")
        else:
            problems.append(
                f"--push with dev signatures is refused: {consequences} (sign with "
                "--sign sigstore, or pass --allow-dev-signatures to publish them anyway)"
            )
    if mode not in (None, "none") and channel.publish_target == "s3":
        from release.channel.target import target_problems

        problems.extend(target_problems(channel, opts.out, probe=not opts.dry_run))
    return Signing(mode, signer)


def check_trust(
    config: ProjectConfig,
    channel: ChannelConfig,
    signing: Signing,
    line: str | None,
    out: Path | None = None,
) -> list[str]:
    """With real signing: the repository's root of trust lets this release's identity
    publish on ``channel`` (line ``line`` for a signer with ``{line}``), and the store in
    the directory ``out`` (if it has a root) belongs to that root chain. Checked here so
    a refusal comes before anything is tagged or written, not at the publish step."""
    if signing.mode in (None, "none", "dev") or signing.signer is None or line is None:
        return []
    from release.channel.tuf.trust import publish_problems
    from release.trust_config import channels_dir_of

    identity = signing.signer
    if "{line}" in identity.identity:
        identity = identity.for_line(line)
    store_root = None
    if out is not None and channel.publish_target != "s3":
        with contextlib.suppress(OSError):
            store_root = (out / "metadata" / "root.json").read_bytes()
    return publish_problems(
        channels_dir_of(config), channel.name, identity, line, store_root=store_root
    )


def out_problems(git: Git, out: Path, *, configured: Path | None = None) -> list[str]:
    """Problems with the output directory ``out``: not a directory, not writable, the
    working tree itself or inside it (unless it is the configured ``out`` or ignored by
    git: a release must not dirty the tree it releases). Never writes."""
    out, tree = Path(os.path.abspath(out)), Path(os.path.abspath(git.root))
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return [f"output path {probe} is not a directory"]
    if not os.access(probe, os.W_OK | os.X_OK):
        return [f"output directory {probe} is not writable"]
    if out == tree or tree.is_relative_to(out):
        return [f"output directory {out} would publish into the working tree {tree}"]
    if out.is_relative_to(tree / ".git"):
        return [f"output directory {out} is inside the git directory"]
    if out.is_relative_to(tree):
        if configured is not None and out == Path(os.path.abspath(configured)):
            return []
        rel = out.relative_to(tree).as_posix()
        if git.run("check-ignore", "-q", "--no-index", rel + "/", check=False).returncode != 0:
            return [
                f"output directory {out} is inside the working tree and not ignored by git "
                "(add it to .gitignore, set [tool.release] out, or choose a directory "
                "outside the repository)"
            ]
    return []


def raise_problems(problems: Sequence[str]) -> None:
    if problems:
        raise PreflightError(
            problems, hint="nothing was changed; fix these and run again (--dry-run shows the plan)"
        )


def usage_problem(exc: UsageError) -> str:
    return exc.message + (f" ({exc.hint})" if exc.hint else "")
