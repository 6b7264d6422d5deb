"""Standardizer: training statistics only, constant features finite, dtype kept, saved as lists."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ravine.data as rd
from ravine.data import Standardizer


def test_train_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.normal(3.0, 2.0, size=(200, 4))
    X_test = rng.normal(-1.0, 5.0, size=(50, 4))
    s = Standardizer().fit(X_train)
    Z = s.transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(s.mean_, X_train.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(s.std_, X_train.std(axis=0, ddof=0), rtol=1e-13)
    np.testing.assert_allclose(s.transform(X_test), (X_test - X_train.mean(0)) / X_train.std(0))


def test_block_by_block_statistics_equal_the_direct_ones():
    X = np.random.default_rng(1).normal(1e3, 1.0, size=(1001, 3))
    s = Standardizer().fit(X, chunk_rows=7)
    np.testing.assert_allclose(s.mean_, X.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(s.std_, X.std(axis=0), rtol=1e-10)


def test_constant_feature_stays_finite():
    X = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]], np.float32)
    s = Standardizer().fit(X)
    Z = s.transform(X)
    assert np.isfinite(Z).all() and np.all(Z[:, 1] == 0)
    assert s.std_[1] == 0 and s.scale_[1] == 1
    np.testing.assert_allclose(s.inverse_transform(Z), X)


def test_float32_is_preserved_and_float64_too():
    X = np.random.default_rng(2).normal(size=(20, 3)).astype(np.float32)
    s = Standardizer().fit(X)
    assert s.transform(X).dtype == np.float32
    assert s.fit_transform(X).dtype == np.float32
    assert s.inverse_transform(s.transform(X)).dtype == np.float32
    assert s.transform(X.astype(np.float64)).dtype == np.float64
    assert s.transform(np.ones((2, 3), dtype=np.int64)).dtype == np.float64


def test_round_trip_to_dict_from_dict_through_json():
    X = np.random.default_rng(3).normal(size=(30, 5))
    s = Standardizer().fit(X)
    d = json.loads(json.dumps(s.to_dict()))
    assert isinstance(d["mean"], list) and isinstance(d["std"][0], float)
    t = Standardizer.from_dict(d)
    assert np.array_equal(t.mean_, s.mean_) and np.array_equal(t.std_, s.std_)
    assert np.array_equal(t.transform(X), s.transform(X))
    # arrays, as from an npz file, work too
    u = Standardizer.from_dict({k: np.asarray(v) for k, v in d.items()})
    assert np.array_equal(u.transform(X), s.transform(X))


def test_inverse_transform_undoes_transform():
    X = np.random.default_rng(4).normal(5, 3, size=(10, 2))
    s = Standardizer().fit(X)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X, rtol=1e-14)


def test_errors():
    s = Standardizer()
    with pytest.raises(ValueError, match="not fitted yet; call fit"):
        s.transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="not fitted"):
        s.to_dict()
    s.fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match="X has 3 features, but this Standardizer was fitted "
                                         "with 4"):
        s.transform(np.ones((2, 3)))
    with pytest.raises(ValueError, match="must be 2-D"):
        s.transform(np.ones(4))
    with pytest.raises(ValueError, match="X contains NaN at row 1, column 2"):
        Standardizer().fit(np.array([[0.0, 0, 0], [0, 0, np.nan]]))
    with pytest.raises(ValueError, match="at least one row"):
        Standardizer().fit(np.ones((0, 3)))
    with pytest.raises(ValueError, match=r"missing keys \['std'\]"):
        Standardizer.from_dict({"mean": [0.0]})
    with pytest.raises(ValueError, match=r"unexpected keys \['extra'\]"):
        Standardizer.from_dict({"mean": [0.0], "std": [1.0], "extra": 1})
    with pytest.raises(ValueError, match="std finite and >= 0"):
        Standardizer.from_dict({"mean": [0.0], "std": [-1.0]})


def test_with_a_split_data_set():
    train, _, test = rd.train_valid_test_split(rd.load("wine", dtype="float64"), seed=0)
    s = Standardizer().fit(train.X)
    Z = s.transform(train.X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(0), 1, atol=1e-12)
    assert not np.allclose(s.transform(test.X).mean(0), 0, atol=1e-3)
