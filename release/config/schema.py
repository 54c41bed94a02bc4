"""The typed schema engine: settings declared on frozen dataclasses, read from layers.

A *setting* is a dataclass field made with :func:`setting`: it names its TOML key,
its :class:`Type` (which checks and converts a raw TOML value) and a one-line doc.
:func:`build` turns a stack of :class:`Layer` s (defaults first, files last) into an
instance of such a dataclass:

- every key of every layer must be a known setting, else one error with a
  "did you mean" (``changelog-comit`` → ``changelog-commit``);
- the topmost layer that sets a key wins, and only that key: nested tables merge
  key by key, so ``channels/stable.toml`` with ``[signer] identity = …`` keeps the
  default ``issuer``;
- a value of the wrong type is one error naming file, key, expected and got;
- where every effective value came from is recorded in a :data:`Sources` map,
  which ``release config`` prints.

Adding a key is one line on the dataclass, e.g.::

    region: str | None = setting("region", Str(), None, "S3 region of the bucket")

Pure: no I/O. Raises :class:`~release.errors.ConfigError` only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, TypeVar

from release.errors import ConfigError, ReleaseError

T = TypeVar("T")

#: Effective key path (``channels.stable.support.maintained-lines``) -> where it came from.
Sources = dict[str, str]

DEFAULT_SOURCE = "default"


# -- where a value sits -------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One source of settings: a TOML table, the file it came from and its path in it."""

    source: str  # what `release config` shows: "channels/stable.toml", "default"
    table: Mapping[str, Any]
    file: str = ""  # for errors; empty for built-in defaults
    path: tuple[str, ...] = ()  # table path inside the file, e.g. ("tool", "release")
    index: int = 0  # 1-based entry of an array of tables ([[tool.release.build]] #2)

    def sub(self, key: str) -> Layer:
        value = self.table[key]
        assert isinstance(value, Mapping)
        return Layer(self.source, value, self.file, (*self.path, key))

    def where(self, key: str | None = None) -> str:
        """``pyproject.toml: [tool.release] repository`` — the place a message names."""
        head = self.file or self.source
        table = ".".join(_toml_key(p) for p in self.path)
        inner = f"[[{table}]] #{self.index}" if self.index else f"[{table}]" if table else ""
        if key is not None:
            inner = f"{inner} {_toml_key(key)}".strip()
        return f"{head}: {inner}" if inner else head


def _toml_key(key: str) -> str:
    bare = key.replace("-", "").replace("_", "").isalnum()
    return key if bare else f'"{key}"'


def describe(value: Any) -> str:
    """How a raw TOML value reads in an error: ``integer 5``, ``string "x"``."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, datetime):
        return f"date-time {value.isoformat()}"
    if isinstance(value, date):
        return f"date {value.isoformat()}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        kinds = sorted({describe(v).split(" ")[0] for v in value})
        return f"an array of {'/'.join(kinds)}" if kinds else "an empty array"
    return type(value).__name__


def type_error(where: str, expected: str, got: Any, hint: str | None = None) -> ConfigError:
    return ConfigError(f"{where}: expected {expected}, got {describe(got)}", hint=hint)


# -- value types ----------------------------------------------------------------------


class Type:
    """Checks and converts one raw TOML value; ``dump`` gives it back as JSON/TOML data."""

    expected = "a value"

    def convert(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def dump(self, value: Any) -> Any:
        return value


class Str(Type):
    def __init__(
        self,
        *,
        choices: Sequence[str] = (),
        empty: bool = False,
        check: Callable[[str], str | None] | None = None,
        expected: str = "",
    ) -> None:
        self.choices = tuple(choices)
        self.empty = empty
        self.check = check
        if expected:
            self.expected = expected
        elif self.choices:
            self.expected = "one of " + ", ".join(f'"{c}"' for c in self.choices)
        else:
            self.expected = "a string" if empty else "a non-empty string"

    def convert(self, value: Any, where: str) -> Any:
        if not isinstance(value, str) or (not value and not self.empty):
            raise type_error(where, self.expected, value)
        if self.choices and value not in self.choices:
            import difflib  # error paths only

            close = difflib.get_close_matches(value, self.choices, n=1)
            hint = f'did you mean "{close[0]}"?' if close else None
            raise type_error(where, self.expected, value, hint)
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise ConfigError(f"{where}: {problem}, got {describe(value)}")
        return value


class Bool(Type):
    expected = "true or false"

    def convert(self, value: Any, where: str) -> Any:
        if not isinstance(value, bool):
            raise type_error(where, self.expected, value)
        return value


class Int(Type):
    def __init__(self, minimum: int | None = None) -> None:
        self.minimum = minimum
        self.expected = "an integer" if minimum is None else f"an integer >= {minimum}"

    def convert(self, value: Any, where: str) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            raise type_error(where, self.expected, value)
        if self.minimum is not None and value < self.minimum:
            raise type_error(where, self.expected, value)
        return value


class Day(Type):
    expected = "a TOML date (YYYY-MM-DD, unquoted)"

    def convert(self, value: Any, where: str) -> Any:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise type_error(where, self.expected, value)
        return value

    def dump(self, value: Any) -> Any:
        return None if value is None else value.isoformat()


class StrList(Type):
    """An array of strings (``command`` also takes one string, split on spaces)."""

    def __init__(
        self,
        *,
        nonempty: bool = False,
        split: bool = False,
        check: Callable[[str], bool] | None = None,
        expected: str = "",
    ) -> None:
        self.nonempty = nonempty
        self.split = split
        self.check = check
        self.expected = expected or (
            "a non-empty array of strings" if nonempty else "an array of strings"
        )

    def convert(self, value: Any, where: str) -> Any:
        if self.split and isinstance(value, str):
            value = value.split()
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not ok or (self.nonempty and not value):
            raise type_error(where, self.expected, value)
        if self.check is not None:
            for item in value:
                if not self.check(item):
                    raise type_error(where, self.expected, item)
        return tuple(value)

    def dump(self, value: Any) -> Any:
        return list(value)


class StrMap(Type):
    """A table of string values (``env``)."""

    expected = "a table of strings"

    def convert(self, value: Any, where: str) -> Any:
        if not isinstance(value, Mapping):
            raise type_error(where, self.expected, value)
        for k, v in value.items():
            if not isinstance(v, str):
                raise type_error(f"{where}.{_toml_key(k)}", "a string", v)
        return MappingProxyType(dict(value))

    def dump(self, value: Any) -> Any:
        return dict(value)


class Parsed(Type):
    """A string parsed into a value object (a tag format, a line)."""

    def __init__(
        self, parse: Callable[[str], Any], expected: str, dump: Callable[[Any], Any] = str
    ) -> None:
        self.parse = parse
        self.expected = expected
        self._dump = dump

    def convert(self, value: Any, where: str) -> Any:
        if not isinstance(value, str):
            raise type_error(where, self.expected, value)
        try:
            return self.parse(value)
        except (ValueError, ReleaseError) as exc:
            raise ConfigError(
                f"{where}: expected {self.expected}, got {describe(value)}: {exc}"
            ) from None

    def dump(self, value: Any) -> Any:
        return self._dump(value)


class Table(Type):
    """A nested table, merged key by key across layers. ``optional``: absent is ``None``."""

    def __init__(self, cls: type[Any], *, optional: bool = False, expected: str = "") -> None:
        self.cls = cls
        self.optional = optional
        keys = ", ".join(settings_of(cls))
        self.expected = expected or f"a table ({keys})"


class Tables(Type):
    """An array of tables (``[[build]]``); the topmost layer that sets it wins whole."""

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        self.expected = "an array of tables"


class TableMap(Type):
    """A table of named sub-tables (``[support.lines."2.15"]``), merged per name."""

    def __init__(self, cls: type[Any], name: Callable[[str], str | None], expected: str) -> None:
        self.cls = cls
        self.name = name  # normalises a name, or returns None when it is not valid
        self.expected = expected


# -- declaring settings ---------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    key: str
    type: Type
    doc: str
    required: bool = False


def setting(
    key: str,
    type_: Type,
    default: Any = dataclasses.MISSING,
    doc: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    required: bool = False,
) -> Any:
    """A dataclass field that is read from the TOML key ``key``."""
    meta = {"setting": Setting(key, type_, doc, required)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    if default is dataclasses.MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def settings_of(cls: type[Any]) -> dict[str, tuple[str, Setting]]:
    """TOML key -> (attribute name, setting) of a settings dataclass."""
    out: dict[str, tuple[str, Setting]] = {}
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("setting")
        if isinstance(spec, Setting):
            out[spec.key] = (f.name, spec)
    return out


# -- building -------------------------------------------------------------------------


def check_unknown(cls: type[Any], layer: Layer, extra: Sequence[str] = ()) -> None:
    """Refuse a key of ``layer`` that ``cls`` does not declare, with a "did you mean"."""
    known = [*settings_of(cls), *extra]
    for key in layer.table:
        if key in known:
            continue
        import difflib  # error paths only

        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        guess = f'; did you mean "{close[0]}"?' if close else ""
        raise ConfigError(
            f"{layer.where(key)}: unknown key{guess}",
            hint="known keys here: " + ", ".join(sorted(known)),
        )


def build(
    cls: type[T],
    layers: Sequence[Layer],
    prefix: str,
    sources: Sources,
    fixed: Mapping[str, Any] | None = None,
) -> T:
    """An instance of the settings dataclass ``cls`` from ``layers`` (lowest first).

    ``prefix`` is the effective key path of the table (``channels.stable``); each
    value's origin goes into ``sources``. Raises :class:`ConfigError`.
    """
    for layer in layers:
        check_unknown(cls, layer)
    kwargs: dict[str, Any] = dict(fixed or {})
    for key, (attr, spec) in settings_of(cls).items():
        path = f"{prefix}.{key}" if prefix else key
        setters = [layer for layer in layers if key in layer.table]
        kind = spec.type
        if isinstance(kind, Table):
            for layer in setters:
                _need_table(layer, key, kind.expected)
            if setters or not kind.optional:
                kwargs[attr] = build(kind.cls, [ly.sub(key) for ly in setters], path, sources)
            continue
        if isinstance(kind, TableMap):
            kwargs[attr] = _build_map(kind, setters, key, path, sources)
            continue
        if not setters:
            if spec.required:
                where = layers[-1].where(key) if layers else path
                raise ConfigError(f"{where}: missing; expected {kind.expected}")
            sources[path] = DEFAULT_SOURCE
            continue
        top = setters[-1]
        sources[path] = top.source
        if isinstance(kind, Tables):
            kwargs[attr] = _build_tables(kind, top, key, path, sources)
        else:
            kwargs[attr] = kind.convert(top.table[key], top.where(key))
    try:
        obj = cls(**kwargs)
    except (ValueError, TypeError) as exc:
        where = layers[-1].where() if layers else prefix
        raise ConfigError(f"{where}: {exc}") from None
    check = getattr(obj, "check_settings", None)
    if check is not None:
        problem = check()
        if problem:
            raise ConfigError(f"{layers[-1].where() if layers else prefix}: {problem}")
    return obj


def _need_table(layer: Layer, key: str, expected: str) -> None:
    value = layer.table[key]
    if not isinstance(value, Mapping):
        hint = None
        if isinstance(value, str | int | bool):
            table = ".".join(_toml_key(p) for p in (*layer.path, key))
            hint = f"write it as a table: [{table}] then one key = value per line"
        raise type_error(layer.where(key), expected, value, hint)


def _build_tables(kind: Tables, top: Layer, key: str, path: str, sources: Sources) -> Any:
    raw = top.table[key]
    if not isinstance(raw, list):
        hint = f"write each entry as [[{'.'.join((*top.path, key))}]]"
        raise type_error(top.where(key), kind.expected, raw, hint)
    out = []
    for i, entry in enumerate(raw):
        where = f"{top.where(key)} #{i + 1}"
        if not isinstance(entry, Mapping):
            hint = f"write each entry as [[{'.'.join((*top.path, key))}]] with key = value lines"
            raise type_error(where, f"a table ({', '.join(settings_of(kind.cls))})", entry, hint)
        item = Layer(top.source, entry, top.file, (*top.path, key), i + 1)
        out.append(build(kind.cls, [item], f"{path}[{i + 1}]", sources))
    return tuple(out)


def _build_map(
    kind: TableMap, setters: Sequence[Layer], key: str, path: str, sources: Sources
) -> Any:
    per_name: dict[str, list[Layer]] = {}
    for layer in setters:
        _need_table(layer, key, kind.expected)
        sub = layer.sub(key)
        for raw_name, entry in sub.table.items():
            name = kind.name(raw_name)
            if name is None:
                raise ConfigError(
                    f"{sub.where(raw_name)}: expected {kind.expected}, "
                    f"got the key {describe(raw_name)}"
                )
            if not isinstance(entry, Mapping):
                raise type_error(sub.where(raw_name), kind.expected, entry)
            per_name.setdefault(name, []).append(sub.sub(raw_name))
    return MappingProxyType(
        {
            name: build(kind.cls, layers, f"{path}.{_toml_key(name)}", sources)
            for name, layers in per_name.items()
        }
    )


def dump(obj: Any) -> dict[str, Any]:
    """The settings of ``obj`` as TOML-shaped data (keys as written in the files)."""
    out: dict[str, Any] = {}
    for key, (attr, spec) in settings_of(type(obj)).items():
        value = getattr(obj, attr)
        kind = spec.type
        if value is None:
            out[key] = None
        elif isinstance(kind, Table):
            out[key] = dump(value)
        elif isinstance(kind, Tables):
            out[key] = [dump(v) for v in value]
        elif isinstance(kind, TableMap):
            out[key] = {name: dump(v) for name, v in value.items()}
        else:
            out[key] = kind.dump(value)
    return out


@dataclass(frozen=True)
class Value:
    """One effective setting: its table, key, value (as TOML data) and source."""

    table: tuple[str, ...]
    key: str
    value: Any
    source: str

    @property
    def path(self) -> str:
        return ".".join(_toml_key(p) if "[" not in p else p for p in (*self.table, self.key))


def effective(obj: Any, table: tuple[str, ...], sources: Mapping[str, str]) -> list[Value]:
    """Every setting of ``obj`` (recursively) with the source recorded when it was built:
    the plain values of a table first, then its sub-tables."""
    out: list[Value] = []
    nested: list[Value] = []
    for key, (attr, spec) in settings_of(type(obj)).items():
        value = getattr(obj, attr)
        kind = spec.type
        if isinstance(kind, Table) and value is not None:
            nested += effective(value, (*table, key), sources)
        elif isinstance(kind, TableMap):
            for name, entry in value.items():
                nested += effective(entry, (*table, key, name), sources)
        elif isinstance(kind, Tables):
            for i, entry in enumerate(value):
                nested += effective(entry, (*table, f"{key}[{i + 1}]"), sources)
        else:
            v = Value(table, key, None if value is None else kind.dump(value), "")
            source = sources.get(v.path, DEFAULT_SOURCE)
            out.append(dataclasses.replace(v, source=source))
    return out + nested


def reference(cls: type[Any], table: str = "") -> list[tuple[str, str, str, str]]:
    """``(table, key, expected, default + doc)`` for every setting of ``cls``, recursively:
    the reference ``release config --keys`` prints, always in step with the schema."""
    rows: list[tuple[str, str, str, str]] = []
    nested: list[tuple[str, str, str, str]] = []
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    for key, (attr, spec) in settings_of(cls).items():
        kind = spec.type
        sub = f"{table}.{key}" if table else key
        if isinstance(kind, Table):
            nested += reference(kind.cls, sub)
            continue
        if isinstance(kind, TableMap):
            nested += reference(kind.cls, f"{sub}.<name>")
            continue
        if isinstance(kind, Tables):
            nested += reference(kind.cls, f"[{sub}]")
            continue
        f = defaults[attr]
        if spec.required:
            default = "required"
        elif f.default is None:
            default = "not set by default"
        elif f.default is not dataclasses.MISSING and f.default != "":
            value = kind.dump(f.default)
            shown = str(value).lower() if isinstance(value, bool) else json.dumps(value)
            default = f"default {shown}"
        else:
            default = ""
        note = "; ".join(x for x in (spec.doc, default) if x)
        rows.append((table, key, kind.expected, note))
    return rows + nested
