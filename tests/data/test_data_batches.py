"""Mini-batches: every index once per epoch, reproducible shuffles, epochs that differ."""

from __future__ import annotations

import numpy as np
import pytest

import ravine.data as rd


@pytest.mark.parametrize("n, size, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                                (5, 1, False), (7, 100, False), (7, 100, True)])
def test_every_index_exactly_once_per_epoch(n, size, drop_last):
    out = list(rd.batches(n, size, seed=0, drop_last=drop_last))
    sizes = [len(b) for b in out]
    size = min(size, n)
    if drop_last:
        assert all(s == size for s in sizes) and sum(sizes) == n - n % size
    else:
        assert sum(sizes) == n and all(s == size for s in sizes[:-1]) and sizes[-1] <= size
        assert np.array_equal(np.sort(np.concatenate(out)), np.arange(n))
    together = np.concatenate(out)
    assert len(set(together.tolist())) == len(together)
    assert all(b.dtype == np.int64 and np.all(np.diff(b) > 0) for b in out)


def test_batch_larger_than_n_gives_one_batch():
    assert [b.tolist() for b in rd.batches(3, 10, shuffle=False)] == [[0, 1, 2]]


def test_no_shuffle_is_in_order():
    assert [b.tolist() for b in rd.batches(5, 2, shuffle=False)] == [[0, 1], [2, 3], [4]]


def test_int_seed_is_reproducible_and_generator_continues_its_stream():
    a = [b.tolist() for b in rd.batches(20, 5, seed=3)]
    b = [b.tolist() for b in rd.batches(20, 5, seed=3)]
    assert a == b
    assert a != [b.tolist() for b in rd.batches(20, 5, shuffle=False)]
    rng = np.random.default_rng(3)
    epoch1 = [b.tolist() for b in rd.batches(20, 5, seed=rng)]
    epoch2 = [b.tolist() for b in rd.batches(20, 5, seed=rng)]
    assert epoch1 == a and epoch1 != epoch2  # a Generator moves on: each epoch differs
    rng = np.random.default_rng(3)
    again = [[b.tolist() for b in rd.batches(20, 5, seed=rng)] for _ in range(2)]
    assert again == [epoch1, epoch2]  # and the whole run is reproducible


def test_order_is_drawn_when_called_not_when_iterated():
    rng = np.random.default_rng(0)
    first = rd.batches(10, 5, seed=rng)
    second = rd.batches(10, 5, seed=rng)
    s, f = list(second), list(first)
    rng = np.random.default_rng(0)
    assert [b.tolist() for b in f] == [b.tolist() for b in rd.batches(10, 5, seed=rng)]
    assert [b.tolist() for b in s] == [b.tolist() for b in rd.batches(10, 5, seed=rng)]


def test_batches_over_a_subset_of_indices():
    subset = np.array([3, 7, 8, 20])
    out = np.concatenate(list(rd.batches(subset, 3, seed=0)))
    assert sorted(out.tolist()) == [3, 7, 8, 20]


def test_iter_batches_yields_matching_rows():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10) % 3
    seen = []
    for xb, yb in rd.iter_batches(X, y, batch_size=4, seed=1):
        np.testing.assert_array_equal(xb[:, 0] / 2, np.flatnonzero(np.isin(np.arange(10),
                                                                            xb[:, 0] / 2)))
        np.testing.assert_array_equal(yb, (xb[:, 0] / 2).astype(int) % 3)
        seen.extend((xb[:, 0] / 2).astype(int).tolist())
    assert sorted(seen) == list(range(10))
    xs = list(rd.iter_batches(X, batch_size=4, shuffle=False))
    assert [x.shape for x in xs] == [(4, 2), (4, 2), (2, 2)]
    ds = rd.load("iris")
    xb, yb = next(rd.iter_batches(ds, batch_size=8, seed=0, dtype="float64"))
    assert xb.dtype == np.float64 and yb.shape == (8,)


@pytest.mark.parametrize("call, error, message", [
    (lambda: rd.batches(10, 0), ValueError, "batch_size must be an integer ≥ 1; got 0"),
    (lambda: rd.batches(10, 2.0), TypeError, "batch_size must be an integer ≥ 1; got 2.0"),
    (lambda: rd.batches(10, True), TypeError, "batch_size must be an integer ≥ 1; got True"),
    (lambda: rd.batches(-1, 2), ValueError, "n must be an integer ≥ 0; got -1"),
    (lambda: rd.batches(10, 2, seed="x"), TypeError,
     r"seed must be an integer ≥ 0, a numpy\.random\.Generator or None; got 'x'"),
    (lambda: rd.iter_batches(np.zeros((3, 1)), np.zeros(2), 2), ValueError, "same number of rows"),
    (lambda: rd.iter_batches(np.zeros((3, 1)), None, 2, indices=[0, 3]), ValueError,
     r"indices must be in \[0, 3\); got 3"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_empty_epoch():
    assert list(rd.batches(0, 4)) == []
