"""A synthetic history of backports with every failure mode the ledger meets, and the truth.

Built in a second or two with ``git fast-import``. Main gets conventional commits
with PR numbers, each adding files in an area of the tree (so a clean cherry-pick
has the same patch-id); stable lines are cut from main at intervals and
interleave, on Linkerd's ``release/stable-2.N`` branches. Each line carries
backports made in the ways real projects make them:

- ``trailer``: ``cherry-pick -x``;
- ``patch-id``: a clean pick without trailer, sometimes reworded;
- ``pr``: a hand-resolved pick whose subject keeps the PR number;
- ``squash-ref``: squashed under a new PR number with a hand-resolved diff, the body
  naming the original PR (``Backport of #123``);
- ``squash-many``: one commit carrying two or three main changes, its body listing
  them as ``* fix: … (#123)`` bullets (GitHub's squash message);
- ``reworded``: a new PR number and a hand-resolved diff, no reference, the same
  description and files;

and commits that come from nowhere on main, which must match nothing: release
commits, direct fixes on the line touching the same files as main changes, version
bumps whose words match main's but whose numbers differ, conflict resolutions, and
merges of resolved conflict branches.

:func:`build` returns the truth: for every line commit, the main commits it carries.
"""

from __future__ import annotations

import os
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

AREAS = ["proxy", "policy", "destination", "identity", "cli", "viz", "injector", "charts"]
VERBS = ["fix", "feat", "perf", "refactor", "chore"]
WORDS = [
    "retry",
    "idempotent",
    "requests",
    "handle",
    "endpoint",
    "updates",
    "drop",
    "stale",
    "connections",
    "reload",
    "certificates",
    "validate",
    "annotations",
    "report",
    "metrics",
    "trim",
    "headers",
    "cache",
    "discovery",
    "responses",
    "respect",
    "timeouts",
    "during",
    "shutdown",
    "rotate",
    "identity",
    "keys",
    "load",
    "balancer",
    "weights",
    "expose",
    "readiness",
    "probe",
    "reject",
    "invalid",
    "routes",
]
KINDS = ("trailer", "patch-id", "pr", "squash-ref", "squash-many", "reworded")
WEIGHTS = (30, 30, 14, 14, 6, 6)


@dataclass
class Truth:
    """What the ledger must find: ``line commit -> main commits`` per line branch."""

    carried: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # line commit -> failure mode
    decoys: dict[str, set[str]] = field(default_factory=dict)  # branch -> line-only commits
    main_commits: int = 0

    def specs(self) -> list[tuple[str, str]]:
        """``(line, branch)`` of every line, for :func:`release.ledger.line_ledgers`."""
        return [(b.removeprefix("release/stable-"), b) for b in self.carried]

    @property
    def backports(self) -> int:
        return sum(len(m) for b in self.carried.values() for m in b.values())


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def build(
    path: Path,
    *,
    main_commits: int = 3000,
    lines: int = 10,
    backports: int = 464,
    seed: int = 7,
) -> Truth:
    """Create the repository at ``path`` (which must not exist) and return the truth."""
    rng = random.Random(seed)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    out: list[str] = []
    t = [1_600_000_000]
    mark = [0]

    def commit(
        ref: str, msg: str, parent: int | None, files: dict[str, str], merge: int = 0
    ) -> int:
        mark[0] += 1
        t[0] += 600
        who = f"Dev {mark[0] % 17} <dev{mark[0] % 17}@example.com> {t[0]} +0000"
        out.append(f"commit {ref}\nmark :{mark[0]}\nauthor {who}\ncommitter {who}\n")
        out.append(_data(msg))
        if parent is not None:
            out.append(f"from :{parent}\n")
        if merge:
            out.append(f"merge :{merge}\n")
        for name, content in files.items():
            out.append(f"M 644 inline {name}\n{_data(content)}")
        out.append("\n")
        return mark[0]

    # main: every commit adds one or two new files in its area
    main: list[tuple[int, str, dict[str, str], int]] = []  # (mark, subject, files, pr)
    parent: int | None = None
    pr = 1000
    for i in range(main_commits):
        pr += 1
        area = AREAS[i % len(AREAS)]
        desc = " ".join(rng.sample(WORDS, 4))
        if i % 23 == 0:
            desc = f"bump {area} dependency to 1.{i % 7}.{i}"
        subject = f"{rng.choice(VERBS)}({area}): {desc} (#{pr})"
        files = {f"{area}/c{i}.go": f"package {area}\n// {desc}\nfunc C{i}() {{}}\n"}
        if i % 3 == 0:
            files[f"{area}/c{i}_test.go"] = f"package {area}\nfunc TestC{i}() {{}}\n"
        parent = commit("refs/heads/main", subject, parent, files)
        main.append((parent, subject, files, pr))

    sha_of = _import(path, env, out, phase="main")
    out.clear()
    truth = Truth(main_commits=main_commits)
    carried_marks: dict[str, dict[int, frozenset[int]]] = {}
    decoy_marks: dict[str, list[int]] = {}
    kind_of: dict[int, str] = {}
    per_line = backports // lines
    span = main_commits // (lines + 1)
    for n in range(lines):
        cut = span * (n + 1)
        line = f"2.{n + 10}"
        branch = f"release/stable-{line}"  # Linkerd's branch format
        head = main[cut - 1][0]
        later = list(range(cut, main_commits))
        chosen = sorted(rng.sample(later, min(per_line, len(later))))
        carried_marks[branch] = {}
        decoy_marks[branch] = []
        k = 0
        bpr = 50_000 + 1000 * n
        while k < len(chosen):
            kind = rng.choices(KINDS, WEIGHTS)[0]
            group = chosen[k : k + (rng.choice((2, 3)) if kind == "squash-many" else 1)]
            k += len(group)
            srcs = [main[i] for i in group]
            m_mark, subject, files, mpr = srcs[0]
            desc = subject.split(": ", 1)[1].rsplit(" (#", 1)[0]
            bpr += 1
            new_files = files
            if kind == "trailer":
                msg = f"{subject}\n\n(cherry picked from commit {sha_of[m_mark]})"
            elif kind == "patch-id":
                msg = subject if rng.random() < 0.5 else f"[{line}] {subject}"
            elif kind == "pr":
                msg = f"[{line}] {subject}"
                new_files = {p: c + "// resolved by hand\n" for p, c in files.items()}
            elif kind == "squash-ref":
                msg = f"backport: {desc} (#{bpr})\n\nBackport of #{mpr} to {line}."
                new_files = {p: c + "// adapted\n" for p, c in files.items()}
            elif kind == "squash-many":
                bullets = "\n".join(f"* {s}" for _, s, _, _ in srcs)
                msg = f"Backport {len(srcs)} fixes to {line} (#{bpr})\n\n{bullets}"
                new_files = {}
                for _, _, f, _ in srcs:
                    new_files.update({p: c + "// squashed\n" for p, c in f.items()})
            else:  # reworded
                msg = f"{subject.split(':', 1)[0]}: {desc} (#{bpr})"
                new_files = {p: c + "// resolved\n" for p, c in files.items()}
            head = commit(f"refs/heads/{branch}", msg, head, new_files)
            carried_marks[branch][head] = frozenset(s[0] for s in srcs)
            kind_of[head] = kind
            roll = rng.random()
            if roll < 0.12:  # the line's own dependency bump: main's words, other numbers
                area = rng.choice(AREAS)
                bpr += 1
                head = commit(
                    f"refs/heads/{branch}",
                    f"chore({area}): bump {area} dependency to 2.{n}.{bpr} (#{bpr})",
                    head,
                    {f"{area}/deps-{branch}.lock": f"{bpr}\n"},
                )
                decoy_marks[branch].append(head)
            elif roll < 0.22:  # a direct fix on the line, in the files of a backport
                bpr += 1
                head = commit(
                    f"refs/heads/{branch}",
                    f"fix: line-only correction for {line} (#{bpr})",
                    head,
                    {p: c + "// line-only\n" for p, c in new_files.items()},
                )
                decoy_marks[branch].append(head)
            elif roll < 0.27:
                head = commit(
                    f"refs/heads/{branch}",
                    f"Release stable-{line}.{bpr % 50}",
                    head,
                    {"CHANGELOG.md": f"release {bpr}\n"},
                )
                decoy_marks[branch].append(head)
            elif roll < 0.31:  # a resolved conflict branch merged into the line
                side = commit(
                    f"refs/heads/backport/{line}/{bpr}",
                    f"Resolve conflicts in {next(iter(new_files))}",
                    head,
                    {p: c + "// conflict resolved\n" for p, c in new_files.items()},
                )
                head = commit(
                    f"refs/heads/{branch}",
                    f"Merge branch 'backport/{line}/{bpr}' into {branch}",
                    head,
                    {},
                    merge=side,
                )
                decoy_marks[branch] += [side, head]
    sha_of.update(_import(path, env, out, phase="lines"))
    for branch, entries in carried_marks.items():
        truth.carried[branch] = {
            sha_of[mk]: frozenset(sha_of[m] for m in mains) for mk, mains in entries.items()
        }
        truth.decoys[branch] = {sha_of[mk] for mk in decoy_marks[branch]}
    truth.kinds = {sha_of[mk]: kind for mk, kind in kind_of.items()}
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True, env=env)
    return truth


def _import(path: Path, env: dict[str, str], out: list[str], *, phase: str) -> dict[int, str]:
    """Run ``git fast-import`` on ``out``; the marks of every commit so far, as shas."""
    marks = path / ".git" / "synth-marks"
    args = ["git", "fast-import", "--quiet", f"--export-marks={marks}"]
    if phase != "main":
        args.append(f"--import-marks={marks}")
    proc = subprocess.run(
        args, cwd=path, input="".join(out).encode(), env=env, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace"))
    sha_of = {}
    for line in marks.read_text().splitlines():
        mk, sha = line.split()
        sha_of[int(mk[1:])] = sha
    return sha_of


def score(path: Path, truth: Truth) -> dict[str, object]:
    """Run the ledger over every line and compare with the truth: backports found (a
    main commit counted as carried by the right line commit), false matches (counted
    but wrong), possible matches shown (low confidence, not counted)."""
    from release.adapters.git import Git
    from release.ledger import line_ledgers

    git = Git(path)
    ledgers = line_ledgers(git, truth.specs(), "main")
    found = false = possible = 0
    missed: dict[str, int] = {}
    for ledger in ledgers:
        want = truth.carried[ledger.branch]
        for entry in ledger.entries:
            got = {entry.origin.main_commit, *entry.origin.also} if entry.origin else set()
            right = want.get(entry.commit, frozenset())
            found += len(got & right)
            false += len(got - right)
            possible += entry.possible is not None
            for sha in right - got:
                kind = truth.kinds[entry.commit]
                missed[kind] = missed.get(kind, 0) + 1
                del sha
    total = truth.backports
    return {
        "backports": total,
        "found": found,
        "found_pct": round(100 * found / total, 2) if total else 100.0,
        "false_matches": false,
        "possible_shown": possible,
        "missed_by_kind": missed,
    }
