from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from release.channel import model
from release.channel import strictjson as sj
from release.channel.model import Artifact, FileRef, Release, Source, Withdrawal
from release.config import Identity, SupportPolicy
from tests.channel.docs import channel_with, index_for
from tests.helpers.channelkit import NOW, PROJECT, STABLE, STABLE_ID

settings.register_profile("channel", max_examples=60, deadline=None)
settings.load_profile("channel")

hexdigest = st.text("0123456789abcdef", min_size=64, max_size=64)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))
name_text = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20).filter(
    lambda s: s not in (".", "..")
)
json_leaf = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=10)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def unknown(known: frozenset[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.text("xyz_", min_size=1, max_size=6).filter(lambda k: k not in known),
        json_value,
        max_size=2,
    )


@st.composite
def releases(draw: st.DrawFn, version: str | None = None) -> Release:
    if version is None:
        version = (
            f"{draw(st.integers(0, 99))}.{draw(st.integers(0, 99))}.{draw(st.integers(0, 999))}"
        )
    tag = f"stable-{version}"
    base = f"releases/{tag}/"
    arts = []
    for i, name in enumerate(draw(st.lists(name_text, max_size=3, unique=True))):
        arts.append(
            Artifact(
                name=name,
                path=base + name,
                size=draw(st.integers(0, 2**53 - 1)),
                sha256=draw(hexdigest),
                kind=draw(st.sampled_from(["archive", "wheel", "sdist", "binary"])),
                os=draw(st.none() | st.sampled_from(sorted(model.KNOWN_OS))) if i == 0 else None,
                arch=draw(st.none() | st.sampled_from(sorted(model.KNOWN_ARCH))),
                sigstore_bundle=FileRef(base + name + ".sigstore.json", 1, draw(hexdigest)),
                extra=draw(unknown(Artifact.FIELDS)),
            )
        )
    withdrawn = draw(st.booleans())
    return Release(
        version=version,
        tag=tag,
        published_at=draw(times),
        source=Source(
            draw(st.text(min_size=1, max_size=20)),
            draw(st.text("0123456789abcdef", min_size=40, max_size=40)),
            draw(st.text(min_size=1, max_size=20)),
            extra=draw(unknown(Source.FIELDS)),
        ),
        signer=Identity(
            draw(st.text(min_size=1, max_size=30)), draw(st.text(min_size=1, max_size=30))
        ),
        artifacts=tuple(arts),
        status="withdrawn" if withdrawn else "active",
        withdrawal=Withdrawal(
            draw(st.text(min_size=1, max_size=30)), draw(times), draw(st.none() | st.just("0.0.1"))
        )
        if withdrawn
        else None,
        notes=draw(st.none() | st.text(max_size=50)),
        checksums=draw(st.none() | st.just(FileRef(base + "SHA256SUMS", 10, "0" * 64))),
        from_edge=draw(st.none() | st.just("edge-26.11.1")),
        extra=draw(unknown(Release.FIELDS)),
    )


@given(releases())
def test_release_round_trips_through_canonical_json(r: Release) -> None:
    data = sj.dumps(r.to_dict())
    back = Release.from_dict(sj.loads(data), "release")
    assert back == r
    assert sj.dumps(back.to_dict()) == data


@given(
    st.lists(st.integers(0, 500), min_size=1, max_size=12, unique=True),
    st.sets(st.integers(0, 11), max_size=4),
    st.data(),
)
def test_line_documents_round_trip_and_latest_is_max_active(
    patches: list[int], withdraw_at: set[int], data: st.DataObject
) -> None:
    patches.sort()
    doc = None
    for p in patches:
        r = data.draw(releases(f"2.15.{p}"))
        r = Release(**{**r.__dict__, "status": "active", "withdrawal": None})
        doc = model.add_release(
            doc,
            r,
            project=PROJECT,
            channel="stable",
            kind="stable",
            tag_format="stable-{version}",
            signer=STABLE_ID,
            now=NOW,
        )
    assert doc is not None
    for i in sorted(withdraw_at):
        if i < len(patches):
            doc = model.withdraw(doc, f"2.15.{patches[i]}", reason="r", now=NOW, signer=STABLE_ID)
    active = [p for i, p in enumerate(patches) if i not in withdraw_at]
    assert doc.latest == (f"2.15.{max(active)}" if active else None)
    data_bytes = doc.to_bytes()
    parsed = model.parse_line_document(data_bytes)
    assert parsed.document == doc
    assert parsed.warnings == ()
    assert parsed.document.to_bytes() == data_bytes


@given(
    st.dictionaries(
        st.integers(10, 30),
        st.lists(st.integers(0, 9), min_size=1, max_size=3, unique=True),
        min_size=1,
        max_size=5,
    )
)
def test_stable_channel_latest_is_in_the_highest_line(lines: dict[int, list[int]]) -> None:
    spec = {f"2.{m}": [f"2.{m}.{p}" for p in sorted(ps)] for m, ps in lines.items()}
    doc, _ = channel_with("stable", spec)
    top = max(lines)
    assert doc.latest == f"2.{top}.{max(lines[top])}"
    assert [e.line for e in doc.lines] == sorted(spec, key=lambda s: int(s.split(".")[1]))
    live = [e.line for e in doc.lines if e.support.phase != "eol"]
    assert len(live) == min(len(lines), STABLE.support.maintained_lines)
    index = index_for(doc)
    assert model.parse_channel(doc.to_bytes()).document == doc
    assert model.parse_index(index.to_bytes()).document == index


@given(unknown(model.Index.FIELDS), unknown(model.ChannelEntry.FIELDS), unknown(model.Pin.FIELDS))
def test_unknown_index_fields_survive(
    top: dict[str, Any], entry: dict[str, Any], pin: dict[str, Any]
) -> None:
    doc, _ = channel_with("stable", {"2.15": ["2.15.0"]})
    d = index_for(doc).to_dict()
    d.update(top)
    d["channels"]["stable"].update(entry)
    d["channels"]["stable"]["document"].update(pin)
    parsed = model.parse_index(sj.dumps(d)).document
    assert parsed.to_dict() == d


@given(st.integers(1, 5), st.integers(1, 400))
def test_support_phases_follow_the_count(maintained: int, days: int) -> None:
    released = {f"2.{i}": NOW.date() - timedelta(days=days * (20 - i)) for i in range(10, 20)}
    support = model.compute_support("stable", released, SupportPolicy(maintained), NOW.date())
    phases = [support[f"2.{i}"].phase for i in range(19, 9, -1)]
    assert phases[0] == "active"
    assert phases[1:maintained] == ["maintenance"] * (maintained - 1)
    assert set(phases[maintained:]) <= {"eol"}
    for s in support.values():
        assert s.eol is None or s.released is None or s.eol >= s.released
