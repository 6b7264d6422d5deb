"""Module: dotted names, state dicts, train/eval, zero_grad."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ravine as rv
from ravine.nn import functional as F


def mlp(seed=0, **kwargs):
    return rv.nn.MLP(4, [8, 6], 3, seed=seed, **kwargs)


class Block(rv.nn.Module):
    """A hand-written module: a parameter, a buffer and two children."""

    def __init__(self):
        super().__init__()
        self.scale = rv.nn.Parameter(np.ones(3, dtype=np.float32), regularize=False)
        self.register_buffer("count", np.zeros(3, dtype=np.float32))
        self.inner = rv.nn.Sequential(rv.nn.Linear(3, 3, seed=0), rv.nn.Tanh())
        self.head = rv.nn.Linear(3, 2, bias=False, seed=1)

    def forward(self, x):
        return self.head(self.inner(x * self.scale))


# --- names -----------------------------------------------------------------------------------------

def test_named_parameters_have_dotted_names_in_definition_order():
    model = mlp()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert model.parameters()[0] is model[0].weight
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes == {"0.weight": (8, 4), "0.bias": (8,), "2.weight": (6, 8), "2.bias": (6,),
                      "4.weight": (3, 6), "4.bias": (3,)}
    assert model.num_parameters() == 8 * 4 + 8 + 6 * 8 + 6 + 3 * 6 + 3


def test_nested_modules_and_buffers():
    block = Block()
    assert [n for n, _ in block.named_parameters()] == ["scale", "inner.0.weight", "inner.0.bias",
                                                         "head.weight"]
    assert [n for n, _ in block.named_buffers()] == ["count"]
    assert [n for n, _ in block.named_modules()] == ["", "inner", "inner.0", "inner.1", "head"]
    nested = rv.nn.Sequential(rv.nn.Sequential(rv.nn.Linear(2, 2), rv.nn.Tanh()), rv.nn.Linear(2, 1))
    assert [n for n, _ in nested.named_parameters()] == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]


def test_weights_are_regularized_and_biases_are_not():
    for name, p in mlp().named_parameters():
        assert isinstance(p, rv.nn.Parameter) and p.requires_grad
        assert p.regularize == name.endswith("weight"), name


def test_a_shared_parameter_is_listed_once():
    layer = rv.nn.Linear(3, 3, seed=0)
    shared = rv.nn.Sequential(layer, rv.nn.Tanh(), layer)
    assert [n for n, _ in shared.named_parameters()] == ["0.weight", "0.bias"]


def test_reassigning_an_attribute_replaces_its_registration():
    block = Block()
    block.head = rv.nn.Linear(3, 2, seed=2)       # a new module under the same name
    assert "head.bias" in dict(block.named_parameters())
    block.head = None                              # no longer a module
    assert not any(n.startswith("head") for n, _ in block.named_parameters())


def test_module_without_super_init_is_an_error():
    class Broken(rv.nn.Module):
        def __init__(self):
            self.weight = rv.nn.Parameter(np.ones(2))

    with pytest.raises(AttributeError, match=re.escape("must call super().__init__() first")):
        Broken()


# --- state dicts -----------------------------------------------------------------------------------

def test_state_dict_holds_copies_keyed_by_dotted_names():
    model = mlp()
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(state[name], p.data)
        assert not np.shares_memory(state[name], p.data)
    state["0.weight"][:] = 123.0
    assert not np.any(model[0].weight.data == 123.0)


def test_load_state_dict_round_trip_keeps_the_parameter_objects():
    source, target = mlp(seed=1), mlp(seed=2)
    opt = rv.optim.SGD(target.parameters(), lr=0.1)
    before = {name: (p, p.data) for name, p in target.named_parameters()}
    result = target.load_state_dict(source.state_dict())
    assert result == ([], [])
    for (name, p), (_, q) in zip(target.named_parameters(), source.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        assert p is before[name][0]           # the same Parameter object ...
        assert p.data is before[name][1]      # ... written in place, so the optimizer keeps working
        assert not np.shares_memory(p.data, q.data)
    assert opt.param_groups[0]["params"][0] is target[0].weight
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(target(x).data, source(x).data)


def test_state_dict_round_trip_with_buffers():
    a, b = Block(), Block()
    a.count[:] = [1, 2, 3]
    a.scale.data[:] = 2.0
    state = a.state_dict()
    assert list(state) == ["scale", "inner.0.weight", "inner.0.bias", "head.weight", "count"]
    b.load_state_dict(state)
    np.testing.assert_array_equal(b.count, [1, 2, 3])
    np.testing.assert_array_equal(b.scale.data, [2.0, 2.0, 2.0])


def test_strict_load_names_every_missing_unexpected_and_mismatched_key_in_one_error():
    model = mlp()
    state = model.state_dict()
    del state["2.bias"]
    del state["4.weight"]
    state["9.weight"] = np.zeros((2, 2), dtype=np.float32)
    state["0.weight"] = np.zeros((5, 5), dtype=np.float32)
    before = model.state_dict()
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: 2.bias, 4.weight" in message
    assert "unexpected keys: 9.weight" in message
    assert "0.weight: shape (5, 5) in the state, (8, 4) in the model" in message
    for name, value in before.items():  # nothing was half-loaded
        np.testing.assert_array_equal(dict(model.named_parameters())[name].data, value)


def test_non_strict_load_returns_missing_and_unexpected_and_loads_the_rest():
    source, target = mlp(seed=1), mlp(seed=2)
    state = source.state_dict()
    del state["4.bias"]
    state["extra"] = np.ones(3)
    kept = target[4].bias.data.copy()
    missing, unexpected = target.load_state_dict(state, strict=False)
    assert missing == ["4.bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(target[0].weight.data, source[0].weight.data)
    np.testing.assert_array_equal(target[4].bias.data, kept)


def test_non_strict_load_still_refuses_a_shape_mismatch():
    model = mlp()
    state = model.state_dict()
    state["0.bias"] = np.zeros(3, dtype=np.float32)
    with pytest.raises(ValueError, match=re.escape("0.bias: shape (3,) in the state, (8,) in the model")):
        model.load_state_dict(state, strict=False)


# --- modes -----------------------------------------------------------------------------------------

def test_train_and_eval_propagate_to_every_descendant():
    block = Block()
    modules = [m for _, m in block.named_modules()]
    assert len(modules) == 5 and all(m.training for m in modules)
    assert block.eval() is block
    assert not any(m.training for m in modules)
    assert block.train() is block
    assert all(m.training for m in modules)
    block.inner.eval()  # a subtree only: its parent keeps its mode
    assert block.training and block.head.training
    assert not block.inner.training and not block.inner[0].training
    block.train(False)
    assert not any(m.training for m in modules)


def test_mode_sets_every_flag_and_restores_each_modules_own_flag():
    block = Block()
    modules = [m for _, m in block.named_modules()]
    block.inner.eval()  # mixed flags: the parent trains, a subtree evaluates
    before = [m.training for m in modules]
    assert before == [True, False, False, False, True]
    with block.mode(training=False) as same:
        assert same is block and not any(m.training for m in modules)
    assert [m.training for m in modules] == before
    with block.mode(training=True):
        assert all(m.training for m in modules)
    assert [m.training for m in modules] == before
    with block.mode():  # None: nothing set on entry, everything restored on exit
        assert [m.training for m in modules] == before
        block.train()
    assert [m.training for m in modules] == before


def test_mode_restores_the_flags_when_the_block_raises():
    block = Block()
    block.head.eval()
    before = [m.training for _, m in block.named_modules()]
    with pytest.raises(RuntimeError, match="inside"):
        with block.mode(training=False):
            raise RuntimeError("inside")
    assert [m.training for _, m in block.named_modules()] == before


def test_mode_refuses_a_flag_that_is_not_a_bool():
    with pytest.raises(TypeError, match="Block.mode: training must be True or False; got 0"):
        with Block().mode(training=0):
            pass


# --- gradients -------------------------------------------------------------------------------------

def test_zero_grad_clears_every_parameter():
    block = Block()
    x = rv.Tensor(np.ones((2, 3), dtype=np.float32))
    block(x).sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


def test_sequential_container():
    model = mlp()
    assert len(model) == 5
    assert isinstance(model[1], rv.nn.Tanh) and isinstance(model[-1], rv.nn.Linear)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert model.linear_layers() == [model[0], model[2], model[4]]
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    h = rv.Tensor(x)
    for layer in model:
        h = layer(h)
    np.testing.assert_array_equal(model(x).data, h.data)


@pytest.mark.parametrize("activation, module", [
    ("tanh", rv.nn.Tanh), ("sigmoid", rv.nn.Sigmoid), ("relu", rv.nn.ReLU), ("identity", rv.nn.Identity),
    ("softplus", rv.nn.Softplus), ("elu", rv.nn.ELU),
])
def test_mlp_layout_per_activation(activation, module):
    model = rv.nn.MLP(3, [4, 5], 2, activation=activation, seed=0)
    assert [type(m) for m in model] == [rv.nn.Linear, module, rv.nn.Linear, module, rv.nn.Linear]
    assert model.activation == activation
    assert [layer.weight.shape for layer in model.linear_layers()] == [(4, 3), (5, 4), (2, 5)]


def test_linear_without_bias():
    layer = rv.nn.Linear(3, 2, bias=False, seed=0, dtype="float64")
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(layer(rv.Tensor(x)).data, x @ layer.weight.data.T)


def test_a_training_step_through_the_module_api_lowers_the_loss():
    model = rv.nn.MLP(4, [8], 3, seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)), rng.integers(0, 3, size=32)
    opt = rv.optim.SGD(model.parameters(), lr=0.5)
    first = F.cross_entropy(model(x), y).item()
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert F.cross_entropy(model(x), y).item() < first
