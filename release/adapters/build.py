"""Run the configured build commands and collect exactly the artifacts they declare.

Builds run in a clean export of the release commit (``git archive``), never in the
user's working tree, with placeholders ``{version} {pep440} {tag} {os} {arch}
{out} {python}`` substituted in the command and its environment.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.config import BuildSpec
from release.errors import BuildError, ConfigError

log = logging.getLogger(__name__)

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def host_target() -> str:
    machine = platform.machine().lower()
    return f"{platform.system().lower()}-{_ARCH.get(machine, machine)}"


@dataclass(frozen=True)
class BuildContext:
    version: str  # e.g. 26.11.1 or 2.15.1
    pep440: str
    tag: str
    python: str = sys.executable


@dataclass(frozen=True)
class Artifact:
    name: str
    path: Path
    build: str
    os: str | None
    arch: str | None


def _has_module(python: str, module: str) -> bool:
    """Whether ``python -m module`` would find the module (in process for this Python)."""
    try:
        same = os.path.samefile(python, sys.executable)
    except OSError:
        same = False
    if same:
        import importlib.util

        return importlib.util.find_spec(module) is not None
    code = "import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)"
    try:
        proc = subprocess.run(
            [python, "-c", code, module], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def command_problems(specs: Sequence[BuildSpec], python: str = sys.executable) -> list[str]:
    """Whether the first word of each build command can run here: the program is on
    ``PATH`` (or an executable path), and for ``PYTHON -m MODULE`` the module is
    installed. One problem per command, naming the missing program or module."""
    problems = []
    for spec in specs:
        first = spec.command[0].replace("{python}", python)
        if "{" in first:
            continue  # another placeholder: known only at build time
        search = spec.env.get("PATH", os.environ.get("PATH", ""))
        if os.sep in first:
            exe = first if os.access(first, os.X_OK) and Path(first).is_file() else None
        else:
            exe = shutil.which(first, path=None if "{" in search else search)
        if exe is None:
            problems.append(
                f"build {spec.name}: the program {first!r} is not installed (not on PATH)"
            )
            continue
        args = spec.command[1:]
        is_python = spec.command[0] == "{python}" or Path(first).name.startswith("python")
        if is_python and len(args) >= 2 and args[0] == "-m" and "{" not in args[1]:
            module = args[1].split(".")[0]
            if not _has_module(exe, module):
                problems.append(
                    f"build {spec.name}: No module named {module} (the command runs "
                    f"`{Path(first).name} -m {args[1]}`; install it, e.g. pip install {module})"
                )
    return problems


def _targets(spec: BuildSpec, only: str | None) -> list[str | None]:
    if not spec.targets:
        return [None] if only in (None, "any") else []
    if only is None:
        return list(spec.targets)
    return [only] if only in spec.targets else []


def all_targets(specs: Sequence[BuildSpec]) -> list[str]:
    """Every slice name: declared OS-ARCH targets, plus ``any`` for target-less builds."""
    names = {t for s in specs for t in s.targets}
    if any(not s.targets for s in specs):
        names.add("any")
    return sorted(names)


def _values(ctx: BuildContext, target: str | None, out: Path) -> dict[str, str]:
    os_name, arch = (target or host_target()).split("-", 1)
    return {
        "version": ctx.version,
        "pep440": ctx.pep440,
        "tag": ctx.tag,
        "os": os_name,
        "arch": arch,
        "out": str(out),
        "python": ctx.python,
    }


def _fill(template: str, values: Mapping[str, str], where: str, *, strict: bool = False) -> str:
    """Substitute known placeholders. Commands and env keep other braces as they are
    (shell snippets, f-strings); artifact names (``strict``) must not contain any."""

    def sub(m: re.Match[str]) -> str:
        if m[1] not in values:
            if not strict:
                return m[0]
            raise ConfigError(
                f"{where}: unknown placeholder {{{m[1]}}}",
                hint="placeholders: " + " ".join(f"{{{k}}}" for k in values),
            )
        return values[m[1]]

    return re.sub(r"\{(\w+)\}", sub, template)


def plan_artifacts(
    specs: Sequence[BuildSpec], ctx: BuildContext, out: Path, target: str | None = None
) -> list[Artifact]:
    """The artifacts the builds must produce (for the plan and the comparison)."""
    arts: list[Artifact] = []
    for spec in specs:
        for tgt in _targets(spec, target):
            values = _values(ctx, tgt, out)
            os_name, arch = (None, None) if tgt is None else tgt.split("-", 1)
            for pattern in spec.artifacts:
                name = _fill(pattern, values, f"build {spec.name!r} artifacts", strict=True)
                if "/" in name or name.startswith("."):
                    raise ConfigError(f"build {spec.name!r}: artifact {name!r} must be a file name")
                arts.append(Artifact(name, out / name, spec.name, os_name, arch))
    names = [a.name for a in arts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"two builds declare the same artifact: {', '.join(dupes)}")
    return arts


def run_builds(
    specs: Sequence[BuildSpec],
    ctx: BuildContext,
    *,
    src: Path,
    out: Path,
    target: str | None = None,
) -> list[Artifact]:
    """Run every build (or one target's slice) in ``src`` writing into ``out``.

    Raises :class:`BuildError` when a command fails, or when ``out`` then holds a
    missing or an unexpected file.
    """
    if not specs:
        raise BuildError(
            "no build commands are configured", hint="add [[tool.release.build]] to pyproject.toml"
        )
    expected = plan_artifacts(specs, ctx, out, target)
    if not expected:
        raise BuildError(f"no build is configured for target {target}")
    out.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        for tgt in _targets(spec, target):
            values = _values(ctx, tgt, out)
            where = f"build {spec.name!r}"
            cmd = [_fill(part, values, where) for part in spec.command]
            env = {**os.environ, **{k: _fill(v, values, where) for k, v in spec.env.items()}}
            log.info("running %s: %s", spec.name, " ".join(cmd))
            try:
                proc = subprocess.run(
                    cmd,
                    cwd=src,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                    stdin=subprocess.DEVNULL,
                )
            except OSError as exc:
                raise BuildError(f"{where} could not start {cmd[0]!r}: {exc.strerror}") from exc
            if proc.returncode != 0:
                tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
                raise BuildError(
                    f"{where} failed with exit code {proc.returncode}",
                    hint=f"last output:\n{tail}" if tail else None,
                )
    actual = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    wanted = {a.name for a in expected}
    missing, extra = sorted(wanted - actual), sorted(actual - wanted)
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        raise BuildError(
            "build output does not match the declared artifacts: " + "; ".join(parts),
            hint="fix the build or the artifacts list of [[tool.release.build]]",
        )
    return expected
