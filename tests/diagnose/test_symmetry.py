"""Permutation symmetry of hidden units (issue 4, deliverable 6), on real trained nets in float64."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

import ravine as rv
from ravine.diagnose.landscape import loss_along_line
from ravine.diagnose.symmetry import (average_over_permutations, hidden_layers, model_outputs,
                                      permute_hidden_units, symmetry_report)

F = rv.nn.functional


@pytest.fixture(scope="module")
def moons():
    return rv.data.make_moons(200, noise=0.2, seed=0, dtype="float64")


def _trained(hidden, moons, epochs=100, **kwargs):
    X, y = moons
    model = rv.nn.MLP(2, hidden, 2, activation=kwargs.pop("activation", "tanh"), seed=0,
                      dtype="float64", **kwargs)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.5, momentum=0.9),
                               progress=False)
    trainer.fit(X, y, epochs=epochs)
    return model


@pytest.fixture(scope="module")
def one_layer(moons):
    return _trained([6], moons)


@pytest.fixture(scope="module")
def two_layers(moons):
    return _trained([5, 4], moons, epochs=60)


@pytest.fixture(scope="module")
def with_batchnorm(moons):
    return _trained([5], moons, epochs=30, batchnorm=True, dropout=0.1)


def _loss(model, X, y) -> float:
    return float(F.cross_entropy(model_outputs(model, X), y).item())


def _same_state(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("net", ["one_layer", "two_layers"])
def test_permuting_any_hidden_layer_leaves_the_outputs_unchanged(net, moons, request):
    model = request.getfixturevalue(net)
    X, _ = moons
    before = model.state_dict()
    reference = model_outputs(model, X)
    rng = np.random.default_rng(1)
    for layer, hidden in enumerate(hidden_layers(model)):
        for _ in range(5):
            perm = rng.permutation(hidden.units)
            while np.array_equal(perm, np.arange(hidden.units)):
                perm = rng.permutation(hidden.units)
            twin = permute_hidden_units(model, layer, perm)
            np.testing.assert_allclose(model_outputs(twin, X), reference, rtol=0, atol=1e-12)
            # the parameters did move: unit i of the twin is unit perm[i] of the original
            lin = hidden_layers(model)[layer]
            new = hidden_layers(twin)[layer]
            np.testing.assert_array_equal(new.linear.weight.data, lin.linear.weight.data[perm])
            np.testing.assert_array_equal(new.linear.bias.data, lin.linear.bias.data[perm])
            np.testing.assert_array_equal(new.following.weight.data, lin.following.weight.data[:, perm])
            np.testing.assert_array_equal(new.following.bias.data, lin.following.bias.data)
            assert not np.array_equal(new.linear.weight.data, lin.linear.weight.data)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # the original is untouched


def test_the_permuted_copy_is_independent_of_the_original(one_layer, moons):
    X, _ = moons
    twin = permute_hidden_units(one_layer, 0, [1, 0, 2, 3, 4, 5])
    for (_, p), (_, q) in zip(one_layer.named_parameters(), twin.named_parameters()):
        assert p is not q and not np.shares_memory(p.data, q.data)
    # the copy computes with its own parameters (the MLP's forward plan was copied too)
    reference = model_outputs(one_layer, X)
    hidden_layers(twin)[0].linear.weight.data[0, 0] += 1.0
    assert np.abs(model_outputs(twin, X) - reference).max() > 1e-3
    np.testing.assert_array_equal(model_outputs(one_layer, X), reference)
    assert permute_hidden_units(one_layer, 0, np.arange(6)) is not one_layer
    assert _same_state(permute_hidden_units(one_layer, 0, np.arange(6)), one_layer)


@pytest.mark.parametrize("net", ["one_layer", "two_layers"])
def test_the_averaged_net_has_identical_units_and_a_higher_loss(net, moons, request):
    model = request.getfixturevalue(net)
    X, y = moons
    loss = _loss(model, X, y)
    for layer in range(len(hidden_layers(model))):
        blob = average_over_permutations(model, layer)
        old, new = hidden_layers(model)[layer], hidden_layers(blob)[layer]
        W, b, V = new.linear.weight.data, new.linear.bias.data, new.following.weight.data
        assert np.all(W == W[0]) and np.all(b == b[0]) and np.all(V == V[:, :1])
        np.testing.assert_allclose(W[0], old.linear.weight.data.mean(axis=0), rtol=1e-15)
        np.testing.assert_allclose(V[:, 0], old.following.weight.data.mean(axis=1), rtol=1e-15)
        # every unit of the averaged layer computes the same thing
        hidden_values = np.tanh(X @ W.T + b) if layer == 0 else None
        if hidden_values is not None:
            assert np.all(hidden_values == hidden_values[:, :1])
        # the non-convexity witness: worse than the net it averages
        assert _loss(blob, X, y) > loss + 0.05
    assert _loss(model, X, y) == loss


def _enumerated_mean(model, layer):
    """The mean, over all n! permuted nets, of every parameter and buffer (by name)."""
    n = hidden_layers(model)[layer].units
    states = [permute_hidden_units(model, layer, perm).state_dict()
              for perm in itertools.permutations(range(n))]
    assert len(states) == math.factorial(n)
    return {k: np.mean([s[k] for s in states], axis=0) for k in states[0]}


@pytest.mark.parametrize("batchnorm", [False, True])
def test_closed_form_average_equals_the_mean_of_the_enumerated_permutations(batchnorm, moons):
    model = _trained([3, 2], moons, epochs=5, batchnorm=batchnorm)
    for layer in (0, 1):
        expected = _enumerated_mean(model, layer)
        got = average_over_permutations(model, layer).state_dict()
        assert got.keys() == expected.keys()
        for key in got:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-14, atol=1e-15, err_msg=key)


def test_batchnorm_parameters_and_running_statistics_move_with_their_units(with_batchnorm, moons):
    model = with_batchnorm
    X, y = moons
    perm = np.array([4, 2, 0, 1, 3])
    twin = permute_hidden_units(model, 0, perm)
    bn, bn_twin = hidden_layers(model)[0].batchnorm, hidden_layers(twin)[0].batchnorm
    assert bn is not None
    for name in ("running_mean", "running_var"):
        np.testing.assert_array_equal(getattr(bn_twin, name), getattr(bn, name)[perm])
    np.testing.assert_array_equal(bn_twin.weight.data, bn.weight.data[perm])
    np.testing.assert_array_equal(bn_twin.num_batches_tracked, bn.num_batches_tracked)
    np.testing.assert_allclose(model_outputs(twin, X), model_outputs(model, X), rtol=0, atol=1e-12)
    # in training mode too (batch statistics; the dropout masks differ, so compare without dropout)
    plain = _trained([5], moons, epochs=5, batchnorm=True)
    twin = permute_hidden_units(plain.train(), 0, perm).train()
    with rv.nn.no_side_effects(plain), rv.nn.no_side_effects(twin), rv.no_grad():
        np.testing.assert_allclose(twin(X).data, plain(X).data, rtol=0, atol=1e-12)
    blob = hidden_layers(average_over_permutations(model, 0))[0].batchnorm
    for values in (blob.weight.data, blob.bias.data, blob.running_mean, blob.running_var):
        assert np.all(values == values[0])
    assert _loss(average_over_permutations(model, 0), X, y) > _loss(model, X, y)


def test_symmetry_report(one_layer, two_layers, moons):
    X, y = moons
    report = symmetry_report(one_layer, X, y, seed=0)
    assert report.units == 6 and report.layer == 0 and report.examples == 200
    assert not np.array_equal(report.permutation, np.arange(6))
    assert report.max_output_difference < 1e-12
    assert report.permuted_loss == pytest.approx(report.loss, rel=1e-12)
    assert report.loss == _loss(one_layer, X, y)
    assert report.averaged_loss == _loss(average_over_permutations(one_layer, 0), X, y)
    assert report.nonconvex and report.loss_increase > 0
    text = str(report)
    assert "hidden layer 0 (6 units)" in text and "not convex" in text
    assert f"{report.averaged_loss:.6g}" in text
    assert np.array_equal(symmetry_report(one_layer, X, y, seed=0).permutation, report.permutation)
    second = symmetry_report(two_layers, X, y, layer=1, seed=3)
    assert second.units == 4 and second.max_output_difference < 1e-12 and second.nonconvex
    # a loss given as a function gives the same numbers
    same = symmetry_report(one_layer, X, y, loss=F.cross_entropy, seed=0)
    assert same.averaged_loss == report.averaged_loss and same.loss_name == "cross_entropy"


def test_symmetry_report_for_regression_with_mse(moons):
    X, _ = moons
    target = np.sin(2 * X[:, 0]) + X[:, 1]
    model = rv.nn.MLP(2, [8], 1, activation="tanh", seed=0, dtype="float64")
    rv.train.Trainer(model, rv.optim.Adam(model.parameters(), lr=0.02), loss="mse",
                     progress=False).fit(X, target, epochs=40)
    report = symmetry_report(model, X, target, loss="mse", seed=1)
    assert report.max_output_difference < 1e-12 and report.nonconvex
    assert report.loss == pytest.approx(np.mean((model_outputs(model, X)[:, 0] - target) ** 2), rel=1e-12)


def test_the_line_between_a_net_and_its_permuted_twin_has_a_bump(one_layer, moons):
    """Two equivalent minima with a higher loss between them: a convex function has no such bump."""
    X, y = moons
    twin = permute_hidden_units(one_layer, 0, [5, 4, 3, 2, 1, 0])
    line = loss_along_line(lambda: F.cross_entropy(one_layer(X), y), one_layer, one_layer, twin,
                           steps=21, extend=0.0)
    assert line.loss_a == pytest.approx(line.loss_b, rel=1e-12)
    assert line.barrier > 0.05


def test_errors_name_the_problem(one_layer):
    with pytest.raises(ValueError, match=r"each of 0..5 exactly once"):
        permute_hidden_units(one_layer, 0, [0, 0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="length 6"):
        permute_hidden_units(one_layer, 0, [0, 1, 2])
    with pytest.raises(ValueError, match="integers"):
        permute_hidden_units(one_layer, 0, [0.5, 1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match=re.escape(
            "average_over_permutations: layer must be an integer in [0, 0] "
            "(a 0-based index: the model has 1 hidden layer); got 1")):
        average_over_permutations(one_layer, 1)
    with pytest.raises(ValueError, match=re.escape(
            "permute_hidden_units: layer must be an integer in [0, 0] "
            "(a 0-based index: the model has 1 hidden layer); got -1")):
        permute_hidden_units(one_layer, -1, np.arange(6))
    with pytest.raises(TypeError, match=re.escape(
            "symmetry_report: layer must be an integer in [0, 0] "
            "(a 0-based index: the model has 1 hidden layer); got True")):
        symmetry_report(one_layer, *rv.data.make_moons(20, seed=0, dtype="float64"), layer=True)
    with pytest.raises(ValueError, match="no hidden layer"):
        average_over_permutations(rv.nn.MLP(2, [], 2, seed=0), 0)
    with pytest.raises(TypeError, match="MLP or an rv.nn.Sequential"):
        average_over_permutations(rv.nn.Linear(2, 3, seed=0), 0)
    odd = rv.nn.Sequential(rv.nn.Linear(2, 3, seed=0), rv.nn.Tanh(), rv.nn.Sequential(rv.nn.Tanh()),
                           rv.nn.Linear(3, 2, seed=1))
    with pytest.raises(TypeError, match="module 2 is a Sequential"):
        permute_hidden_units(odd, 0, [2, 1, 0])
    X, y = rv.data.make_moons(20, seed=0, dtype="float64")
    with pytest.raises(ValueError, match="loss must be one of"):
        symmetry_report(one_layer, X, y, loss="hinge")


def test_a_plain_sequential_works_too(moons):
    X, _ = moons
    net = rv.nn.Sequential(rv.nn.Linear(2, 4, seed=0, dtype="float64"), rv.nn.ReLU(),
                           rv.nn.Linear(4, 3, seed=1, dtype="float64"), rv.nn.Sigmoid(),
                           rv.nn.Linear(3, 2, seed=2, dtype="float64"))
    for layer, perm in ((0, [3, 1, 0, 2]), (1, [2, 0, 1])):
        twin = permute_hidden_units(net, layer, perm)
        with rv.no_grad():
            np.testing.assert_allclose(twin(X).data, net(X).data, rtol=0, atol=1e-12)
