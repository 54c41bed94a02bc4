"""The client's check of a ``{line}`` channel role against the maintainers' line
binding (``views.check_line_binding``), table by table: pure values, no store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tuf.api._payload import DelegatedRole, Delegations, TargetFile, Targets

from release.channel.tuf.keys import SigstoreOidcKey
from release.channel.tuf.lines import branch_pattern, line_of_branch
from release.channel.tuf.views import check_line_binding
from release.config import Identity
from release.errors import TrustError

ISSUER = "https://token.actions.githubusercontent.com"
TEMPLATE = "https://github.com/acme/x/.github/workflows/stable.yml@refs/heads/release/{line}"
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


def key(line: str) -> Any:
    return SigstoreOidcKey.from_identity(Identity(TEMPLATE.replace("{line}", line), ISSUER))


def top(lines: tuple[str, ...] = ("2.14", "2.15"), retired: tuple[str, ...] = ("2.12",)) -> Targets:
    t = Targets(version=3, expires=EXPIRES)
    binding = {
        "signer": {"identity": TEMPLATE, "issuer": ISSUER},
        "lines": {ln: TEMPLATE.replace("{line}", ln) for ln in lines},
        "retired-lines": {ln: TEMPLATE.replace("{line}", ln) for ln in retired},
    }
    role = DelegatedRole(
        "acme", [key(ln).keyid for ln in lines], 1, True, paths=["channels/acme/*"]
    )
    role.unrecognized_fields["x-release-channels"] = binding
    t.delegations = Delegations({k.keyid: k for k in map(key, lines)}, {"acme": role})
    return t


def channel_role(*lines: tuple[str, str, list[str]]) -> Targets:
    """Delegations (line, key's line, paths); the channel document as its one target."""
    t = Targets(version=2, expires=EXPIRES)
    t.targets["channels/acme/v2.json"] = TargetFile(
        1, {"sha256": "0" * 64}, "channels/acme/v2.json"
    )
    roles, keys = {}, {}
    for line, signer, paths in lines:
        k = key(signer)
        roles[f"acme.{line}"] = DelegatedRole(f"acme.{line}", [k.keyid], 1, True, paths=paths)
        keys[k.keyid] = k
    t.delegations = Delegations(keys, roles)
    return t


def own(line: str) -> list[str]:
    return [f"channels/acme/lines/{line}/*", f"releases/acme-{line}.*/*"]


def test_bound_and_retired_lines_pass() -> None:
    role = channel_role(("2.12", "2.12", own("2.12")), ("2.15", "2.15", own("2.15")))
    check_line_binding(top(), "acme", role, "metadata/2.acme.json")


def test_a_channel_without_binding_is_not_checked() -> None:
    t = top()
    assert t.delegations is not None
    assert t.delegations.roles is not None
    t.delegations.roles["acme"].unrecognized_fields.clear()
    check_line_binding(t, "acme", channel_role(("2.15", "2.14", ["*"])), "f")


@pytest.mark.parametrize(
    ("delegation", "message"),
    [
        (
            ("2.15", "2.14", own("2.15")),
            "delegates line role acme.2.15 to .*release/2.14; targets "
            r"v3 binds line 2.15 to .*release/2.15$",
        ),
        (
            ("2.16", "2.16", own("2.16")),
            "delegates acme.2.16, but targets v3 authorises no identity for line 2.16 of acme",
        ),
        (
            ("2.14", "2.14", [*own("2.14"), "releases/acme-2.15.*/*"]),
            r"gives line role acme\.2\.14 the path releases/acme-2\.15",
        ),
        (
            ("2.14", "2.14", ["releases/acme-12.14.*/*"]),
            r"gives line role acme\.2\.14 the path releases/acme-12\.14",
        ),
        (
            ("2.14", "2.14", ["releases/*2.14.*/*"]),
            r"gives line role acme\.2\.14 the path releases/\*2\.14",
        ),
        (
            ("2.14", "2.14", ["channels/acme/lines/*/*"]),
            r"gives line role acme\.2\.14 the path channels/acme/lines/\*/\*, outside line 2\.14$",
        ),
    ],
)
def test_refusals_name_file_and_role(delegation: tuple[str, str, list[str]], message: str) -> None:
    with pytest.raises(TrustError, match=rf"^metadata/2\.acme\.json \(role acme\) {message}"):
        check_line_binding(top(), "acme", channel_role(delegation), "metadata/2.acme.json")


def test_a_line_file_in_the_channel_role_itself_is_refused() -> None:
    role = channel_role()
    path = "channels/acme/lines/2.15/v1.json"
    role.targets[path] = TargetFile(1, {"sha256": "0" * 64}, path)
    with pytest.raises(TrustError, match=rf"lists {path}: role acme may list only"):
        check_line_binding(top(), "acme", role, "metadata/2.acme.json")


@pytest.mark.parametrize(
    ("template", "branch", "line"),
    [
        ("release/{line}", "release/2.15", "2.15"),
        ("acme-{major}.{minor}.x", "acme-2.15.x", "2.15"),
        ("{major}.{minor}.x", "2.15.x", "2.15"),
        ("{major}.{minor}.x", "02.15.x", None),
        ("release/{line}", "release/2.15-rc", None),
        ("release/stable-{major}.{minor}", "release/stable-10.0", "10.0"),
        ("v{major}.{minor}/{major}", "v2.15/2", "2.15"),
        ("v{major}.{minor}/{major}", "v2.15/3", None),
    ],
)
def test_line_branches(template: str, branch: str, line: str | None) -> None:
    assert line_of_branch(branch_pattern(template), branch) == line
