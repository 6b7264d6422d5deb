"""TOML for run configurations: read with ``tomllib`` (``tomli`` on Python 3.10), write with a
small writer of our own.

The writer handles what a configuration holds: tables (dicts, nested to any depth) of strings,
integers, floats, booleans and lists of those (lists nested too). It writes top-level values
first, then one ``[table]`` per dict, so that ``read_toml(write_toml(d)) == d`` for every such
``d`` — floats exactly (``repr`` is the shortest string that reads back to the same float;
``nan``, ``inf`` and ``-inf`` are TOML), strings with quotes, backslashes, control characters and
any Unicode. TOML has no null: a ``None`` value is an error naming its key, or left out with
``omit_none=True``. Lists of tables (``[[x]]``) and dates are not written.

Example::

    write_toml("runs/x/config.toml", {"data": "digits", "seed": 0,
                                      "model": {"hidden": [100, 100], "activation": "tanh"}})
    read_toml("runs/x/config.toml")["model"]["hidden"]      # [100, 100]
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .._atomic import atomic_write_text

__all__ = ["read_toml", "loads_toml", "dumps_toml", "write_toml", "TomlError"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_INT64 = (-(1 << 63), (1 << 63) - 1)
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class TomlError(ValueError):
    """A TOML file that cannot be read; the message names the file, line and column."""


# --- reading -----------------------------------------------------------------------------------

def loads_toml(text: str, source: str = "<string>") -> dict:
    """Parse TOML ``text``; a ``TomlError`` names ``source`` and the line and column at fault.

    Example::

        loads_toml('seed = 1\\n[model]\\nhidden = [10]\\n')   # {'seed': 1, 'model': {'hidden': [10]}}
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TomlError(f"{source}: invalid TOML: {error}") from None


def read_toml(path) -> dict:
    """Read the TOML file at ``path`` (UTF-8). A missing file raises FileNotFoundError naming it;
    invalid TOML or bytes that are not UTF-8 raise ``TomlError`` naming the file and the line.

    Example::

        config = read_toml("runs/x/config.toml")
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TomlError(f"{path} is a folder, not a TOML file") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise TomlError(f"{path}: invalid TOML: not UTF-8 text (at line {line})") from None
    return loads_toml(text, str(path))


# --- writing -----------------------------------------------------------------------------------

def _key(key) -> str:
    if not isinstance(key, str):
        raise TypeError(f"TOML keys must be strings; got {key!r}")
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def float_text(value) -> str:
    """A float as text that reads back exactly: "nan", "inf", "-inf", or its repr — the shortest text
    that reads back to the same float, and TOML as it is: "0.1", "1e-05", "-0.0" (never a bare "1",
    which would read as an integer). metrics.csv writes its floats the same way."""
    number = float(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return repr(number)


def _value(value, where: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        number = int(value)
        if not _INT64[0] <= number <= _INT64[1]:
            raise ValueError(f"{where} = {number} does not fit TOML's 64-bit integers")
        return str(number)
    if isinstance(value, (float, np.floating)):
        return float_text(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, f"{where}[{i}]") for i, v in enumerate(value)) + "]"
    if value is None:
        raise TypeError(f"{where} is None; TOML has no null (leave the key out, or pass omit_none=True)")
    if isinstance(value, Mapping):
        raise TypeError(f"{where}: tables inside lists are not written")
    raise TypeError(f"{where} is a {type(value).__name__}; TOML holds strings, numbers, booleans, "
                    f"lists and tables")


def _table(lines: list[str], table: Mapping, path: list[str], omit_none: bool) -> None:
    where = ".".join(path)
    tables = []
    for key, value in table.items():
        name = f"{where}.{key}" if where else str(key)
        if value is None and omit_none:
            continue
        if isinstance(value, Mapping):
            tables.append((key, value))
            continue
        lines.append(f"{_key(key)} = {_value(value, name)}")
    for key, value in tables:
        sub = path + [key]
        if lines:
            lines.append("")
        lines.append("[" + ".".join(_key(k) for k in sub) + "]")
        _table(lines, value, sub, omit_none)


def dumps_toml(data: Mapping[str, Any], *, comment: str | None = None, omit_none: bool = False) -> str:
    """``data`` as TOML text (see the module docstring); ``comment``: lines written first as
    ``# ...`` comments.

    Example::

        dumps_toml({"lr": 0.1, "model": {"hidden": [100]}})   # 'lr = 0.1\\n\\n[model]\\nhidden = [100]\\n'
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"TOML data must be a dict; got {type(data).__name__}")
    lines: list[str] = []
    if comment:
        lines.extend("# " + line if line else "#" for line in comment.splitlines())
        lines.append("")
    _table(lines, data, [], omit_none)
    return "\n".join(lines) + "\n"


def write_toml(path, data: Mapping[str, Any], *, comment: str | None = None,
               omit_none: bool = False) -> None:
    """Write ``data`` as TOML to ``path`` atomically (UTF-8). Nothing is written if a value cannot
    be TOML (TypeError/ValueError naming its key).

    Example::

        write_toml("config.toml", {"seed": 0}, comment="ravine run configuration")
    """
    atomic_write_text(path, dumps_toml(data, comment=comment, omit_none=omit_none))
