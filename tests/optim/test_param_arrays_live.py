"""Building an optimizer never replaces a parameter's array: a ``p.data`` the user kept stays live."""

from __future__ import annotations

import numpy as np
import pytest

import ravine as rv
from ravine.nn import functional as F
from ravine.nn.module import pack_parameters

OPTIMIZERS = {
    "SGD": lambda ps: rv.optim.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: rv.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "AdaGrad": lambda ps: rv.optim.AdaGrad(ps, lr=0.1),
    "RMSProp": lambda ps: rv.optim.RMSProp(ps, lr=0.01, momentum=0.5),
    "Adam": lambda ps: rv.optim.Adam(ps, lr=0.01),
    "AdamW": lambda ps: rv.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}


def net():
    """A model whose parameters each own their array (nothing packs them)."""
    return rv.nn.Sequential(rv.nn.Linear(4, 8, seed=0), rv.nn.Tanh(), rv.nn.Linear(8, 3, seed=1))


def train(model, opt, steps=3):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("packed", [False, True], ids=["own arrays", "packed"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_kept_arrays_stay_the_parameters_arrays(name, packed):
    model = net()
    if packed:
        pack_parameters(model)
    p = model[0].weight
    w = model[0].weight.data
    kept = {n: q.data for n, q in model.named_parameters()}
    start = w.copy()
    opt = OPTIMIZERS[name](model.parameters())
    train(model, opt)
    assert model[0].weight is p and model[0].weight.data is w   # never replaced ...
    assert not np.array_equal(w, start)                         # ... and updated in place
    for n, q in model.named_parameters():
        assert q.data is kept[n]
    assert np.shares_memory(w, model[0].weight.data)
    # packed: one array holds them all (as documented); otherwise each keeps its own
    weight, bias = model[0].weight.data, model[0].bias.data
    assert (weight.base is not None and weight.base is bias.base) == packed
    for state in opt.state.values():  # the optimizer's buffers are its own, never the weights
        for value in state.values():
            if isinstance(value, np.ndarray):
                assert not any(np.shares_memory(value, q.data) for q in model.parameters())


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_packed_and_own_arrays_train_bit_for_bit_alike(name):
    own, packed = net(), net()
    pack_parameters(packed)
    train(own, OPTIMIZERS[name](own.parameters()), steps=5)
    train(packed, OPTIMIZERS[name](packed.parameters()), steps=5)
    for (_, a), (_, b) in zip(own.named_parameters(), packed.named_parameters()):
        assert np.array_equal(a.data, b.data)


def test_a_replaced_array_is_updated_by_the_loop():
    model = net()
    opt = rv.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train(model, opt, steps=1)
    fresh = model[0].weight.data.copy()
    model[0].weight.data = fresh  # the user's new array: trained from now on, not a stale one
    train(model, opt, steps=2)
    assert model[0].weight.data is fresh
    twin = net()
    twin_opt = rv.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    train(twin, twin_opt, steps=1)
    train(twin, twin_opt, steps=2)
    assert np.array_equal(twin[0].weight.data, fresh)


def test_pack_parameters_keeps_values_shapes_and_dtypes():
    model = rv.nn.MLP(4, [8, 6], 3, seed=0)
    before = model.state_dict()
    pack_parameters(model)
    for name, p in model.named_parameters():
        assert p.data.dtype == before[name].dtype and np.array_equal(p.data, before[name])
    base = model[0].weight.data.base
    assert all(p.data.base is base for p in model.parameters())
