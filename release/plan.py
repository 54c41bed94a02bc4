"""Release plans (pure): what a run will do, as values that print as ``--dry-run``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from release.config import Identity
from release.versions import EdgeVersion, StableVersion

# Every release runs these steps in this order; the journal records each.
STEPS: tuple[str, ...] = (
    "prepare",  # cherry-picks (stable), changelog commit (plumbing; no ref moves)
    "build",  # run build commands in an export of the release commit
    "checksums",  # stream sha256 of every artifact, SHA256SUMS
    "sign",  # Sigstore bundles + SLSA provenance, each verified against the channel identity
    "tag",  # advance the branch, annotated tag
    "publish",  # releases/<tag>/ then channel documents then index.json (atomic swap)
    "push",  # git push --atomic branch + tag (only with --push)
    "github",  # GitHub release: draft -> assets -> verify -> publish (only with --push)
)


@dataclass(frozen=True)
class ReleasePlan:
    channel: str
    kind: str  # "edge" | "stable"
    version: EdgeVersion | StableVersion
    tag: str
    pep440: str
    branch: str  # the branch that carries the release commit
    base_commit: str  # the branch head the release starts from (None-branch: new line)
    branch_exists: bool
    previous_tag: str | None
    commit_count: int
    notes: str
    artifacts: tuple[str, ...]
    sign_mode: str
    signer: Identity | None
    changelog_commit: bool
    changelog_path: str
    push: bool
    out: str
    now: datetime
    repository: str | None = None
    picks: tuple[str, ...] = ()
    on_line: tuple[str, ...] = ()  # unreleased commits already on the line, with their origin
    cut_from: str | None = None
    make_latest: bool = True
    prerelease: bool = False
    steps: tuple[str, ...] = STEPS
    warnings: tuple[str, ...] = field(default=())

    @property
    def line(self) -> str:
        return str(self.version.line)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "kind": self.kind,
            "version": str(self.version),
            "tag": self.tag,
            "pep440": self.pep440,
            "line": self.line,
            "branch": self.branch,
            "base_commit": self.base_commit,
            "new_branch": not self.branch_exists,
            "previous_tag": self.previous_tag,
            "commits": self.commit_count,
            "picks": list(self.picks),
            "on_line": list(self.on_line),
            "cut_from": self.cut_from,
            "artifacts": list(self.artifacts),
            "sign": self.sign_mode,
            "signer": None
            if self.signer is None
            else {"identity": self.signer.identity, "issuer": self.signer.issuer},
            "changelog_commit": self.changelog_commit,
            "push": self.push,
            "out": self.out,
            "make_latest": self.make_latest,
            "prerelease": self.prerelease,
            "steps": [s for s in self.steps if self.runs(s)],
            "notes": self.notes,
            "warnings": list(self.warnings),
        }

    def runs(self, step: str) -> bool:
        if step in ("push", "github"):
            return self.push
        return True

    def render(self) -> str:
        """The plan as text, for ``--dry-run``."""
        d = self.to_dict()
        signer = f"{self.signer.identity} ({self.signer.issuer})" if self.signer else "unsigned"
        rows = [
            f"release {self.tag}  ({self.kind} channel {self.channel!r}, line {self.line})",
            f"  commit     {self.base_commit[:12]} on {self.branch}"
            + ("  (new branch)" if not self.branch_exists else ""),
            f"  since      {self.previous_tag or '(first release)'}: {self.commit_count} commits",
        ]
        if self.cut_from:
            rows.append(f"  cut from   {self.cut_from}")
        if self.picks:
            rows.append("  picks      " + " ".join(p[:12] for p in self.picks))
        rows += [f"  on line    {row}" for row in self.on_line]
        rows += [
            f"  pep440     {self.pep440}",
            "  artifacts  " + (", ".join(self.artifacts) or "(none)"),
            f"  sign       {self.sign_mode}: {signer}",
            "  changelog  "
            + (f"commit to {self.changelog_path}" if self.changelog_commit else "notes only"),
            f"  publish    {self.out}" + ("  + push" if self.push else "  (no push)"),
            "  steps      " + " -> ".join(d["steps"]),
        ]
        rows += [f"  warning    {w}" for w in self.warnings]
        rows += ["", self.notes.rstrip()]
        return "\n".join(rows) + "\n"


def plan_from_dict(data: dict[str, Any]) -> ReleasePlan:
    """Rebuild a plan recorded in a journal (inverse of ``to_dict`` + ``now``)."""
    kind = data["kind"]
    version: EdgeVersion | StableVersion = (
        EdgeVersion.parse(data["version"])
        if kind == "edge"
        else StableVersion.parse(data["version"])
    )
    signer = data.get("signer")
    return ReleasePlan(
        channel=data["channel"],
        kind=kind,
        version=version,
        tag=data["tag"],
        pep440=data["pep440"],
        branch=data["branch"],
        base_commit=data["base_commit"],
        branch_exists=not data["new_branch"],
        previous_tag=data["previous_tag"],
        commit_count=data["commits"],
        notes=data["notes"],
        artifacts=tuple(data["artifacts"]),
        sign_mode=data["sign"],
        signer=None if signer is None else Identity(signer["identity"], signer["issuer"]),
        changelog_commit=data["changelog_commit"],
        changelog_path=data.get("changelog_path", "CHANGELOG.md"),
        push=data["push"],
        out=data["out"],
        now=datetime.fromisoformat(data["now"]),
        repository=data.get("repository"),
        picks=tuple(data.get("picks", ())),
        on_line=tuple(data.get("on_line", ())),
        cut_from=data.get("cut_from"),
        make_latest=data.get("make_latest", True),
        prerelease=data.get("prerelease", False),
        warnings=tuple(data.get("warnings", ())),
    )


def plan_to_journal(plan: ReleasePlan) -> dict[str, Any]:
    data = plan.to_dict()
    data.update(
        now=plan.now.isoformat(), changelog_path=plan.changelog_path, repository=plan.repository
    )
    return data
