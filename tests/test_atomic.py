"""Atomic writes: the new content or the old one, never a half file, never a temp file left over."""

from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np
import pytest

from ravine import _atomic as atomic
from ravine._atomic import (atomic_open, atomic_save_npz, atomic_write_bytes, atomic_write_json,
                                atomic_write_text)


def only(folder) -> list[str]:
    return sorted(os.listdir(folder))


class Boom(RuntimeError):
    pass


def test_write_bytes_text_json_leave_only_the_targets(tmp_path):
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01\xff")
    atomic_write_text(tmp_path / "b.txt", "μ = 0\r\nσ = 1\n")
    atomic_write_json(tmp_path / "c.json", {"x": [1, 2.5, None, True], "y": "ü"})
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01\xff"
    assert (tmp_path / "b.txt").read_bytes() == "μ = 0\r\nσ = 1\n".encode()  # line endings untouched
    assert json.loads((tmp_path / "c.json").read_text("utf-8")) == {"x": [1, 2.5, None, True], "y": "ü"}
    assert only(tmp_path) == ["a.bin", "b.txt", "c.json"]


def test_overwrite_replaces_content(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert only(tmp_path) == ["f.txt"]


@pytest.mark.parametrize("fail_in", ["fsync", "replace", "block"])
def test_failure_midway_keeps_old_content_and_removes_temp(tmp_path, monkeypatch, fail_in):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old content")

    def boom(*args, **kwargs):
        raise Boom("disk on fire")

    if fail_in == "block":
        with pytest.raises(Boom):
            with atomic_open(target, "w") as f:
                f.write("half of the new")
                raise Boom("producer failed")
    else:
        monkeypatch.setattr(atomic.os, fail_in, boom)
        with pytest.raises(Boom):
            atomic_write_text(target, "new content " * 1000)
        monkeypatch.undo()
    assert target.read_text() == "old content"
    assert only(tmp_path) == ["f.txt"]


def test_failure_on_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(Boom()))
    with pytest.raises(Boom):
        atomic_write_bytes(tmp_path / "new.bin", b"abc")
    monkeypatch.undo()
    assert only(tmp_path) == []


def test_streaming_text_mode_for_csv(tmp_path):
    import csv

    with atomic_open(tmp_path / "p.csv", "w") as f:
        csv.writer(f).writerows([["a", "b"], [1, "x,y"]])
    assert (tmp_path / "p.csv").read_bytes() == b'a,b\r\n1,"x,y"\r\n'


def test_bad_targets(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_text(tmp_path / "missing" / "f.txt", "x")
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path, "x")
    with pytest.raises(TypeError, match="text must be a str"):
        atomic_write_text(tmp_path / "f.txt", b"bytes")
    with pytest.raises(TypeError, match="data must be bytes"):
        atomic_write_bytes(tmp_path / "f.bin", "str")
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "f", "a"):
            pass
    assert only(tmp_path) == []


def test_json_plain_data_checked_before_writing(tmp_path):
    target = tmp_path / "s.json"
    atomic_write_json(target, {"kept": 1})
    with pytest.raises(TypeError, match=r"\['history'\]\['epochs'\]\[1\]\['w'\] is a numpy array"):
        atomic_write_json(target, {"history": {"epochs": [{}, {"w": np.zeros(2)}]}})
    with pytest.raises(TypeError, match="keys must be strings"):
        atomic_write_json(target, {1: "x"})
    with pytest.raises(TypeError, match="set"):
        atomic_write_json(target, {"s": {1, 2}})
    assert json.loads(target.read_text()) == {"kept": 1}
    assert only(tmp_path) == ["s.json"]


def test_json_numbers_exact_numpy_scalars_and_nan(tmp_path):
    values = {"a": np.float32(0.1), "b": np.int64(2**62), "c": np.bool_(True), "d": 0.1 + 0.2,
              "e": (1, 2), "big": 2**80, "nan": math.nan, "inf": -math.inf}
    atomic_write_json(tmp_path / "k.json", values)
    back = json.loads((tmp_path / "k.json").read_text())
    assert back["a"] == float(np.float32(0.1)) and back["b"] == 2**62 and back["c"] is True
    assert back["d"] == 0.1 + 0.2 and back["e"] == [1, 2] and back["big"] == 2**80
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf
    atomic_write_json(tmp_path / "strict.json", values, nan="null")
    strict = json.loads((tmp_path / "strict.json").read_text(),
                        parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert strict["nan"] is None and strict["inf"] is None


def test_save_npz_returns_sha256_and_refuses_objects(tmp_path):
    arrays = {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
              "model/1.bias": np.array([True, False]), "count": np.array(7, dtype=np.int64)}
    digest = atomic_save_npz(tmp_path / "m.npz", arrays)
    assert digest == hashlib.sha256((tmp_path / "m.npz").read_bytes()).hexdigest()
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        assert sorted(z.files) == sorted(arrays)
        for k, v in arrays.items():
            assert z[k].dtype == v.dtype and np.array_equal(z[k], v)
    with pytest.raises(TypeError, match="'bad' has dtype object"):
        atomic_save_npz(tmp_path / "m.npz", {"ok": np.zeros(2), "bad": np.array([{}], dtype=object)})
    with pytest.raises(TypeError, match="dtype <U"):
        atomic_save_npz(tmp_path / "m.npz", {"s": np.array(["a"])})
    with pytest.raises(ValueError, match="names"):
        atomic_save_npz(tmp_path / "m.npz", {"": np.zeros(1)})
    assert hashlib.sha256((tmp_path / "m.npz").read_bytes()).hexdigest() == digest  # untouched
    assert only(tmp_path) == ["m.npz"]
