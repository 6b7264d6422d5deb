"""Model files: exact round trips, every mismatch reported, and pickles refused without running."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import ravine as rv
from ravine.data import Standardizer
from ravine.runs import atomic_save_npz, load_model, save_model
from ravine.runs.model_file import ModelFileError, read_npz

CONFIGS = {
    "tanh-f32": dict(hidden=[7, 5], activation="tanh"),
    "relu-f64": dict(hidden=[6], activation="relu", dtype="float64", init="he_uniform"),
    "bn-dropout-relu-f32": dict(hidden=[8, 8], activation="relu", batchnorm=True, dropout=0.3),
    "bn-sigmoid-f64": dict(hidden=[5], activation="sigmoid", batchnorm=True, dtype="float64"),
    "linear": dict(hidden=[]),
}


def trained_model(seed=0, **kwargs):
    """An MLP whose weights and batch-norm statistics have moved away from their initial values."""
    model = rv.nn.MLP(4, out_features=3, seed=seed, **kwargs)
    rng = np.random.default_rng(seed)
    opt = rv.optim.SGD(model, lr=0.1)
    for _ in range(3):
        x = rng.standard_normal((16, 4)).astype(model.dtype)
        y = rng.integers(0, 3, 16)
        opt.zero_grad()
        rv.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def fitted_scaler(seed=0):
    return Standardizer().fit(np.random.default_rng(seed).normal(3.0, 2.0, (50, 4)))


@pytest.mark.parametrize("name", list(CONFIGS))
def test_round_trip_is_exact(tmp_path, name):
    model = trained_model(**CONFIGS[name])
    scaler = fitted_scaler()
    json_path = save_model(tmp_path, model, preprocessing=scaler, classes=np.array([3, 5, 9]),
                           task="classification", extra={"note": "hi"})
    assert json_path == tmp_path / "model.json"
    assert sorted(os.listdir(tmp_path)) == ["model.json", "model.npz"]
    loaded = load_model(tmp_path)
    new = loaded.model
    assert type(new) is rv.nn.MLP and not new.training
    assert (new.hidden, new.activation, new.dtype, new.batchnorm, new.dropout) == \
        (model.hidden, model.activation, model.dtype, model.batchnorm, model.dropout)
    old_state, new_state = model.state_dict(), new.state_dict()
    assert list(old_state) == list(new_state)
    for key in old_state:
        assert new_state[key].dtype == old_state[key].dtype, key
        assert np.array_equal(new_state[key], old_state[key]), key
    if model.batchnorm:
        assert any(k.endswith("running_mean") for k in new_state)
        assert int(new_state["1.num_batches_tracked"]) == 3
    x = np.random.default_rng(1).standard_normal((20, 4)).astype(model.dtype)
    with rv.no_grad():
        assert np.array_equal(new(x).data, model(x).data)  # bit for bit
    assert np.array_equal(loaded.standardizer.mean_, scaler.mean_)
    assert np.array_equal(loaded.standardizer.std_, scaler.std_)
    assert loaded.classes.tolist() == [3, 5, 9] and loaded.classes.dtype == np.int64
    assert loaded.task == "classification" and loaded.info["extra"] == {"note": "hi"}
    raw = np.random.default_rng(2).normal(3.0, 2.0, (6, 4))
    with rv.no_grad():
        expected = model(scaler.transform(raw.astype(model.dtype))).data
    assert np.array_equal(loaded.output(raw), expected)
    assert loaded.predict(raw).tolist() == np.array([3, 5, 9])[expected.argmax(1)].tolist()


def test_json_describes_the_model(tmp_path):
    save_model(tmp_path, trained_model(hidden=[7], batchnorm=True), preprocessing=fitted_scaler())
    info = json.loads((tmp_path / "model.json").read_text())
    assert info["format"] == "ravine-model" and info["version"] == 1
    assert info["ravine_version"] == rv.__version__
    assert info["architecture"] == {"class": "MLP", "in_features": 4, "hidden": [7], "out_features": 3,
                                    "activation": "tanh", "init": "glorot_uniform", "dtype": "float32",
                                    "batchnorm": True, "dropout": 0.0}
    assert info["preprocessing"]["format"] == "ravine.Standardizer"
    assert info["weights"]["arrays"]["0.weight"] == {"shape": [7, 4], "dtype": "float32"}
    assert len(info["weights"]["sha256"]) == 64


def test_paths_string_classes_and_regression(tmp_path):
    model = trained_model(hidden=[3])
    save_model(tmp_path / "new" / "folder", model, classes=["cat", "dog", "émeu"], name="best")
    for where in ("best.json", "best.npz"):
        loaded = load_model(tmp_path / "new" / "folder" / where)
        assert loaded.classes.tolist() == ["cat", "dog", "émeu"] and loaded.standardizer is None
    save_model(tmp_path, model, task="regression")
    loaded = load_model(tmp_path / "model.npz")
    assert loaded.task == "regression" and loaded.classes is None
    assert loaded.predict(np.zeros((2, 4))).shape == (2, 3)
    with pytest.raises(ValueError, match="classes must be None for a regression"):
        save_model(tmp_path, model, task="regression", classes=[0, 1, 2])
    with pytest.raises(ValueError, match="task must be one of"):
        save_model(tmp_path, model, task="ranking")


def test_save_refuses_what_it_cannot_rebuild(tmp_path):
    with pytest.raises(TypeError, match="saves ravine.nn.MLP models; got Sequential"):
        save_model(tmp_path, rv.nn.Sequential(rv.nn.Linear(2, 2)))
    with pytest.raises(TypeError, match=r"\['extra'\]\['w'\] is a numpy array"):
        save_model(tmp_path, trained_model(hidden=[2]), extra={"w": np.zeros(2)})
    with pytest.raises(TypeError, match=r"classes\[0\] is 0.5"):
        save_model(tmp_path, trained_model(hidden=[2]), classes=[0.5, 1.5, 2.5])
    assert os.listdir(tmp_path) == []  # nothing half-written


def test_custom_init_is_recorded_as_null(tmp_path):
    def small(shape, rng, dtype):
        return (rng.standard_normal(shape) * 0.01).astype(dtype)

    model = rv.nn.MLP(4, [3], 2, init=small, seed=0)
    save_model(tmp_path, model)
    assert json.loads((tmp_path / "model.json").read_text())["architecture"]["init"] is None
    assert np.array_equal(load_model(tmp_path).model.state_dict()["0.weight"], model.state_dict()["0.weight"])


# --- mismatches ------------------------------------------------------------------------------------

def rewrite_npz(folder, arrays):
    """Replace model.npz and update the hash in model.json, as a consistent (but wrong) pair."""
    digest = atomic_save_npz(folder / "model.npz", arrays)
    info = json.loads((folder / "model.json").read_text())
    info["weights"]["sha256"] = digest
    (folder / "model.json").write_text(json.dumps(info))


def test_missing_unexpected_and_shape_mismatch_in_one_error(tmp_path):
    model = trained_model(hidden=[7, 5], batchnorm=True)
    save_model(tmp_path, model)
    state = dict(model.state_dict())
    del state["4.running_var"]
    state["9.weight"] = np.zeros(2, np.float32)
    state["0.weight"] = np.zeros((4, 7), np.float32)
    state["6.bias"] = state["6.bias"].astype(np.float64)
    rewrite_npz(tmp_path, state)
    with pytest.raises(ModelFileError) as info:
        load_model(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "model.npz") in message
    assert "missing keys: 4.running_var" in message
    assert "unexpected keys: 9.weight" in message
    assert "0.weight: shape (4, 7) in the file, (7, 4) in the model" in message
    assert "6.bias: dtype float64 in the file, float32 in the model" in message


def test_npz_from_another_save_is_refused(tmp_path):
    save_model(tmp_path / "a", trained_model(hidden=[3], seed=0))
    save_model(tmp_path / "b", trained_model(hidden=[3], seed=1))
    (tmp_path / "a" / "model.npz").write_bytes((tmp_path / "b" / "model.npz").read_bytes())
    with pytest.raises(ModelFileError, match="does not match model.json: its SHA-256 differs"):
        load_model(tmp_path / "a")
    data = (tmp_path / "b" / "model.npz").read_bytes()
    (tmp_path / "b" / "model.npz").write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(ModelFileError, match="damaged or incomplete"):
        load_model(tmp_path / "b")


def edit_json(folder, change):
    info = json.loads((folder / "model.json").read_text())
    change(info)
    (folder / "model.json").write_text(json.dumps(info))


def test_versions_formats_and_bad_json(tmp_path):
    save_model(tmp_path, trained_model(hidden=[3]))
    edit_json(tmp_path, lambda i: i.update(version=2, ravine_version="9.0"))
    with pytest.raises(ModelFileError, match=r"format version 2, written by ravine 9\.0; this ravine .* "
                                             r"reads version 1 .*Upgrade ravine"):
        load_model(tmp_path)
    edit_json(tmp_path, lambda i: i.update(version="1"))
    with pytest.raises(ModelFileError, match="unknown ravine model file version '1'"):
        load_model(tmp_path)
    edit_json(tmp_path, lambda i: i.update(version=1, format="keras"))
    with pytest.raises(ModelFileError, match="is not a ravine model file .*'keras'"):
        load_model(tmp_path)
    edit_json(tmp_path, lambda i: (i.update(format="ravine-model"), i["architecture"].pop("dropout"),
                                   i["architecture"].update(width=3)))
    with pytest.raises(ModelFileError, match="architecture: missing keys: dropout; unexpected keys: width"):
        load_model(tmp_path)
    edit_json(tmp_path, lambda i: i["architecture"].update(dropout=0.0, activation="swish", width=None)
              or i["architecture"].pop("width"))
    with pytest.raises(ModelFileError, match="cannot be built: unknown activation 'swish'"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text('{"format": "ravine-model",\n "version": }')
    with pytest.raises(ModelFileError, match=r"model\.json is not a valid ravine model file: .*line 2"):
        load_model(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no model.json"):
        load_model(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_model(tmp_path / "missing.bin")


# --- pickles ---------------------------------------------------------------------------------------

class Payload:
    """Unpickling this creates a file: the proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_the_payload_really_runs_when_unpickled(tmp_path):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Payload(control))).close()
    assert control.exists()  # so its absence below means nothing was unpickled


def object_npy(sentinel) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([Payload(sentinel)], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def plant(folder, data: bytes):
    """Put ``data`` in place of model.npz, with the JSON's hash updated to match it."""
    import hashlib

    (folder / "model.npz").write_bytes(data)
    edit_json(folder, lambda i: i["weights"].update(sha256=hashlib.sha256(data).hexdigest()))


@pytest.mark.parametrize("kind", ["object-array-member", "pickle-member", "raw-pickle", "object-npy"])
def test_pickle_payload_is_refused_and_never_runs(tmp_path, kind):
    model = trained_model(hidden=[3])
    save_model(tmp_path, model)
    sentinel = tmp_path / "pwned"
    good = {f"{k}.npy": _npy(v) for k, v in model.state_dict().items()}
    if kind == "object-array-member":
        data = zip_of({**good, "0.weight.npy": object_npy(sentinel)})
        expected = r"array '0.weight' holds pickled Python objects \(an object array, dtype object\); ravine refuses"
    elif kind == "pickle-member":
        data = zip_of({**good, "0.weight.npy": pickle.dumps(Payload(sentinel))})
        expected = r"member '0.weight.npy' is not a .npy array \(it looks like a Python pickle\)"
    elif kind == "raw-pickle":
        data = pickle.dumps({"0.weight": Payload(sentinel)})
        expected = "it looks like a Python pickle, which ravine refuses to load"
    else:
        data = object_npy(sentinel)
        expected = "is a single .npy array, not an .npz archive"
    plant(tmp_path, data)
    with pytest.raises(ModelFileError, match=expected):
        load_model(tmp_path)
    with pytest.raises(ModelFileError):
        read_npz(tmp_path / "model.npz")
    assert not sentinel.exists()


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_other_members_are_refused(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(zip_of({"0.weight.npy": _npy(np.zeros(2)), "notes.txt": b"hello"}))
    with pytest.raises(ModelFileError, match="member 'notes.txt' is not a .npy array"):
        read_npz(path)
    path.write_bytes(zip_of({"s.npy": _npy(np.array(["text"]))}))
    with pytest.raises(ModelFileError, match="array 's' has dtype <U4; only numeric"):
        read_npz(path)
    path.write_bytes(b"plain text, not a zip")
    with pytest.raises(ModelFileError, match="does not start with a zip header"):
        read_npz(path)
