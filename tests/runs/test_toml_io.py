"""The TOML writer round-trips through tomllib; the reader's errors name the file and line."""

from __future__ import annotations

import math
import os
import tomllib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ravine.runs.toml_io import TomlError, dumps_toml, loads_toml, read_toml, write_toml


def same(a, b) -> bool:
    """Equality with NaN equal to NaN, and float/int/bool kept apart (1 != 1.0 != True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


CONFIG = {
    "data": "digits",
    "label_column": 'a "quoted" \\ name',
    "seed": 0,
    "epochs": 30,
    "big": 2**63 - 1,
    "small": -2**63,
    "lr": 0.1,
    "tiny": 5e-324,
    "huge": 1.7976931348623157e308,
    "third": 1 / 3,
    "neg_zero": -0.0,
    "whole": 3.0,
    "exp": 1e-05,
    "nan": math.nan,
    "inf": math.inf,
    "ninf": -math.inf,
    "batchnorm": False,
    "shuffle": True,
    "hidden": [100, 100],
    "empty": [],
    "mixed": [1, "two", 3.0, True, [4, [5]]],
    "unicode": "μ, σ, ∂J/∂W, 日本語, 😀",
    "controls": "tab\there\nnewline\r\x00\x1f\x7f\b\f end",
    "triple": "'''\"\"\"",
    "a key with spaces": 1,
    "dotted.key": 2,
    "ünï": 3,
    "": "empty key",
    "optimizer": {"name": "adam", "betas": [0.9, 0.999], "eps": 1e-08, "amsgrad": False},
    "schedule": {},
    "model": {"hidden": [64], "deeper": {"x": 1, "y": {"z": "two levels down"}}, "after": 5},
}


def test_round_trip_of_a_configuration(tmp_path):
    path = tmp_path / "config.toml"
    write_toml(path, CONFIG)
    back = read_toml(path)
    assert same(back, CONFIG)
    assert same(tomllib.loads(dumps_toml(CONFIG)), CONFIG)
    assert os.listdir(tmp_path) == ["config.toml"]


def test_output_is_readable():
    text = dumps_toml({"lr": 0.1, "hidden": [100, 100], "model": {"activation": "tanh"}},
                      comment="ravine run configuration\nsecond line")
    assert text == ("# ravine run configuration\n# second line\n\n"
                    "lr = 0.1\nhidden = [100, 100]\n\n[model]\nactivation = \"tanh\"\n")


def test_tables_after_values_whatever_the_dict_order():
    data = {"model": {"hidden": [3]}, "seed": 1}
    text = dumps_toml(data)
    assert text.index("seed") < text.index("[model]")
    assert loads_toml(text) == data


def test_numpy_scalars_become_plain_values():
    back = loads_toml(dumps_toml({"a": np.float32(0.5), "b": np.int64(3), "c": np.bool_(True)}))
    assert same(back, {"a": 0.5, "b": 3, "c": True})


def test_writer_errors_name_the_key(tmp_path):
    with pytest.raises(TypeError, match=r"model\.init is None; TOML has no null"):
        dumps_toml({"model": {"init": None}})
    assert loads_toml(dumps_toml({"model": {"init": None, "x": 1}}, omit_none=True)) == {"model": {"x": 1}}
    with pytest.raises(ValueError, match="seed = 18446744073709551616 does not fit"):
        dumps_toml({"seed": 2**64})
    with pytest.raises(TypeError, match=r"layers\[0\]: tables inside lists"):
        dumps_toml({"layers": [{"n": 1}]})
    with pytest.raises(TypeError, match="x is a object"):
        dumps_toml({"x": object()})
    with pytest.raises(TypeError, match="keys must be strings"):
        dumps_toml({1: 2})
    with pytest.raises(TypeError, match="must be a dict"):
        dumps_toml([1])
    write_toml(tmp_path / "c.toml", {"ok": 1})
    with pytest.raises(TypeError):
        write_toml(tmp_path / "c.toml", {"bad": None})
    assert read_toml(tmp_path / "c.toml") == {"ok": 1}  # nothing written on error
    assert os.listdir(tmp_path) == ["c.toml"]


def test_reader_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('seed = 1\nlr = 0.1\nhidden = [100,\nepochs = "x"\n', encoding="utf-8")
    with pytest.raises(TomlError, match=r"bad\.toml: invalid TOML: .*line 4"):
        read_toml(path)
    path.write_text("a = 1\na = 2\n")
    with pytest.raises(TomlError, match=r"bad\.toml: .*line 2"):
        read_toml(path)
    path.write_bytes(b"a = 1\nb = \"\xff\xfe\"\n")
    with pytest.raises(TomlError, match=r"bad\.toml: invalid TOML: not UTF-8 text \(at line 2\)"):
        read_toml(path)
    with pytest.raises(FileNotFoundError, match=r"nope\.toml: no such file"):
        read_toml(tmp_path / "nope.toml")
    with pytest.raises(TomlError, match="is a folder"):
        read_toml(tmp_path)
    with pytest.raises(TomlError, match=r"<string>: invalid TOML"):
        loads_toml("x = ")
    assert issubclass(TomlError, ValueError)


# --- property: any configuration-shaped dict round-trips ---------------------------------------

scalars = (st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=True)
           | st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)
keys = st.text(max_size=8)
tables = st.dictionaries(keys, values, max_size=5)
documents = st.dictionaries(keys, values | tables | st.dictionaries(keys, values | tables, max_size=3),
                            max_size=6)


@settings(max_examples=150)
@given(documents)
def test_round_trip_property(doc):
    assert same(loads_toml(dumps_toml(doc)), doc)
