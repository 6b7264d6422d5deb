"""Every optimizer and variant against torch.optim: 50 steps on the same float64 MLP and mini-batches.

The torch model is built from ravine's weights (W of shape (out, in), a = x Wᵀ + b); ravine's
``MLP`` and ``torch.nn.Sequential`` name their parameters alike ("0.weight", ...), so the
parameters are compared by name after every step, to relative error ≤ 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ravine as rv
from helpers.oracle import rel_err, torch_twin
from ravine.nn import functional as F

RTOL = 1e-10
STEPS = 50
BATCH = 4


def make_models(activation="tanh"):
    model = rv.nn.MLP(5, [7, 6], 3, activation=activation, seed=0, dtype="float64")
    return model, torch_twin(model)


def make_data(n=20, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)), rng.integers(0, 3, size=n)


def batch(X, y, step):
    i = (step * BATCH) % len(X)
    return X[i:i + BATCH], y[i:i + BATCH]


def ravine_backward(model, xb, yb):
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    return loss.item()


def torch_backward(reference, xb, yb):
    loss = torch.nn.functional.cross_entropy(reference(torch.from_numpy(xb)), torch.from_numpy(yb))
    loss.backward()
    return loss.item()


def assert_same(model, reference, step, what=""):
    theirs = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        err = rel_err(p.data, theirs[name].detach().numpy())
        assert err <= RTOL, f"{what} step {step}: {name} differs from torch by {err:.3g}"


CASES = [
    # id, ravine class, torch class, keyword arguments (the same names in both)
    ("SGD", rv.optim.SGD, torch.optim.SGD, dict(lr=0.1)),
    ("SGD-momentum", rv.optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    ("SGD-dampening", rv.optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD-nesterov", rv.optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD-weight_decay", rv.optim.SGD, torch.optim.SGD, dict(lr=0.1, weight_decay=0.05)),
    ("SGD-momentum-weight_decay", rv.optim.SGD, torch.optim.SGD,
     dict(lr=0.1, momentum=0.8, weight_decay=0.05)),
    ("SGD-nesterov-weight_decay", rv.optim.SGD, torch.optim.SGD,
     dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("AdaGrad", rv.optim.AdaGrad, torch.optim.Adagrad, dict(lr=0.1)),
    ("AdaGrad-lr_decay", rv.optim.AdaGrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.05)),
    ("AdaGrad-initial_accumulator_value", rv.optim.AdaGrad, torch.optim.Adagrad,
     dict(lr=0.1, initial_accumulator_value=0.2, eps=1e-6)),
    ("AdaGrad-weight_decay", rv.optim.AdaGrad, torch.optim.Adagrad, dict(lr=0.1, weight_decay=0.05)),
    ("RMSProp", rv.optim.RMSProp, torch.optim.RMSprop, dict(lr=0.01)),
    ("RMSProp-alpha", rv.optim.RMSProp, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSProp-centered", rv.optim.RMSProp, torch.optim.RMSprop, dict(lr=0.01, centered=True)),
    ("RMSProp-momentum", rv.optim.RMSProp, torch.optim.RMSprop, dict(lr=0.01, momentum=0.9)),
    ("RMSProp-centered-momentum", rv.optim.RMSProp, torch.optim.RMSprop,
     dict(lr=0.01, momentum=0.9, centered=True)),
    ("RMSProp-weight_decay", rv.optim.RMSProp, torch.optim.RMSprop, dict(lr=0.01, weight_decay=0.05)),
    ("Adam", rv.optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    ("Adam-betas-eps", rv.optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam-weight_decay", rv.optim.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.05)),
    ("Adam-amsgrad", rv.optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    ("AdamW", rv.optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    ("AdamW-weight_decay", rv.optim.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.3)),
    ("AdamW-amsgrad", rv.optim.AdamW, torch.optim.AdamW, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
]


@pytest.mark.parametrize("ours, theirs, kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_step_equals_torch(ours, theirs, kwargs):
    model, reference = make_models()
    X, y = make_data()
    opt = ours(model.named_parameters(), **kwargs)
    ref = theirs(reference.parameters(), **kwargs)
    for step in range(STEPS):
        xb, yb = batch(X, y, step)
        opt.zero_grad()
        ref.zero_grad()
        ravine_backward(model, xb, yb)
        torch_backward(reference, xb, yb)
        grads = {n: p.grad.data.copy() for n, p in model.named_parameters()}
        opt.step()
        ref.step()
        for n, p in model.named_parameters():  # the update never writes into the user's .grad
            np.testing.assert_array_equal(p.grad.data, grads[n])
        assert_same(model, reference, step + 1, ours.__name__)


def test_defaults_are_torch_defaults():
    model, reference = make_models()
    for ours, theirs in [(rv.optim.SGD, torch.optim.SGD), (rv.optim.AdaGrad, torch.optim.Adagrad),
                         (rv.optim.RMSProp, torch.optim.RMSprop), (rv.optim.Adam, torch.optim.Adam),
                         (rv.optim.AdamW, torch.optim.AdamW)]:
        mine = ours(model).defaults
        reference_defaults = theirs(reference.parameters()).defaults
        for key, value in mine.items():
            assert reference_defaults[key] == value, (ours.__name__, key)


@pytest.mark.parametrize("ours, theirs, kwargs", [
    (rv.optim.SGD, torch.optim.SGD, dict(momentum=0.9, nesterov=True)),
    (rv.optim.AdamW, torch.optim.AdamW, dict(amsgrad=True)),
    (rv.optim.RMSProp, torch.optim.RMSprop, dict(momentum=0.5, centered=True)),
    (rv.optim.AdaGrad, torch.optim.Adagrad, dict(lr_decay=0.01)),
], ids=["SGD", "AdamW", "RMSProp", "AdaGrad"])
def test_param_groups_with_their_own_lr_and_weight_decay(ours, theirs, kwargs):
    """Weights decayed with one lr, biases (regularize=False) undecayed with another, as torch groups."""
    model, reference = make_models()
    X, y = make_data()
    groups = rv.optim.decay_groups(model, weight_decay=0.05, lr=0.02)
    groups[1]["lr"] = 0.05
    assert [n for n, _ in groups[0]["params"]] == ["0.weight", "2.weight", "4.weight"]
    assert [n for n, _ in groups[1]["params"]] == ["0.bias", "2.bias", "4.bias"]
    opt = ours(groups, **kwargs)
    named = dict(reference.named_parameters())
    ref = theirs([
        {"params": [named[n] for n in ("0.weight", "2.weight", "4.weight")], "lr": 0.02, "weight_decay": 0.05},
        {"params": [named[n] for n in ("0.bias", "2.bias", "4.bias")], "lr": 0.05, "weight_decay": 0.0},
    ], **kwargs)
    for step in range(30):
        xb, yb = batch(X, y, step)
        for o in (opt, ref):
            o.zero_grad()
        ravine_backward(model, xb, yb)
        torch_backward(reference, xb, yb)
        opt.step()
        ref.step()
        assert_same(model, reference, step + 1, ours.__name__)


def test_learning_rate_edited_every_step_as_a_schedule_would():
    model, reference = make_models()
    X, y = make_data()
    opt = rv.optim.Adam(model, lr=0.05)
    ref = torch.optim.Adam(reference.parameters(), lr=0.05)
    for step in range(30):
        xb, yb = batch(X, y, step)
        for o in (opt, ref):
            o.zero_grad()
            o.param_groups[0]["lr"] = 0.05 / (1 + 0.2 * step)
        if step == 15:  # other hyperparameters too
            for o in (opt, ref):
                o.param_groups[0]["betas"] = (0.5, 0.9)
        ravine_backward(model, xb, yb)
        torch_backward(reference, xb, yb)
        opt.step()
        ref.step()
        assert_same(model, reference, step + 1)


def test_parameters_without_gradient_are_skipped_like_torch():
    """A parameter whose grad is None keeps its value and its state (Adam's step count included)."""
    model, reference = make_models()
    X, y = make_data()
    opt = rv.optim.Adam(model, lr=0.01)
    ref = torch.optim.Adam(reference.parameters(), lr=0.01)
    ours, theirs = dict(model.named_parameters()), dict(reference.named_parameters())
    for step in range(20):
        xb, yb = batch(X, y, step)
        opt.zero_grad()
        ref.zero_grad()
        ravine_backward(model, xb, yb)
        torch_backward(reference, xb, yb)
        if step % 3 == 0:
            ours["2.weight"].grad = None
            theirs["2.weight"].grad = None
        opt.step()
        ref.step()
        assert_same(model, reference, step + 1)
    assert opt.state["2.weight"]["step"] == 13
    assert opt.state["0.weight"]["step"] == 20


def test_closure_is_evaluated_and_its_loss_returned():
    model, reference = make_models()
    X, y = make_data()
    opt = rv.optim.SGD(model, lr=0.1, momentum=0.9)
    ref = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    for step in range(5):
        xb, yb = batch(X, y, step)

        def closure():
            opt.zero_grad()
            return ravine_backward(model, xb, yb)

        def torch_closure():
            ref.zero_grad()
            return torch_backward(reference, xb, yb)

        with rv.no_grad():  # the closure runs with recording on all the same
            loss = opt.step(closure)
        assert loss == pytest.approx(ref.step(torch_closure), rel=1e-12)
        assert_same(model, reference, step + 1)


def test_transforms_compose_into_an_optimizer():
    """A chain written by hand (optax style) in an Optimizer subclass gives SGD with momentum."""
    from ravine.optim import transforms as T

    class Heavy(rv.optim.Optimizer):
        hyperparameters = ("lr",)

        def __init__(self, params, lr):
            super().__init__(params, dict(lr=lr))

        def transforms(self, h):
            return T.chain(T.add_decayed_weights(0.01), T.trace(0.9), T.scale(0.5))

    model, reference = make_models()
    X, y = make_data()
    opt = Heavy(model, lr=0.2)
    ref = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    for step in range(10):
        xb, yb = batch(X, y, step)
        opt.zero_grad()
        ref.zero_grad()
        ravine_backward(model, xb, yb)
        torch_backward(reference, xb, yb)
        opt.step()
        ref.step()
        assert_same(model, reference, step + 1)
