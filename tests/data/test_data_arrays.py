"""NPY/NPZ files: numeric arrays load, pickles never run, memory-mapped X is never read whole."""

from __future__ import annotations

import pickle
import tracemalloc

import numpy as np
import pytest

import ravine.data as rd
from ravine.data import DataError


class Payload:
    """Unpickling this creates a file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_npy_label_column_default_last_and_by_index(tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, np.array([[0.5, 1.0, 2], [1.5, 2.0, 5], [2.5, 3.0, 2]]))
    ds = rd.load(path)
    assert ds.X.dtype == np.float32 and ds.X.tolist() == [[0.5, 1.0], [1.5, 2.0], [2.5, 3.0]]
    assert ds.y.tolist() == [0, 1, 0] and ds.classes.tolist() == [2, 5]
    assert rd.load(path, label_column="-1").classes.tolist() == [2, 5]  # text from a CLI
    ds0 = rd.load(path, label_column=0, task="regression", dtype="float64")
    assert ds0.y.tolist() == [0.5, 1.5, 2.5] and ds0.X.dtype == np.float64


def test_npz_X_y_and_feature_names(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.arange(6.0).reshape(3, 2), y=np.array(["b", "a", "b"]),
             feature_names=np.array(["u", "v"]))
    ds = rd.load(path)
    assert ds.classes.tolist() == ["a", "b"] and ds.y.tolist() == [1, 0, 1]
    assert ds.feature_names == ["u", "v"] and ds.X.shape == (3, 2)


ARRAY_ERRORS = {
    "npy NaN": ("data.npy", {"arr": np.array([[1, 2, 0], [np.nan, 1, 1.0]])},
                ["data.npy: NaN at row 1, column 0 (0-based)"]),
    "npy inf": ("data.npy", {"arr": np.array([[1, 2, 0], [3, 1, 1.0], [2, np.inf, 0]])},
                ["data.npy: inf at row 2, column 1 (0-based)"]),
    "npy label not integer": ("data.npy", {"arr": np.array([[1, 2, 0], [3, 1, 2.5]])},
                              ["data.npy", "row 1, column 2", "2.5, not an integer"]),
    "npy single class": ("data.npy", {"arr": np.array([[1, 2, 1], [3, 1, 1.0]])},
                         ["data.npy", "at least 2 classes"]),
    "npy 1-D": ("data.npy", {"arr": np.arange(3.0)}, ["data.npy", "2-D", "(3,)"]),
    "npy text": ("data.npy", {"arr": np.array([["a", "b"], ["c", "d"]])},
                 ["data.npy", "expected numbers"]),
    "npz missing y": ("data.npz", {"X": np.eye(2), "labels": np.array([0, 1])},
                      ["data.npz: has no array 'y'", "'X', 'labels'"]),
    "npz missing X": ("data.npz", {"y": np.array([0, 1])}, ["data.npz: has no array 'X'"]),
    "npz unexpected": ("data.npz", {"X": np.eye(2), "y": np.array([0, 1]), "w": np.ones(2)},
                       ["data.npz", "unexpected entries 'w'"]),
    "npz NaN": ("data.npz", {"X": np.array([[1.0, 0], [0, np.nan]]), "y": np.array([0, 1])},
                ["data.npz: X contains NaN at row 1, column 1 (0-based)"]),
    "npz length": ("data.npz", {"X": np.eye(3), "y": np.array([0, 1])},
                   ["data.npz", "3 rows but y has 2"]),
    "npz label": ("data.npz", {"X": np.eye(3), "y": np.array([0, 1, 0.5])},
                  ["data.npz", "y[2] is 0.5, not an integer"]),
}


@pytest.mark.parametrize("case", list(ARRAY_ERRORS))
def test_array_file_errors(tmp_path, case):
    name, arrays, expected = ARRAY_ERRORS[case]
    path = tmp_path / name
    if name.endswith(".npy"):
        np.save(path, arrays["arr"])
    else:
        np.savez(path, **arrays)
    with pytest.raises(DataError) as info:
        rd.load(path)
    for part in expected:
        assert part in str(info.value), f"{part!r} not in {str(info.value)!r}"


@pytest.mark.parametrize("how", ["npy object array", "raw pickle", "npz object array"])
def test_pickled_content_is_refused_and_never_run(tmp_path, how):
    marker = tmp_path / "code-ran"
    payload = np.array([Payload(marker), 1], dtype=object)
    if how == "npy object array":
        path = tmp_path / "data.npy"
        np.save(path, payload, allow_pickle=True)
        expected = "object array"
    elif how == "raw pickle":
        path = tmp_path / "data.npy"
        path.write_bytes(pickle.dumps(Payload(marker)))
        expected = "is not a .npy array (it looks like a Python pickle); refused without reading it"
    else:
        path = tmp_path / "data.npz"
        np.savez(path, X=np.eye(2), y=payload)
        expected = "array 'y' holds pickled Python objects (an object array, dtype object)"
    assert not marker.exists()
    with pytest.raises(DataError) as info:
        rd.load(path)
    assert expected in str(info.value) and str(path) in str(info.value)
    assert not marker.exists(), "loading ran code from the file"
    with pytest.raises(DataError):
        rd.load_npy_memmap(path, path) if how != "npz object array" else rd.load_npz(path)
    assert not marker.exists()


def test_label_column_does_not_apply_to_npz_and_names_not_to_npy(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.eye(2), y=np.array([0, 1]))
    np.save(tmp_path / "d.npy", np.eye(2))
    with pytest.raises(DataError, match="label_column"):
        rd.load(tmp_path / "d.npz", label_column=0)
    with pytest.raises(DataError, match="no column names"):
        rd.load(tmp_path / "d.npy", label_column="y")


@pytest.mark.parametrize("label_column", [1.0, True, np.bool_(False), [0]])
def test_npy_label_column_of_the_wrong_kind_is_a_type_error(tmp_path, label_column):
    np.save(tmp_path / "d.npy", np.array([[0.5, 0], [1.5, 1]]))
    with pytest.raises(TypeError) as info:
        rd.load(tmp_path / "d.npy", label_column=label_column)
    assert str(info.value) == (f"label_column must be an integer (a 0-based column index) or None; "
                               f"got {label_column!r}")


@pytest.fixture
def big_memmap_files(tmp_path):
    """X: 4096 × 256 float64 = 8 MiB on disk, written in blocks (never one 8 MiB array here)."""
    n, d = 4096, 256
    path_X, path_y = tmp_path / "X.npy", tmp_path / "y.npy"
    out = np.lib.format.open_memmap(path_X, mode="w+", dtype=np.float64, shape=(n, d))
    for start in range(0, n, 512):
        rows = np.arange(start, start + 512, dtype=np.float64)[:, None]
        out[start:start + 512] = rows + np.arange(d) / d
    out.flush()
    del out
    np.save(path_y, np.arange(n) % 3)
    return path_X, path_y, n, d


def test_memmap_dataset_is_never_read_whole(big_memmap_files):
    path_X, path_y, n, d = big_memmap_files
    full_bytes = n * d * 8
    tracemalloc.start()
    try:
        ds = rd.load_npy_memmap(path_X, path_y, chunk_rows=64)
        seen = np.zeros(n, dtype=bool)
        for xb, yb in rd.iter_batches(ds, batch_size=100, seed=0):
            rows = xb[:, 0].astype(np.int64)
            np.testing.assert_array_equal(xb, rows[:, None] + np.arange(d) / d)
            np.testing.assert_array_equal(yb, rows % 3)
            seen[rows] = True
        scaler = rd.Standardizer().fit(ds.X, chunk_rows=64)
        _, peak = tracemalloc.get_traced_memory()
        # the control: a whole read shows up in the same measurement
        tracemalloc.reset_peak()
        whole = np.array(ds.X)
        _, whole_peak = tracemalloc.get_traced_memory()
        del whole
    finally:
        tracemalloc.stop()
    assert isinstance(ds.X, np.memmap) and ds.X.mode == "r"
    assert seen.all()
    assert ds.n_classes == 3 and ds.y.tolist()[:4] == [0, 1, 2, 0]
    np.testing.assert_allclose(scaler.mean_, (n - 1) / 2 + np.arange(d) / d)
    assert whole_peak >= full_bytes
    print(f"peak traced {peak} bytes; whole read {whole_peak} bytes")
    assert peak < full_bytes / 4, f"peak traced allocation {peak} bytes of {full_bytes}"


def test_memmap_validation_finds_nan_block_by_block(tmp_path):
    X = np.zeros((1000, 4), np.float32)
    X[777, 2] = np.nan
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", np.arange(1000) % 2)
    with pytest.raises(DataError, match=r"X.npy: NaN at row 777, column 2 \(0-based\)"):
        rd.load_npy_memmap(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=100)
    ds = rd.load_npy_memmap(tmp_path / "X.npy", tmp_path / "y.npy", validate=False)
    assert ds.X.shape == (1000, 4)


def test_memmap_errors(tmp_path):
    np.save(tmp_path / "Xi.npy", np.zeros((4, 2), np.int64))
    np.save(tmp_path / "X.npy", np.zeros((4, 2), np.float32))
    np.save(tmp_path / "y3.npy", np.array([0, 1, 0]))
    np.save(tmp_path / "y.npy", np.array([0, 1, 0, 1]))
    with pytest.raises(DataError, match="Xi.npy: a memory-mapped X must be float32 or float64"):
        rd.load_npy_memmap(tmp_path / "Xi.npy", tmp_path / "y.npy")
    with pytest.raises(DataError, match="y3.npy: has 3 labels but .*X.npy has 4 rows"):
        rd.load_npy_memmap(tmp_path / "X.npy", tmp_path / "y3.npy")
    with pytest.raises(FileNotFoundError, match="missing.npy: no such file"):
        rd.load_npy_memmap(tmp_path / "missing.npy", tmp_path / "y.npy")
    assert rd.open_memmap is rd.load_npy_memmap


def test_memmap_split_indices_and_batches_agree_with_in_memory(big_memmap_files):
    path_X, path_y, n, _ = big_memmap_files
    ds = rd.load_npy_memmap(path_X, path_y)
    train, _, _ = rd.split_indices(ds.y, seed=0)
    in_memory = np.load(path_X)
    a = list(rd.iter_batches(ds.X, ds.y, 256, seed=3, indices=train, dtype="float32"))
    b = list(rd.iter_batches(in_memory, ds.y, 256, seed=3, indices=train, dtype="float32"))
    assert len(a) == len(b) == -(-len(train) // 256)
    for (xa, ya), (xb, yb) in zip(a, b):
        assert xa.dtype == np.float32 and type(xa) is np.ndarray
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
