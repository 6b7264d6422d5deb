"""Gradient clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ravine as rv


def grads_pair(scale=1.0, seed=0, none_at=None):
    """Three parameters with the same gradients in ravine and torch (one may have none)."""
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (4,), (2, 4)]
    ours, theirs = [], []
    for i, shape in enumerate(shapes):
        g = rng.standard_normal(shape) * scale
        p = rv.nn.Parameter(np.zeros(shape), dtype="float64")
        t = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        if i != none_at:
            p.grad = rv.Tensor(g.copy())
            t.grad = torch.from_numpy(g.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def assert_grads_equal(ours, theirs, rtol=1e-14):
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_equals_torch(norm_type, max_norm):
    ours, theirs = grads_pair(scale=2.0, none_at=1 if norm_type == 1.0 else None)
    total = rv.optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(expected.item(), rel=1e-14)
    assert_grads_equal(ours, theirs)
    if max_norm == 0.5:  # clipped: the new norm is max_norm (up to the 1e-6 guard)
        again = rv.optim.clip_grad_norm_(ours, 1e9, norm_type=norm_type)
        assert again == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_takes_a_module_and_keeps_the_direction():
    model = rv.nn.MLP(3, [4], 2, seed=0, dtype="float64")
    rng = np.random.default_rng(1)
    for p in model.parameters():
        p.grad = rv.Tensor(rng.standard_normal(p.shape) * 10)
    before = np.concatenate([p.grad.data.ravel() for p in model.parameters()])
    total = rv.optim.clip_grad_norm_(model, 1.0)
    after = np.concatenate([p.grad.data.ravel() for p in model.parameters()])
    assert total == pytest.approx(np.linalg.norm(before), rel=1e-14)
    np.testing.assert_allclose(after, before / (total + 1e-6), rtol=1e-14)
    assert rv.optim.clip_grad_norm_(model.named_parameters(), 1.0) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_nonfinite():
    ours, theirs = grads_pair()
    ours[0].grad.data[0, 0] = np.inf
    theirs[0].grad[0, 0] = math.inf
    with pytest.raises(RuntimeError, match="total norm of the gradients is inf"):
        rv.optim.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = rv.optim.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total == expected.item() == math.inf
    for p, t in zip(ours, theirs):  # as torch: scaled by 0 (inf entries become NaN)
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_clip_grad_norm_without_gradients_returns_zero():
    ours, _ = grads_pair()
    for p in ours:
        p.grad = None
    assert rv.optim.clip_grad_norm_(ours, 1.0) == 0.0


@pytest.mark.parametrize("clip_value", [0.3, 5.0, math.inf])
def test_clip_grad_value_equals_torch(clip_value):
    ours, theirs = grads_pair(scale=2.0, none_at=2)
    rv.optim.clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_grads_equal(ours, theirs, rtol=0)


def test_clipping_works_in_place_on_the_grad_arrays():
    ours, _ = grads_pair(scale=5.0)
    arrays = [p.grad.data for p in ours]
    rv.optim.clip_grad_norm_(ours, 1.0)
    rv.optim.clip_grad_value_(ours, 0.1)
    assert all(p.grad.data is a for p, a in zip(ours, arrays))
    assert max(np.max(np.abs(a)) for a in arrays) <= 0.1


@pytest.mark.parametrize("call, error, message", [
    (lambda ps: rv.optim.clip_grad_norm_(ps, -1.0), ValueError, "clip_grad_norm_: max_norm must be ≥ 0; got -1.0"),
    (lambda ps: rv.optim.clip_grad_norm_(ps, math.inf), ValueError,
     "clip_grad_norm_: max_norm must be a finite number ≥ 0; got inf"),
    (lambda ps: rv.optim.clip_grad_norm_(ps, 1.0, norm_type=0), ValueError,
     "clip_grad_norm_: norm_type must be > 0 or inf; got 0"),
    (lambda ps: rv.optim.clip_grad_norm_(ps, 1.0, norm_type=-math.inf), ValueError,
     "clip_grad_norm_: norm_type must be a finite number > 0 or inf; got -inf"),
    (lambda ps: rv.optim.clip_grad_norm_(ps, 1.0, norm_type=True), TypeError,
     "clip_grad_norm_: norm_type must be a number > 0 or inf; got True"),
    (lambda ps: rv.optim.clip_grad_norm_(ps, "1"), TypeError, "clip_grad_norm_: max_norm must be a number ≥ 0; got '1'"),
    (lambda ps: rv.optim.clip_grad_norm_([1.0], 1.0), TypeError,
     r"clip_grad_norm_: item 0 of params must be a Tensor or a \(name, Tensor\) pair; got float"),
    (lambda ps: rv.optim.clip_grad_value_(ps, -0.5), ValueError,
     "clip_grad_value_: clip_value must be ≥ 0 or inf; got -0.5"),
    (lambda ps: rv.optim.clip_grad_value_(ps, float("nan")), ValueError,
     "clip_grad_value_: clip_value must be a finite number ≥ 0 or inf; got nan"),
    (lambda ps: rv.optim.clip_grad_value_(ps, None), TypeError,
     "clip_grad_value_: clip_value must be a number ≥ 0 or inf; got None"),
])
def test_clipping_arguments_are_checked(call, error, message):
    ours, _ = grads_pair()
    with pytest.raises(error, match=message):
        call(ours)
