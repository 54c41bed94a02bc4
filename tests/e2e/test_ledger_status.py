"""The backport ledger and `release status` on Linkerd-shaped histories: backports without
``-x`` trailers, many lines, backports interleaved by date with newer lines."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from release.adapters.git import Git
from release.cli import main
from release.config import load_config
from release.ledger import line_ledger, lines_carrying
from release.stable import line_status
from release.versions import Line
from tests.helpers.gitrepo import Repo, make_repo


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    code = main(["--json", *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def _day(n: int) -> str:
    return f"2024-{1 + n // 28:02d}-{1 + n % 28:02d}T10:00:00Z"


def _linkerd_like(tmp: Path) -> tuple[Repo, dict[str, str]]:
    """Lines 2.2 … 2.14 on branches ``2.X.x``; fixes land on main, then are cherry-picked
    WITHOUT -x onto the lines; 2.13/2.12 backports are tagged after 2.14 releases."""
    repo = make_repo(tmp)
    shas: dict[str, str] = {}
    n = 0

    def commit(subject: str, files: dict[str, str]) -> str:
        nonlocal n
        n += 1
        return repo.commit(subject, date=_day(n), files=files)

    commit("initial", {"README.md": "hi\n"})
    for minor in range(2, 15):
        shas[f"feat{minor}"] = commit(
            f"feat: feature {minor} (#{minor * 100})", {f"feat{minor}.txt": "x\n"}
        )
        repo.git("branch", f"2.{minor}.x")
        repo.tag(f"stable-2.{minor}.0", ref=f"2.{minor}.x", date=_day(n))
        if minor < 14:
            # one point release per older line, picked without -x
            fix = commit(f"fix: bug {minor} (#{minor * 100 + 1})", {f"fix{minor}.txt": "f\n"})
            shas[f"fix{minor}"] = fix
            repo.git("checkout", "-q", f"2.{minor}.x")
            repo.git("cherry-pick", fix, date=_day(n + 1))  # a distinct commit
            repo.tag(f"stable-2.{minor}.1", date=_day(n))
            repo.git("checkout", "-q", "main")
    # 2.14 gets two points; 2.13 and 2.12 backports interleave by date
    shared = commit("fix(proxy): shared fix (#1501)", {"proxy.txt": "fixed\n"})
    shas["shared"] = shared
    adapted = commit("fix: adapted on the line (#1502)", {"adapt.txt": "main version\n"})
    shas["adapted"] = adapted
    for line, patch in (("2.14", 1), ("2.13", 2), ("2.14", 2), ("2.12", 2), ("2.13", 3)):
        repo.git("checkout", "-q", f"{line}.x")
        if (line, patch) == ("2.14", 1) or (line, patch) == ("2.13", 2):
            repo.git("cherry-pick", shared, date=_day(n))
        elif (line, patch) == ("2.14", 2):
            n += 1
            repo.commit(
                "[2.14] fix: adapted on the line (#1502)",
                date=_day(n),
                files={"adapt.txt": "line version\n"},
            )
            n += 1
            repo.commit("chore: release notes for 2.14.2", date=_day(n), files={"N.md": "n\n"})
        else:
            n += 1
            repo.commit(f"chore: bump {line}.{patch}", date=_day(n), files={"b.txt": line})
        n += 1
        repo.tag(f"stable-{line}.{patch}", date=_day(n))
        repo.git("checkout", "-q", "main")
    repo.tag("v18.7.1")  # junk: ignored
    repo.tag("git-1a18ca8f")
    return repo, shas


def test_ledger_without_trailers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, shas = _linkerd_like(tmp_path)
    assert "cherry picked" not in repo.git("log", "--all", "--format=%B")
    git = Git(repo.path)
    ledger = line_ledger(git, "2.14", "2.14.x", "main")
    got = [
        (e.subject, e.origin.main_commit if e.origin else None, e.origin and e.origin.how)
        for e in ledger.entries
    ]
    assert got == [
        ("fix(proxy): shared fix (#1501)", shas["shared"], "patch-id"),
        ("[2.14] fix: adapted on the line (#1502)", shas["adapted"], "pr"),
        ("chore: release notes for 2.14.2", None, None),
    ]
    assert ledger.cut_base == repo.git("rev-parse", "stable-2.14.0^{commit}")
    assert ledger.carried() == {
        shas["shared"]: ledger.entries[0].commit,
        shas["adapted"]: ledger.entries[1].commit,
    }

    config = load_config(repo.path)
    lines = [c.line for c in lines_carrying(git, config.stable, [], shas["shared"])]
    assert lines == []  # no lines asked
    all_lines = [Line(2, m) for m in range(2, 15)]
    carriers = lines_carrying(git, config.stable, all_lines, shas["shared"])
    assert [(c.line, c.how) for c in carriers] == [("2.14", "patch-id"), ("2.13", "patch-id")]
    # a feature from before a line's cut is carried since the cut by every newer line
    carriers = lines_carrying(git, config.stable, all_lines, shas["feat12"])
    assert [(c.line, c.how) for c in carriers] == [
        ("2.14", "cut"),
        ("2.13", "cut"),
        ("2.12", "cut"),
    ]

    # the same through the CLI
    data = _cli(capsys, "--repo", str(repo.path), "stable", "ledger", "2.13")
    entries = data["lines"][0]["entries"]
    assert [(e["subject"], e["how"]) for e in entries] == [
        ("fix: bug 13 (#1301)", "patch-id"),
        ("fix(proxy): shared fix (#1501)", "patch-id"),
        ("chore: bump 2.13.3", None),
    ]
    data = _cli(capsys, "--repo", str(repo.path), "stable", "ledger", "--commit", shas["shared"])
    assert [(x["line"], x["how"]) for x in data["lines"]] == [
        ("2.14", "patch-id"),
        ("2.13", "patch-id"),
    ]
    data = _cli(capsys, "--repo", str(repo.path), "stable", "ledger")
    assert [x["line"] for x in data["lines"]] == [f"2.{m}" for m in range(14, 1, -1)]
    # the shared main pass gives each line the same answer as a ledger of that line alone
    for entry in data["lines"]:
        alone = line_ledger(git, entry["line"], entry["branch"], "main")
        assert entry == alone.to_dict()
    assert data["lines"][-1]["entries"][0]["how"] == "patch-id"  # 2.2's fix, years back


def test_status_lists_every_line_with_its_latest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _ = _linkerd_like(tmp_path)
    # the most recent stable tag by date is a backport to an old line
    newest_by_date = repo.git(
        "for-each-ref",
        "--sort=-creatordate",
        "--count=1",
        "--format=%(refname:short)",
        "refs/tags/stable-*",
    )
    assert newest_by_date == "stable-2.13.3"
    data = _cli(capsys, "--repo", str(repo.path), "status", "--date", "2024-12-01")
    (stable,) = data["stable"]
    got = {x["line"]: (x["latest"]["tag"], x["phase"]) for x in stable["lines"]}
    expected = {f"2.{m}": (f"stable-2.{m}.1", "eol") for m in range(2, 12)}
    expected.update(
        {
            "2.14": ("stable-2.14.2", "active"),
            "2.13": ("stable-2.13.3", "maintenance"),
            "2.12": ("stable-2.12.2", "eol"),
        }
    )
    assert got == expected
    assert [x["line"] for x in stable["lines"]] == [f"2.{m}" for m in range(14, 1, -1)]

    rows = line_status(Git(repo.path), load_config(repo.path).stable, date(2024, 12, 1))
    assert {str(r.line): (r.latest_tag, r.phase) for r in rows} == expected
