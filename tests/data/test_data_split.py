"""The train / valid / test split: stratified, disjoint, complete and reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import ravine.data as rd


def labels_with_counts(counts):
    y = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(0).permutation(y)


def test_parts_are_disjoint_complete_and_sized():
    y = labels_with_counts([50, 30, 20])
    tr, va, te = rd.split_indices(y, valid=0.2, test=0.1, seed=0)
    assert (len(tr), len(va), len(te)) == (70, 20, 10)
    together = np.concatenate([tr, va, te])
    assert np.array_equal(np.sort(together), np.arange(100))
    for part in (tr, va, te):
        assert part.dtype == np.int64 and np.all(np.diff(part) > 0)


def test_stratification_keeps_the_proportions():
    y = labels_with_counts([500, 300, 200])
    parts = rd.split_indices(y, valid=0.2, test=0.2, seed=1)
    for part, fraction in zip(parts, (0.6, 0.2, 0.2)):
        counts = np.bincount(y[part], minlength=3)
        np.testing.assert_allclose(counts, fraction * np.array([500, 300, 200]), atol=1)


def test_every_class_with_three_members_is_in_every_part():
    y = labels_with_counts([40, 3, 3, 5, 2, 1])
    tr, va, te = rd.split_indices(y, valid=0.1, test=0.1, seed=0)
    for part in (tr, va, te):
        assert {1, 2, 3} <= set(y[part].tolist())
    assert set(y[tr].tolist()) == set(range(6))  # every class keeps a training example


@given(counts=st.lists(st.integers(1, 30), min_size=2, max_size=6),
       valid=st.sampled_from([0.0, 0.1, 0.25]), test=st.sampled_from([0.0, 0.15, 0.3]),
       seed=st.integers(0, 2**31))
def test_split_invariants(counts, valid, test, seed):
    assume(sum(counts) >= 10)  # fewer may leave training empty, which is an error (tested below)
    y = labels_with_counts(counts)
    tr, va, te = rd.split_indices(y, valid=valid, test=test, seed=seed)
    assert np.array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(len(y)))
    assert len(set(y[tr].tolist())) == len(counts)
    for part, fraction in ((va, valid), (te, test)):
        if fraction == 0:
            assert len(part) == 0
        else:
            present = set(y[part].tolist())
            assert all(c in present for c, n in enumerate(counts) if n >= 3)


def test_reproducible_and_seed_dependent():
    y = labels_with_counts([30, 30])
    a = rd.split_indices(y, seed=4)
    b = rd.split_indices(y, seed=4)
    c = rd.split_indices(y, seed=5)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))


def test_arrays_and_datasets():
    ds = rd.load("iris")
    train, valid, test = rd.train_valid_test_split(ds, valid=0.2, test=0.2, seed=0)
    assert (len(train), len(valid), len(test)) == (90, 30, 30)
    for part, expected in ((train, 30), (valid, 10), (test, 10)):
        assert isinstance(part, rd.Dataset) and np.bincount(part.y).tolist() == [expected] * 3
        assert part.classes.tolist() == ds.classes.tolist()
    (Xtr, ytr), (Xva, yva), (Xte, yte) = rd.train_valid_test_split(ds.X, ds.y, seed=0)
    np.testing.assert_array_equal(Xtr, train.X)
    np.testing.assert_array_equal(yte, test.y)


def test_unstratified_and_regression_splits():
    y = labels_with_counts([90, 10])
    tr, va, te = rd.split_indices(y, valid=0.1, test=0.1, seed=0, stratify=False)
    assert (len(tr), len(va), len(te)) == (80, 10, 10)
    tr2, _, _ = rd.split_indices(100, valid=0.1, test=0.1, seed=0)
    assert np.array_equal(tr, tr2)
    reg = rd.Dataset(np.zeros((10, 1)), np.linspace(0, 1, 10), task="regression")
    parts = rd.train_valid_test_split(reg, valid=0.2, test=0.2, seed=0)
    assert [len(p) for p in parts] == [6, 2, 2]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"valid": 1.0}, ValueError, r"valid must be in \[0, 1\) \(a fraction of the examples\); got 1.0"),
    ({"test": -0.1}, ValueError, r"test must be in \[0, 1\) \(a fraction of the examples\); got -0.1"),
    ({"valid": "0.2"}, TypeError,
     r"valid must be a number in \[0, 1\) \(a fraction of the examples\); got '0.2'"),
    ({"valid": 0.5, "test": 0.5}, ValueError, "valid \\+ test must be < 1 .* 0.5 \\+ 0.5 = 1.0"),
])
def test_fractions_are_checked(kwargs, error, message):
    with pytest.raises(error, match=message):
        rd.split_indices(np.array([0, 1] * 10), **kwargs)


def test_too_few_examples_and_mismatched_lengths():
    with pytest.raises(ValueError, match="too few examples"):
        rd.split_indices(2, valid=0.2, test=0.2)
    with pytest.raises(ValueError, match="same number of rows; got 3 and 2"):
        rd.train_valid_test_split(np.zeros((3, 1)), np.array([0, 1]))
