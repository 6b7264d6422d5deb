"""The 2-D generators: shapes, class counts, bit-for-bit seeds and the clean shapes at noise=0."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ravine.data as rd

GENERATORS = [rd.make_moons, rd.make_circles, rd.make_spirals, rd.make_xor, rd.make_blobs]


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_shapes_dtypes_and_balanced_classes(make):
    X, y = make(n_samples=101, noise=0.1, seed=0)
    k = int(y.max()) + 1
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.sum() == 101 and counts.max() - counts.min() <= 1
    assert k == (3 if make in (rd.make_spirals, rd.make_blobs) else 2)
    X64, _ = make(n_samples=101, noise=0.1, seed=0, dtype="float64")
    assert X64.dtype == np.float64
    np.testing.assert_array_equal(X64.astype(np.float32), X)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_same_seed_same_bits_different_seed_differs(make):
    a, ya = make(n_samples=60, seed=7)
    b, yb = make(n_samples=60, seed=7)
    c, _ = make(n_samples=60, seed=8)
    assert a.tobytes() == b.tobytes() and ya.tobytes() == yb.tobytes()
    assert a.tobytes() != c.tobytes()
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(make(n_samples=60, seed=g1)[0], make(n_samples=60, seed=g2)[0])


def test_no_global_random_state_is_touched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    for make in GENERATORS:
        make(seed=0)
        make(seed=None)
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_class_counts_for_spirals_and_blobs(n_classes):
    for make in (rd.make_spirals, rd.make_blobs):
        _, y = make(n_samples=53, n_classes=n_classes, seed=0)
        counts = np.bincount(y, minlength=n_classes)
        assert len(counts) == n_classes and counts.sum() == 53 and counts.max() - counts.min() <= 1


def test_circles_noise_zero_lies_on_the_radii():
    X, y = rd.make_circles(200, noise=0.0, factor=0.3, dtype="float64")
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-12)
    assert np.bincount(y).tolist() == [100, 100]


def test_moons_noise_zero_lies_on_the_half_circles():
    X, y = rd.make_moons(200, noise=0.0, dtype="float64")
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, atol=1e-12)
    assert (outer[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-12)
    assert (inner[:, 1] <= 0.5 + 1e-12).all()


def test_spirals_noise_zero_lies_on_the_arms():
    k = 4
    X, y = rd.make_spirals(400, noise=0.0, n_classes=k, turns=1.5, dtype="float64")
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() >= 0.1 - 1e-12 and r.max() <= 1.0 + 1e-12
    t = (r - 0.1) / 0.9
    theta = 2 * math.pi * (1.5 * t + y / k)
    np.testing.assert_allclose(X, np.column_stack([r * np.cos(theta), r * np.sin(theta)]),
                               atol=1e-12)


def test_xor_noise_zero_labels_are_the_quadrants():
    X, y = rd.make_xor(400, noise=0.0)
    assert np.all(y == (X[:, 0] * X[:, 1] < 0)) and np.abs(X).max() <= 1.0
    assert np.all(X != 0) and np.bincount(y).tolist() == [200, 200]


def test_blobs_noise_zero_are_the_centers():
    centers = np.array([[0.0, 0.0, 1.0], [5.0, 5.0, 5.0]])
    X, y = rd.make_blobs(10, noise=0.0, centers=centers, dtype="float64")
    np.testing.assert_array_equal(X, centers[y])
    X, y = rd.make_blobs(30, noise=0.0, n_classes=3, dtype="float64")
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), 2.0)


def test_noise_scales_the_deviation():
    X0, y = rd.make_blobs(4000, noise=0.0, seed=1, dtype="float64")
    X1, _ = rd.make_blobs(4000, noise=0.5, seed=1, dtype="float64")
    assert abs((X1 - X0).std() - 0.5) < 0.02


@pytest.mark.parametrize("call, error, message", [
    (lambda: rd.make_moons(1), ValueError, "make_moons: n_samples must be an integer ≥ 2; got 1"),
    (lambda: rd.make_moons(10.5), TypeError, "make_moons: n_samples must be an integer ≥ 2; got 10.5"),
    (lambda: rd.make_moons(True), TypeError, "make_moons: n_samples must be an integer ≥ 2; got True"),
    (lambda: rd.make_circles(noise=-0.1), ValueError, "make_circles: noise must be ≥ 0; got -0.1"),
    (lambda: rd.make_circles(factor=1.0), ValueError, r"make_circles: factor must be in \(0, 1\); got 1.0"),
    (lambda: rd.make_spirals(n_classes=1), ValueError, "make_spirals: n_classes must be an integer ≥ 2; got 1"),
    (lambda: rd.make_spirals(n_samples=3, n_classes=4), ValueError,
     "make_spirals: n_samples must be an integer ≥ 4; got 3"),
    (lambda: rd.make_blobs(n_classes=2, centers=np.eye(3)), ValueError, "disagrees"),
    (lambda: rd.make_xor(seed=1.5), TypeError,
     r"make_xor: seed must be an integer ≥ 0, a numpy\.random\.Generator or None; got 1.5"),
    (lambda: rd.make_xor(noise=float("nan")), ValueError, "make_xor: noise must be a finite number ≥ 0; got nan"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
