"""The store's dict transitions give exactly the bytes of the model's object transitions."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from release.channel import model
from release.channel import strictjson as sj
from tests.channel.docs import release
from tests.helpers.channelkit import NOW, PROJECT, STABLE, STABLE_ID

KW = dict(project=PROJECT, channel="stable", kind="stable", tag_format="stable-{version}")


@given(
    st.dictionaries(
        st.integers(0, 6),
        st.lists(st.integers(0, 30), min_size=1, max_size=5, unique=True),
        min_size=1,
        max_size=4,
    ),
    st.sets(st.integers(0, 30), max_size=3),
    st.lists(st.integers(0, 6), max_size=6),
)
def test_dict_transitions_match_object_transitions(
    lines: dict[int, list[int]], withdrawn_patches: set[int], order: list[int]
) -> None:
    sequence = [(m, p) for m in sorted(lines) for p in sorted(lines[m])]
    # interleave lines in a drawn order, keeping each line's patches ascending
    sequence.sort(key=lambda mp: (order.index(mp[0]) if mp[0] in order else 99, mp[1]))
    objs: dict[str, model.LineDocument] = {}
    raws: dict[str, dict] = {}
    cobj: model.ChannelDocument | None = None
    craw: dict | None = None
    for step, (m, p) in enumerate(sequence):
        now = NOW + timedelta(minutes=step)
        r = release("stable", f"3.{m}.{p}", at=now)
        if p in withdrawn_patches:
            w = model.Withdrawal("bad", now)
            r = model.Release(**{**r.__dict__, "status": "withdrawn", "withdrawal": w})
        line = f"3.{m}"
        version = objs[line].version + 1 if line in objs else 1
        obj = model.add_release(objs.get(line), r, signer=STABLE_ID, now=now, version=version, **KW)
        raw = model.append_release_dict(
            raws.get(line), r, signer=STABLE_ID, now=now, version=version, **KW
        )
        assert sj.dumps(raw) == obj.to_bytes()
        objs[line], raws[line] = obj, raw
        data = obj.to_bytes()
        pin = model.pin_for(model.line_document_path("stable", line, version), version, data)
        cv = (cobj.version + 1) if cobj else 1
        cobj = model.update_channel(
            cobj, obj, pin, signer=STABLE_ID, policy=STABLE.support, now=now, version=cv
        )
        craw = model.update_channel_dict(
            craw, raw, pin, signer=STABLE_ID, policy=STABLE.support, now=now, version=cv
        )
        assert sj.dumps(craw) == cobj.to_bytes()
        cdata = cobj.to_bytes()
        cpin = model.pin_for(model.channel_document_path("stable", cv), cv, cdata)
        ident = STABLE.expected_signer(False)
        assert model.channel_entry_dict(craw, cpin, ident) == model.channel_entry(cobj, cpin, ident)


# --- dumps_reusing: the bytes of unchanged records are reused, never different --------

_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=8)
)
_record = st.dictionaries(
    st.text(max_size=6), st.one_of(_scalar, st.lists(_scalar, max_size=3)), max_size=4
)
_header = st.dictionaries(st.sampled_from(["a", "kind", "latest", "m", "version", "z"]), _scalar)


@given(
    _header,
    _header,
    st.lists(_record, max_size=6),
    st.sampled_from(["append", "replace", "both", "drop", "same"]),
    st.lists(_record, min_size=1, max_size=3),
    st.integers(0, 10),
)
def test_dumps_reusing_is_dumps(
    old_head: dict, new_head: dict, items: list, change: str, extra: list, at: int
) -> None:
    new_head = {k: new_head.get(k, v) for k, v in old_head.items()}  # same keys, some new values
    old = {**old_head, "lines": items}
    new_items = list(items)
    if change in ("append", "both"):
        new_items += extra
    if change in ("replace", "both") and items:
        new_items[at % len(items)] = extra[0]
    if change == "drop" and items:
        del new_items[at % len(items)]
    new = {**new_head, "lines": new_items}
    assert sj.dumps_reusing(new, old=old, old_bytes=sj.dumps(old), field="lines") == sj.dumps(new)


def test_dumps_reusing_falls_back_on_bytes_it_cannot_splice() -> None:
    old = {"a": 1, "lines": [{"x": 1}, {"x": 1}, {"x": 2}], "z": "é"}
    new = {"a": 2, "lines": [{"x": 1}, {"x": 3}, {"x": 2}], "z": "é"}
    want = sj.dumps(new)
    pretty = b'{"a": 1, "lines": [{"x": 1}, {"x": 1}, {"x": 2}], "z": "\\u00e9"}\n'
    assert sj.dumps_reusing(new, old=old, old_bytes=pretty, field="lines") == want
    # the replaced record's text occurs twice: which one is it? Not guessed.
    assert sj.dumps_reusing(new, old=old, old_bytes=sj.dumps(old), field="lines") == want
    assert sj.dumps_reusing(new, old=old, old_bytes=b"", field="lines") == want
    other_keys = {"a": 2, "lines": [{"x": 1}], "y": 0}
    assert sj.dumps_reusing(other_keys, old=old, old_bytes=sj.dumps(old), field="lines") == (
        sj.dumps(other_keys)
    )
    not_a_list = {"a": 1, "lines": {"x": 1}, "z": "é"}
    assert sj.dumps_reusing(not_a_list, old=old, old_bytes=sj.dumps(old), field="lines") == (
        sj.dumps(not_a_list)
    )
