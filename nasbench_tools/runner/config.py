"""Experiment configurations: a frozen dataclass read from TOML/JSON, written back as TOML, and
fingerprinted so that a resumed run refuses a configuration that changed under it.

Every experiment's config subclasses :class:`ExperimentConfig`; the generic :meth:`from_dict`
checks unknown and missing fields, turns lists into the tuples the dataclass declares and builds
nested config tables, so a subclass only validates its own values in ``__post_init__`` (raising
:class:`~nasbench_tools.errors.ConfigError` naming the field).
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import sys
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Mapping, TypeVar

import numpy as np

from ..errors import ConfigError
from ..utils.io import atomic_write

S = TypeVar("S", bound="ConfigSection")
C = TypeVar("C", bound="ExperimentConfig")

#: Fields that name or describe a run but do not change its rows (left out of the fingerprint).
DESCRIPTIVE_FIELDS = ("name", "description")


def is_int(value: Any) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int_fields(config: Any, low: int, *names: str, high: int | None = None, allow_empty: bool = False) -> None:
    """Each named field of ``config`` is an integer in ``[low, high]``, or a tuple of distinct such
    integers (non-empty unless ``allow_empty``); a :class:`ConfigError` names the first field
    that is not."""
    upper = "" if high is None else f" and <= {high}"
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, tuple):
            if not is_int(value) or value < low or (high is not None and value > high):
                raise ConfigError(f"{name}: expected an integer >= {low}{upper}, got {value!r}")
            continue
        if (not value and not allow_empty) or not all(is_int(v) for v in value):
            raise ConfigError(f"{name}: expected a {'' if allow_empty else 'non-empty '}list of integers, got {value!r}")
        bad = [v for v in value if v < low or (high is not None and v > high)]
        if bad:
            raise ConfigError(f"{name}: expected integers >= {low}{upper}, got {bad}")
        if len(set(value)) != len(value):
            raise ConfigError(f"{name}: duplicate values in {list(value)}")


def _plain(value: Any) -> Any:
    """``value`` with tuples/mappings/dataclasses as JSON lists/dicts (what reads back from TOML)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, range)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


@dataclasses.dataclass(frozen=True)
class ConfigSection:
    """A frozen table of config fields: built from a TOML table, written back as one."""

    #: What the table configures, for error messages ("study", "tuning", ...).
    kind: ClassVar[str] = "config"

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON/TOML types."""
        return _plain(self)

    def replace(self: S, **changes: Any) -> S:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls: type[S], raw: Mapping[str, Any], source: str = "config") -> S:
        """A config from a mapping (e.g. a parsed TOML file); ``source`` prefixes every error."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{source}: expected a table of {cls.kind} fields, got {type(raw).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise ConfigError(f"{source}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
        missing = sorted(n for n, f in fields.items() if n not in raw and f.default is dataclasses.MISSING
                         and f.default_factory is dataclasses.MISSING)
        if missing:
            raise ConfigError(f"{source}: missing field(s) {', '.join(missing)}")
        hints = typing.get_type_hints(cls)
        values = {name: _coerce(value, hints.get(name), f"{source}: {name}") for name, value in raw.items()}
        try:
            return cls(**values)
        except ConfigError as exc:
            text = str(exc)
            raise ConfigError(text if text.startswith(source) else f"{source}: {text}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: invalid {cls.kind} configuration ({exc})") from None


@dataclasses.dataclass(frozen=True)
class ExperimentConfig(ConfigSection):
    """Base of every experiment configuration.

    ``name`` and ``description`` are keyword-only with defaults, so a subclass may add fields
    without defaults; one that wants ``name`` as its first positional field redeclares it
    (``name: str``), as :class:`~nasbench_tools.study.spec.StudySpec` does. (The defaults are
    factories: a plain default would be inherited by the redeclared field.)
    """

    #: Preset or file name the run was started from (descriptive; not fingerprinted).
    name: str = dataclasses.field(default_factory=lambda: "custom", kw_only=True)
    #: One sentence saying what the run is (descriptive; not fingerprinted).
    description: str = dataclasses.field(default_factory=str, kw_only=True)

    kind: ClassVar[str] = "experiment"

    def fingerprint(self) -> dict[str, Any]:
        """What must match for rows of two runs to belong to one results file."""
        return {k: v for k, v in self.to_dict().items() if k not in DESCRIPTIVE_FIELDS}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """A TOML value shaped as the field's type hint: lists -> tuples, tables -> nested configs."""
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and issubclass(hint, ConfigSection):
        return hint.from_dict(value, where)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is not type(None) and typing.get_origin(arg) is tuple and isinstance(value, list):
                return tuple(value)
    return value


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The table of a TOML (or ``.json``) configuration file; one-line errors naming the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc})") from None
    if path.suffix == ".json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: malformed JSON ({exc})") from None
    else:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: malformed TOML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a table of fields, got {type(raw).__name__}")
    return raw


def load_config(path: str | Path, config_type: type[C]) -> C:
    """A ``config_type`` from a TOML/JSON file (validated in full before anything runs)."""
    raw = read_config_file(path)
    raw.setdefault("name", Path(path).stem)
    return config_type.from_dict(raw, str(path))


# ------------------------------------------------------------------------------ TOML writer
def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {value!r} cannot be written to TOML")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v, where) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v, where)}" for k, v in value.items()) + "}"
    raise ConfigError(f"{where}: {type(value).__name__} value {value!r} cannot be written to TOML")


def _toml_key(key: str) -> str:
    bare = key and all(c.isalnum() or c in "_-" for c in key)
    return key if bare else json.dumps(key)


def dumps_toml(table: Mapping[str, Any], header: str = "") -> str:
    """A TOML document of plain values: scalars and lists first, then one ``[table]`` per
    mapping (a mapping of mappings becomes ``[table.sub]`` sections). ``None`` values are left out."""
    lines = [f"# {line}" for line in header.splitlines()]
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping) and v is not None}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    lines += [f"{_toml_key(k)} = {_toml_value(v, k)}" for k, v in scalars.items()]
    for name, sub in tables.items():
        _table_lines(lines, [name], sub)
    return "\n".join(lines) + "\n"


def _table_lines(lines: list[str], path: list[str], table: Mapping[str, Any]) -> None:
    flat = {k: v for k, v in table.items() if not isinstance(v, Mapping) and v is not None}
    nested = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if flat or not nested:
        lines += ["", "[" + ".".join(map(_toml_key, path)) + "]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v, '.'.join(path + [k]))}" for k, v in flat.items()]
    for k, v in nested.items():
        _table_lines(lines, path + [k], v)


def write_config_toml(path: str | Path, config: ExperimentConfig, header: str = "") -> Path:
    """``config`` as an editable TOML file (atomically); ``load_config`` reads it back equal."""
    path = Path(path)
    with atomic_write(path) as fh:
        fh.write(dumps_toml(config.to_dict(), header))
    return path
