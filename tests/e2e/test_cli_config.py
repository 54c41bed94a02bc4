"""``release config`` and config errors through the CLI: one error line, exit 2, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release.cli import main
from tests.helpers.gitrepo import Repo


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            {"pyproject.toml": "[tool]\nrelease = 'x'\n"},
            "error: pyproject.toml: [tool] release: expected a table ([tool.release]), "
            'got string "x"',
        ),
        (
            {"pyproject.toml": "[tool.release]\nbuild = ['echo hi']\n"},
            "error: pyproject.toml: [tool.release] build #1: expected a table "
            '(name, command, artifacts, env, targets), got string "echo hi"',
        ),
        (
            {"pyproject.toml": "[tool.release]\nrepository = 5\n"},
            "error: pyproject.toml: [tool.release] repository: expected a non-empty string, "
            "got integer 5",
        ),
        (
            {"channels/stable.toml": "[support]\nlines = 5\n"},
            'error: channels/stable.toml: [support] lines: expected a table of lines "X.Y" = '
            "{released, eol}, got integer 5",
        ),
        (
            {"channels/edge.toml": "publish = 'pages'\n"},
            "error: channels/edge.toml: publish: expected a table (target, pages-branch, url, "
            'bucket, prefix, endpoint-url, region), got string "pages"',
        ),
        (
            {"pyproject.toml": "[tool.release]\nchangelog-comit = true\n"},
            "error: pyproject.toml: [tool.release] changelog-comit: unknown key; did you mean "
            '"changelog-commit"?',
        ),
        (
            {"channels/stable.toml": "[suport]\nmaintained-lines = 3\n"},
            'error: channels/stable.toml: suport: unknown key; did you mean "support"?',
        ),
        (
            {"release.toml": "project = 'a'\n", "pyproject.toml": "[tool.release]\n"},
            "error: both release.toml and [tool.release] in pyproject.toml configure this project",
        ),
    ],
)
@pytest.mark.parametrize("command", [["status"], ["config"], ["edge", "--dry-run"]])
def test_bad_config_is_one_clear_error(
    repo: Repo,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    error: str,
    command: list[str],
) -> None:
    for name, text in files.items():
        path = repo.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    repo.commit("chore: config", date="2026-01-01T00:00:00+00:00")
    before = snapshot(repo.path)
    code, out, err = run(capsys, "--repo", str(repo.path), *command)
    assert code == 2, err
    lines = err.splitlines()
    assert lines[0] == error
    assert all(line.startswith("hint: ") for line in lines[1:])
    assert "Traceback" not in err
    assert out == ""
    assert snapshot(repo.path) == before


def test_config_prints_values_with_their_sources(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.path / "channels").mkdir()
    (repo.path / "channels/stable.toml").write_text(
        "branch-format = 'release/stable-{major}.{minor}'\n"
    )
    (repo.path / "release.toml").write_text("repository = 'https://github.com/o/p'\n")
    code, out, err = run(capsys, "--repo", str(repo.path), "config")
    assert code == 0, err
    lines = out.splitlines()
    assert "# project settings: release.toml" in lines
    assert "# channel edge: Linkerd defaults (no channels/edge.toml)" in lines
    shown = {line.split("  #")[0].strip(): line.split("# ")[-1] for line in lines if " = " in line}
    assert shown['repository = "https://github.com/o/p"'] == "release.toml"
    assert shown['branch-format = "release/stable-{major}.{minor}"'] == "channels/stable.toml"
    assert shown['tag-format = "edge-{yy}.{m}.{n}"'] == "default"
    assert "[channels.stable]" in lines

    code, out, err = run(capsys, "--repo", str(repo.path), "config", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["config_file"] == "release.toml"
    assert data["channels"] == ["edge", "stable"]
    values = data["values"]
    assert values["channels.stable.branch-format"] == {
        "value": "release/stable-{major}.{minor}",
        "source": "channels/stable.toml",
    }
    assert values["channels.stable.tag-format"] == {
        "value": "stable-{version}",
        "source": "default",
    }
    assert values["project"]["source"] == "default (the directory name)"
    assert values["channels.edge.signer"] == {"value": None, "source": "default"}


def test_config_keys_is_the_schema(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--repo", str(repo.path), "config", "--keys")
    assert code == 0, err
    lines = out.splitlines()
    assert "# channels/NAME.toml" in lines
    assert "[[build]]" in lines
    assert "[support.lines.<name>]" in lines
    assert any(line.startswith("  changelog-commit: true or false (") for line in lines)
    assert any(
        line.startswith("  branch-format: ") and 'default "{major}.{minor}.x"' in line
        for line in lines
    )
    data = json.loads(run(capsys, "--repo", str(repo.path), "--json", "config", "--keys")[1])
    keys = {(row["table"], row["key"]) for row in data["channels/NAME.toml"]}
    assert {("", "tag-format"), ("signer", "identity"), ("publish", "target")} <= keys
