from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from release.channel import model
from release.channel import strictjson as sj
from release.channel.model import DocumentError, Support
from release.config import LineSupport, SupportPolicy
from tests.channel.docs import channel_with, index_for, line_doc, release
from tests.helpers.channelkit import EDGE_ID, NOW, PROJECT, STABLE, STABLE_ID

# --- strict JSON -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'\xef\xbb\xbf{"a": 1}', "byte-order mark"),
        (b'{"a": NaN}', "NaN is not valid JSON"),
        (b'{"a": -Infinity}', "-Infinity is not valid JSON"),
        (b'{"a": 1.5}', "not an integer"),
        (b'{"a": 9007199254740992}', "outside the safe range"),
        (b'{"a": 1e400}', "not an integer"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"a": 1', "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_strict_json_refuses(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        sj.loads(data)


def test_strict_json_accepts_largest_safe_integer_and_round_trips() -> None:
    data = sj.dumps({"b": [9007199254740991, -3], "a": "é"})
    assert data == '{"a":"é","b":[9007199254740991,-3]}\n'.encode()
    assert sj.loads(data) == {"a": "é", "b": [9007199254740991, -3]}


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T12:00:00+01:00",
        "2026-11-25T12:00:00",
        "2026-11-25 12:00:00Z",
        "2026-11-25T12:00:00.5Z",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
    ],
)
def test_times_must_be_utc_whole_seconds(text: str) -> None:
    with pytest.raises(DocumentError, match=r"time|real time"):
        sj.time(text, "published_at")


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd",
        "releases/../../x",
        "/abs/file",
        "https://evil.example/x",
        "file:///etc/passwd",
        "releases\\x",
        "releases//x",
        "./x",
        "C:/x",
        "",
    ],
)
def test_relative_paths_only(path: str) -> None:
    with pytest.raises(DocumentError):
        sj.relpath(path, "path")


# --- documents -------------------------------------------------------------------


def _mutate(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    *parents, last = path.split(".")
    target: Any = doc
    for p in parents:
        target = target[int(p)] if p.isdigit() else target[p]
    if value is _DELETE:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return doc


_DELETE = object()


def _line_bytes(d: dict[str, Any]) -> bytes:
    return json.dumps(d).encode()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("latest", "2.15.1", "declared latest '2.15.1' is not the highest active release '2.15.2'"),
        ("releases.1.version", "2.15.0", "unique and in version order"),
        ("releases.0.artifacts.0.sha256", "A" * 64, "not a sha256 digest"),
        ("releases.0.artifacts.0.path", "releases/../x/y.tar.gz", "must not contain '..'"),
        ("releases.0.artifacts.0.path", "/releases/x.tar.gz", "relative path"),
        ("releases.0.artifacts.0.sigstore_bundle.path", "https://x/y", "relative path"),
        ("releases.0.artifacts.0.os", "plan9", "unknown os 'plan9'"),
        ("releases.0.artifacts.0.arch", "pdp11", "unknown arch 'pdp11'"),
        ("tag_format", "edge-{yy}.{m}.{n}", "is an edge format in a stable channel"),
        ("releases.0.version", "26.11.1", "belongs to line 26.11"),
        ("releases.0.status", "withdrawn", "needs a withdrawal record"),
        ("releases.0.published_at", "2026-11-25T12:00:00+00:00", "not a UTC time"),
        ("releases.0.source.commit", "abc", "not a full git object id"),
        ("schema_version", "2.0", "unsupported schema_version 2.0"),
        ("schema_version", "one", "not Major.Minor"),
        ("type", "release-channels/index", "type is 'release-channels/index'"),
        ("version", 0, "must be >= 1"),
        ("releases", _DELETE, "missing field 'releases'"),
    ],
)
def test_line_document_invariants(path: str, value: Any, message: str) -> None:
    good = line_doc("stable", ["2.15.0", "2.15.1", "2.15.2"]).to_dict()
    model.parse_line_document(_line_bytes(good))  # the unmodified document is fine
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        model.parse_line_document(_line_bytes(_mutate(good, path, value)))


def test_edge_release_inside_a_stable_channel_is_refused() -> None:
    edge_release = release("edge", "26.11.1").to_dict()
    doc = line_doc("stable", ["2.15.0"]).to_dict()
    doc.update(line="26.11", latest="26.11.1", releases=[edge_release])
    with pytest.raises(
        DocumentError, match=r"has tag .edge-26.11.1., the stable channel tags it .stable-26.11.1."
    ):
        model.parse_line_document(_line_bytes(doc))
    with pytest.raises(DocumentError, match=r"the stable channel tags it"):
        model.add_release(
            None,
            release("edge", "26.11.1"),
            project=PROJECT,
            channel="stable",
            kind="stable",
            tag_format="stable-{version}",
            signer=STABLE_ID,
            now=NOW,
        )


def test_edge_versions_are_months_and_stable_versions_semver() -> None:
    edge = line_doc("edge", ["26.11.1", "26.11.2"])
    assert (edge.line, edge.latest) == ("26.11", "26.11.2")
    with pytest.raises(DocumentError, match=r"not an edge version"):
        model.parse_version("edge", "2.15.0")
    with pytest.raises(DocumentError, match=r"not a semantic version"):
        model.parse_version("stable", "2.15")


def test_latest_pointing_to_withdrawn_release_is_refused() -> None:
    doc = line_doc("stable", ["2.15.0", "2.15.1"])
    withdrawn = model.withdraw(doc, "2.15.1", reason="broken", now=NOW, signer=STABLE_ID)
    assert withdrawn.latest == "2.15.0"
    bad = _mutate(withdrawn.to_dict(), "latest", "2.15.1")
    with pytest.raises(DocumentError, match=r"not the highest active release '2.15.0'"):
        model.parse_line_document(_line_bytes(bad))


def test_newer_minor_schema_is_accepted_with_a_warning_and_unknown_fields_kept() -> None:
    good = line_doc("stable", ["2.15.0"]).to_dict()
    newer = _mutate(good, "schema_version", "1.7")
    newer["future"] = {"x": [1, 2]}
    newer["releases"][0]["sbom"] = "releases/stable-2.15.0/sbom.json"
    newer["releases"][0]["artifacts"][0]["libc"] = "musl"
    parsed = model.parse_line_document(_line_bytes(newer))
    assert parsed.warnings == (
        "line document uses schema 1.7, newer than 1.0; unknown fields ignored",
    )
    assert parsed.document.to_dict() == newer


def test_channel_latest_for_stable_ignores_backports_on_older_lines() -> None:
    doc, _ = channel_with("stable", {"2.15": ["2.15.0"], "2.14": ["2.14.0", "2.14.1", "2.14.2"]})
    assert doc.latest == "2.15.0"
    assert [e.line for e in doc.lines] == ["2.14", "2.15"]
    assert {e.line: e.latest for e in doc.lines} == {"2.14": "2.14.2", "2.15": "2.15.0"}
    bad = _mutate(doc.to_dict(), "latest", "2.14.2")
    with pytest.raises(DocumentError, match=r"declared latest '2.14.2'"):
        model.parse_channel(_line_bytes(bad))


def test_channel_document_pins_follow_the_path_convention() -> None:
    doc, _ = channel_with("stable", {"2.15": ["2.15.0"]})
    bad = _mutate(doc.to_dict(), "lines.0.document.path", "channels/stable/lines/2.14/v1.json")
    with pytest.raises(DocumentError, match=r"document path"):
        model.parse_channel(_line_bytes(bad))


def test_index_lists_live_lines_and_rejects_eol_entries() -> None:
    doc, _ = channel_with("stable", {"2.13": ["2.13.0"], "2.14": ["2.14.0"], "2.15": ["2.15.0"]})
    phases = {e.line: e.support.phase for e in doc.lines}
    assert phases == {"2.13": "eol", "2.14": "maintenance", "2.15": "active"}
    index = index_for(doc)
    assert set(index.channels["stable"].lines) == {"2.14", "2.15"}
    round_trip = model.parse_index(index.to_bytes()).document
    assert round_trip == index
    d = index.to_dict()
    d["channels"]["stable"]["lines"]["2.13"] = {
        "latest": "2.13.0",
        "support": {"phase": "eol", "released": None, "eol": None},
        "document": d["channels"]["stable"]["lines"]["2.14"]["document"],
    }
    with pytest.raises(DocumentError, match=r"EOL lines are not listed"):
        model.parse_index(_line_bytes(d))


def test_index_entry_must_match_channel_document() -> None:
    doc, _ = channel_with("stable", {"2.15": ["2.15.0", "2.15.1"]})
    index = index_for(doc)
    entry = index.channels["stable"]
    model.consistent(entry, "stable", doc)
    with pytest.raises(DocumentError, match=r"index says latest 2.15.0"):
        model.consistent(replace(entry, latest="2.15.0"), "stable", doc)


def test_add_release_only_moves_forward() -> None:
    doc = line_doc("stable", ["2.15.0", "2.15.2"])
    kw = dict(project=PROJECT, channel="stable", kind="stable", tag_format="stable-{version}")
    with pytest.raises(DocumentError, match=r"already published"):
        model.add_release(doc, release("stable", "2.15.2"), signer=STABLE_ID, now=NOW, **kw)
    with pytest.raises(DocumentError, match=r"not above 2.15.2"):
        model.add_release(doc, release("stable", "2.15.1"), signer=STABLE_ID, now=NOW, **kw)
    with pytest.raises(DocumentError, match=r"belongs to stable/2.16"):
        model.add_release(doc, release("stable", "2.16.0"), signer=STABLE_ID, now=NOW, **kw)
    new = model.add_release(doc, release("stable", "2.15.3"), signer=STABLE_ID, now=NOW, **kw)
    assert (new.version, new.latest, len(new.releases)) == (doc.version + 1, "2.15.3", 3)


def test_withdraw_records_reason_and_replacement() -> None:
    doc = line_doc("stable", ["2.15.0", "2.15.1", "2.15.2"])
    new = model.withdraw(
        doc, "2.15.1", reason="CVE-1", replacement="2.15.2", now=NOW, signer=STABLE_ID
    )
    r = new.release("2.15.1")
    assert r is not None
    assert r.withdrawal is not None
    assert (r.status, r.withdrawal.reason, r.withdrawal.replacement) == (
        "withdrawn",
        "CVE-1",
        "2.15.2",
    )
    assert new.latest == "2.15.2"
    with pytest.raises(DocumentError, match=r"already withdrawn"):
        model.withdraw(new, "2.15.1", reason="again", now=NOW, signer=STABLE_ID)
    with pytest.raises(DocumentError, match=r"replacement 2.15.1 is not an active release"):
        model.withdraw(new, "2.15.2", reason="x", replacement="2.15.1", now=NOW, signer=STABLE_ID)
    last = model.withdraw(new, "2.15.2", reason="x", now=NOW, signer=STABLE_ID)
    assert last.latest == "2.15.0"


@pytest.mark.parametrize(
    ("kind", "policy", "expected"),
    [
        (
            "stable",
            SupportPolicy(maintained_lines=2),
            {
                "2.15": Support("active", date(2026, 3, 1)),
                "2.14": Support("maintenance", date(2026, 2, 1)),
                # pushed out when 2.15 arrived (two lines are maintained)
                "2.13": Support("eol", date(2026, 1, 1), date(2026, 3, 1)),
                "2.12": Support("eol", date(2025, 12, 1), date(2026, 2, 1)),
            },
        ),
        (
            "stable",
            SupportPolicy(
                maintained_lines=1,
                lines={
                    "2.13": LineSupport(date(2026, 1, 1), date(2027, 1, 1)),
                    "2.12": LineSupport(None, date(2026, 1, 15)),
                },
            ),
            {
                "2.15": Support("active", date(2026, 3, 1)),
                "2.14": Support("eol", date(2026, 2, 1), date(2026, 3, 1)),
                "2.13": Support("maintenance", date(2026, 1, 1), date(2027, 1, 1)),
                "2.12": Support("eol", date(2025, 12, 1), date(2026, 1, 15)),
            },
        ),
        (
            "edge",
            SupportPolicy(maintained_lines=3),
            {
                "2.15": Support("active", date(2026, 3, 1)),
                "2.14": Support("eol", date(2026, 2, 1), date(2026, 3, 1)),
                "2.13": Support("eol", date(2026, 1, 1), date(2026, 2, 1)),
                "2.12": Support("eol", date(2025, 12, 1), date(2026, 1, 1)),
            },
        ),
    ],
)
def test_compute_support(kind: str, policy: SupportPolicy, expected: dict[str, Support]) -> None:
    released = {
        "2.12": date(2025, 12, 1),
        "2.13": date(2026, 1, 1),
        "2.14": date(2026, 2, 1),
        "2.15": date(2026, 3, 1),
    }
    assert model.compute_support(kind, released, policy, date(2026, 3, 10)) == expected


def test_next_index_moves_version_and_expiry_forward_and_keeps_time_monotonic() -> None:
    doc, _ = channel_with("stable", {"2.15": ["2.15.0"]})
    first = index_for(doc)
    data = doc.to_bytes()
    entry = model.channel_entry(
        doc, model.pin_for("channels/stable/v1.json", 1, data), STABLE.expected_signer(False)
    )
    second = model.next_index(
        first,
        project=PROJECT,
        channel="stable",
        entry=entry,
        signer=STABLE_ID,
        now=NOW - timedelta(seconds=30),  # a publisher whose clock is a little behind
        expires_in=timedelta(days=7),
    )
    assert second.version == first.version + 1
    assert second.generated_at == first.generated_at
    assert second.expires == first.generated_at + timedelta(days=7)
    with pytest.raises(DocumentError, match=r"before the current index"):
        model.next_index(
            first,
            project=PROJECT,
            channel="stable",
            entry=entry,
            signer=STABLE_ID,
            now=NOW - timedelta(hours=1),
            expires_in=timedelta(days=7),
        )
    with pytest.raises(DocumentError, match=r"belongs to project"):
        model.next_index(
            first,
            project="other",
            channel="stable",
            entry=entry,
            signer=STABLE_ID,
            now=NOW,
            expires_in=timedelta(days=7),
        )


def test_index_refuses_published_by_unknown_channel_and_bad_expiry() -> None:
    doc, _ = (
        channel_with("edge", {"26.11": ["26.11.1"]})
        if False
        else channel_with("stable", {"2.15": ["2.15.0"]})
    )
    d = index_for(doc).to_dict()
    with pytest.raises(DocumentError, match=r"published_by 'edge'"):
        model.parse_index(_line_bytes({**d, "published_by": "edge"}))
    with pytest.raises(DocumentError, match=r"expires must be after generated_at"):
        model.parse_index(_line_bytes({**d, "expires": d["generated_at"]}))
    assert EDGE_ID != STABLE_ID


def test_a_line_past_its_eol_reads_as_eol_on_a_later_day() -> None:
    # The phase is recorded when the document is written; list, check and the page read
    # it on later days and must agree with `release status` (history.phase_on).
    from datetime import date

    from release.channel.model import Support
    from release.history import phase_on

    s = Support(phase="maintenance", released=date(2026, 1, 1), eol=date(2026, 6, 1))
    assert s.phase_on(date(2026, 5, 31)) == "maintenance"
    assert s.phase_on(date(2026, 6, 1)) == "eol"
    for day in (date(2026, 5, 31), date(2026, 6, 1), date(2027, 1, 1)):
        assert s.phase_on(day) == phase_on(s.phase, s.eol, day)
    assert Support(phase="active").phase_on(date(2099, 1, 1)) == "active"
