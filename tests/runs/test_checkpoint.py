"""Checkpoints: exact round trips, and after a crash at any moment the old or the new, never a mix."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from ravine.runs import checkpoint as ckpt
from ravine.runs.checkpoint import CheckpointError, has_checkpoint, load_checkpoint, save_checkpoint


def state(epoch: int):
    """Arrays and meta that all say ``epoch``, so a mix of two saves is visible."""
    arrays = {"model/0.weight": np.full((5, 3), epoch, np.float32),
              "model/1.num_batches_tracked": np.array(epoch, np.int64),
              "optim/0.weight/momentum_buffer": np.full((5, 3), -epoch, np.float64),
              "mask": np.arange(4) < epoch}
    meta = {"epoch": epoch, "step": 10 * epoch,
            "rng": np.random.default_rng(epoch).bit_generator.state,
            "history": {"epochs": [{"epoch": e, "loss": 1 / e, "val_loss": math.nan} for e in range(1, epoch + 1)],
                        "steps": [{"step": 1, "stable_lr": math.inf, "ill_conditioned": False}],
                        "stop_reason": None}}
    return arrays, meta


def same_meta(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # NaN-aware, exact floats


def assert_is(folder, epoch):
    arrays, meta = load_checkpoint(folder)
    want_arrays, want_meta = state(epoch)
    assert sorted(arrays) == sorted(want_arrays)
    for k, v in want_arrays.items():
        assert arrays[k].dtype == v.dtype and np.array_equal(arrays[k], v), k
    assert same_meta(meta, want_meta)


def test_round_trip_is_exact(tmp_path):
    assert not has_checkpoint(tmp_path)
    save_checkpoint(tmp_path, *state(3))
    assert has_checkpoint(tmp_path)
    assert_is(tmp_path, 3)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "checkpoint.npz"]
    _, meta = load_checkpoint(tmp_path)
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    assert rng.random() == np.random.default_rng(3).random()  # RNG state restored exactly
    record = json.loads((tmp_path / "checkpoint.json").read_text())
    assert record["format"] == "ravine-checkpoint" and record["version"] == 1 and record["epoch"] == 3
    assert record["npz"]["sha256"] == hashlib.sha256((tmp_path / "checkpoint.npz").read_bytes()).hexdigest()


def test_save_replaces_the_previous_checkpoint(tmp_path):
    for epoch in (1, 2, 3):
        save_checkpoint(tmp_path, *state(epoch))
        assert_is(tmp_path, epoch)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "checkpoint.npz"]


def test_new_npz_with_old_json_is_incomplete(tmp_path):
    save_checkpoint(tmp_path / "." , *state(1))
    other = tmp_path / "other"
    other.mkdir()
    save_checkpoint(other, *state(2))
    (tmp_path / "checkpoint.npz").write_bytes((other / "checkpoint.npz").read_bytes())
    with pytest.raises(CheckpointError, match=r"checkpoint in .* is incomplete: checkpoint.json \(epoch 1\) "
                                              r".*checkpoint.npz does not match it"):
        load_checkpoint(tmp_path)


def test_truncated_or_missing_npz_is_incomplete(tmp_path):
    save_checkpoint(tmp_path, *state(1))
    data = (tmp_path / "checkpoint.npz").read_bytes()
    (tmp_path / "checkpoint.npz").write_bytes(data[:-100])
    with pytest.raises(CheckpointError, match="is incomplete.*truncated, damaged or from another save"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.npz").unlink()
    with pytest.raises(CheckpointError, match="is incomplete.*checkpoint.npz is missing"):
        load_checkpoint(tmp_path)
    assert issubclass(CheckpointError, ValueError)


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing is supposed to catch it."""


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_crash_after_each_rename_leaves_old_or_new(tmp_path, monkeypatch, crash_at):
    save_checkpoint(tmp_path, *state(1))
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == crash_at:
            raise Crash
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Crash):
        save_checkpoint(tmp_path, *state(2))
    monkeypatch.undo()
    # renames: 1 the staged npz, 2 the JSON (the commit), 3 staged -> checkpoint.npz
    assert_is(tmp_path, 1 if crash_at <= 2 else 2)
    save_checkpoint(tmp_path, *state(3))  # and the next save works from there
    assert_is(tmp_path, 3)
    assert sorted(p for p in os.listdir(tmp_path) if not p.endswith(".tmp")) == \
        ["checkpoint.json", "checkpoint.npz"]


def test_interrupted_promotion_then_interrupted_save(tmp_path, monkeypatch):
    """JSON(2) + staged(2), then a save of 3 dies before its JSON: still epoch 2, never a mix."""
    save_checkpoint(tmp_path, *state(1))
    monkeypatch.setattr(ckpt, "_promote_staged", lambda folder: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        save_checkpoint(tmp_path, *state(2))
    monkeypatch.undo()
    assert (tmp_path / "checkpoint.next.npz").exists()
    assert_is(tmp_path, 2)  # read from the staged file
    monkeypatch.setattr(ckpt, "atomic_write_text", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        save_checkpoint(tmp_path, *state(3))
    monkeypatch.undo()
    assert_is(tmp_path, 2)


def test_bad_meta_or_arrays_write_nothing(tmp_path):
    save_checkpoint(tmp_path, *state(1))
    arrays, meta = state(2)
    with pytest.raises(TypeError, match=r"meta\['rng'\] is a numpy array"):
        save_checkpoint(tmp_path, arrays, {**meta, "rng": np.zeros(3)})
    with pytest.raises(TypeError, match="'x' has dtype object"):
        save_checkpoint(tmp_path, {**arrays, "x": np.array([None])}, meta)
    with pytest.raises(TypeError, match="meta must be a dict"):
        save_checkpoint(tmp_path, arrays, [meta])
    assert_is(tmp_path, 1)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "checkpoint.npz"]
    with pytest.raises(FileNotFoundError, match="no such folder"):
        save_checkpoint(tmp_path / "missing", arrays, meta)


def test_bad_records(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no checkpoint"):
        load_checkpoint(tmp_path)
    save_checkpoint(tmp_path, *state(1))
    record = json.loads((tmp_path / "checkpoint.json").read_text())
    (tmp_path / "checkpoint.json").write_text(json.dumps({**record, "version": 7}))
    with pytest.raises(CheckpointError, match="format version 7.*reads version 1"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text(json.dumps({**record, "format": "ravine-model"}))
    with pytest.raises(CheckpointError, match="is not a ravine checkpoint"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text(json.dumps({**record, "npz": None}))
    with pytest.raises(CheckpointError, match="not a complete checkpoint record"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text('{"format": "ravine-checkpoint", ')
    with pytest.raises(CheckpointError, match="not a valid ravine checkpoint.*line 1"):
        load_checkpoint(tmp_path)


class Payload:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_payload_with_a_matching_hash_is_refused(tmp_path):
    save_checkpoint(tmp_path, *state(1))
    sentinel = tmp_path / "pwned"
    buffer = io.BytesIO()
    np.savez(buffer, w=np.array([Payload(sentinel)], dtype=object))  # savez pickles object arrays
    data = buffer.getvalue()
    (tmp_path / "checkpoint.npz").write_bytes(data)
    record = json.loads((tmp_path / "checkpoint.json").read_text())
    record["npz"]["sha256"] = hashlib.sha256(data).hexdigest()
    (tmp_path / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="holds pickled Python objects"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.npz").write_bytes(pickle.dumps(Payload(sentinel)))
    record["npz"]["sha256"] = hashlib.sha256((tmp_path / "checkpoint.npz").read_bytes()).hexdigest()
    (tmp_path / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="looks like a Python pickle"):
        load_checkpoint(tmp_path)
    assert not sentinel.exists()


WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from ravine.runs.checkpoint import save_checkpoint
    folder, start = sys.argv[1], int(sys.argv[2])
    for epoch in range(start, start + 100000):
        w = np.full((256, 256), epoch, np.float64)
        save_checkpoint(folder, {"w": w, "b": np.full(64, -epoch, np.int64)},
                        {"epoch": epoch, "history": {"epochs": [{"epoch": epoch, "loss": 1.0 / epoch}]}})
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_at_random_moments_leaves_a_consistent_checkpoint(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    folder = tmp_path / "run"
    folder.mkdir()
    rng = np.random.default_rng(0)
    start, epochs_seen = 1, []
    for _ in range(3):
        child = subprocess.Popen([sys.executable, str(script), str(folder), str(start)])
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if has_checkpoint(folder) and json.loads(
                        (folder / "checkpoint.json").read_text() or "{}").get("epoch", 0) >= start:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.02, 0.3))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        arrays, meta = load_checkpoint(folder)
        epoch = meta["epoch"]
        assert np.all(arrays["w"] == epoch) and np.all(arrays["b"] == -epoch)
        assert meta["history"]["epochs"][0]["epoch"] == epoch
        epochs_seen.append(epoch)
        start = epoch + 1  # "resume": the next writer continues from there
    assert epochs_seen == sorted(epochs_seen) and epochs_seen[0] >= 1
