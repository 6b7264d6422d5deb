"""The activation registry and everything that reads it.

Every test here runs over the whole registry, so an activation added to it (its box and its entry)
is checked by all of them: the fused ``Dense`` box against the unfused Linear + activation, the
compiled gradient against the graph (bit for bit), the module classes and functions made from the
registry, the symmetry tools, the saturation monitor, the estimators' names.
"""

from __future__ import annotations

import itertools
import pickle
import copy

import numpy as np
import pytest

import ravine as rv
from ravine.autodiff import elementwise as ew
from ravine.autodiff.activations import ACTIVATIONS, FUNCTIONS, get
from ravine.diagnose.layer_monitor import DEFAULT_THRESHOLDS, LayerMonitor, saturation
from ravine.diagnose.symmetry import permute_hidden_units
from ravine.fast import CompiledGradient, why_not_compiled
from ravine.nn import functional as F
from ravine.nn.layers import ACTIVATION_MODULES, ACTIVATION_NAMES, activation, activation_name

NAMES = list(ACTIVATIONS)


def data(m=11, n_in=5, n_out=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n_in)).astype(dtype), rng.integers(0, n_out, size=m)


# --- the registry ---------------------------------------------------------------------------------

def test_the_registry_holds_the_named_activations_and_their_boxes():
    assert NAMES[:3] == ["tanh", "sigmoid", "relu"]  # the names of 0.1, in their order
    assert {"softplus", "elu"} <= set(NAMES)
    for name, spec in ACTIVATIONS.items():
        assert spec.name == name and issubclass(spec.box, ew.Activation) and spec.box is not ew.Activation
        assert spec.doc and "\n" not in spec.doc
        assert spec.saturation is None or spec.saturation > 0
    assert get("softplus").box is ew.Softplus and get("elu").box is ew.ELU
    assert DEFAULT_THRESHOLDS == {"tanh": 2.0, "sigmoid": 4.0}


@pytest.mark.parametrize("bad, error", [("swish", ValueError), ("Tanh", ValueError), ("", ValueError),
                                        (None, TypeError), (3, TypeError)])
def test_an_unknown_name_is_an_error_listing_the_known_ones(bad, error):
    with pytest.raises(error, match="tanh, sigmoid, relu, softplus, elu"):
        get(bad)
    with pytest.raises((ValueError, TypeError), match="activation"):
        rv.autodiff.dense(np.ones((2, 3)), np.ones((4, 3)), None, bad)
    with pytest.raises(ValueError, match=f"unknown activation {bad!r}; expected one of tanh, .*, identity"):
        activation(bad)


@pytest.mark.parametrize("name", NAMES)
def test_the_values_are_the_maths(name):
    a = np.linspace(-4.0, 4.0, 33)
    expected = {"tanh": np.tanh(a), "sigmoid": 1 / (1 + np.exp(-a)), "relu": np.maximum(a, 0),
                "softplus": np.log1p(np.exp(a)), "elu": np.where(a > 0, a, np.exp(a) - 1)}[name]
    np.testing.assert_allclose(FUNCTIONS[name](a), expected, rtol=1e-14, atol=1e-15)


def test_softplus_and_elu_do_not_overflow_far_out():
    a = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    x = rv.Tensor(a, requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        h = rv.softplus(x)
        g, = rv.grad(h.sum(), [x])
        e = rv.elu(x)
        ge, = rv.grad(e.sum(), [x])
    np.testing.assert_allclose(h.data, [0.0, np.exp(-40.0), np.log(2.0), 40.0, 1000.0], rtol=1e-15)
    np.testing.assert_allclose(g.data, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-16)
    np.testing.assert_array_equal(e.data, [-1.0, np.expm1(-40.0), 0.0, 40.0, 1000.0])
    np.testing.assert_allclose(ge.data, [0.0, np.exp(-40.0), 1.0, 1.0, 1.0], atol=1e-16)


@pytest.mark.parametrize("name, dtype", list(itertools.product(NAMES, ["float32", "float64"])))
def test_the_dtype_is_kept(name, dtype):
    x = rv.Tensor(np.linspace(-2, 2, 7).astype(dtype), requires_grad=True)
    h = getattr(x, name)()
    g, = rv.grad(h.sum(), [x])
    assert h.dtype == np.dtype(dtype) and g.dtype == np.dtype(dtype)
    assert FUNCTIONS[name](x.data).dtype == np.dtype(dtype)


# --- what is made from it: functions, methods, module classes -------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_functions_methods_and_modules_exist_for_every_entry(name):
    spec = ACTIVATIONS[name]
    x = rv.Tensor(np.linspace(-2, 2, 9), requires_grad=True)
    ways = [getattr(rv, name)(x), getattr(rv.autodiff, name)(x), getattr(F, name)(x), getattr(x, name)(),
            rv.nn.Activation(name)(x), getattr(rv.nn, spec.class_name)()(x), activation(name)(x)]
    for h in ways:
        np.testing.assert_array_equal(h.data, ways[0].data)
        assert isinstance(h._node, spec.box)
    assert name in rv.__all__ and name in rv.autodiff.__all__ and name in F.__all__
    assert spec.class_name in rv.nn.__all__
    np.testing.assert_array_equal(getattr(rv, name)(x.data), ways[0].data)  # arrays in, array out


@pytest.mark.parametrize("name", NAMES)
def test_the_module_class_of_each_entry(name):
    cls = ACTIVATION_MODULES[name]
    module = rv.nn.Activation(name)
    assert type(module) is cls and cls.__name__ == ACTIVATIONS[name].class_name
    assert cls.__doc__ == ACTIVATIONS[name].doc and repr(module) == f"{cls.__name__}()"
    assert activation_name(module) == name and activation_name(cls(name)) == name
    assert type(copy.deepcopy(module)) is cls and type(pickle.loads(pickle.dumps(module))) is cls
    assert list(module.parameters()) == []
    other = next(n for n in NAMES if n != name)
    with pytest.raises(ValueError, match=f"is the {name!r} activation; got name={other!r}"):
        cls(other)


def test_the_public_classes_of_0_1_are_the_registrys():
    assert (rv.nn.Tanh, rv.nn.Sigmoid, rv.nn.ReLU) == tuple(ACTIVATION_MODULES[n] for n in ("tanh", "sigmoid", "relu"))
    assert rv.nn.layers.Tanh is rv.nn.Tanh and issubclass(rv.nn.Softplus, rv.nn.Activation)
    assert ACTIVATION_NAMES == (*NAMES, "identity")
    assert "linear" not in ACTIVATION_NAMES  # the 0.1 alias of identity is gone
    with pytest.raises(ValueError, match="unknown activation 'linear'"):
        rv.nn.MLP(3, [4], 2, activation="linear")
    with pytest.raises(TypeError, match="Activation needs the name"):
        rv.nn.Activation()


def test_a_subclass_that_changes_forward_is_not_taken_for_the_activation():
    class Doubled(rv.nn.Tanh):
        def forward(self, x):
            return super().forward(x) * 2

    assert activation_name(Doubled()) is None and activation_name(rv.nn.Identity()) is None


# --- the fused Dense box, the unfused layers and the compiled gradient ------------------------------

def unfused_copy(model):
    """The same network as a Sequential, module by module: Linear, then the activation's own box."""
    return rv.nn.Sequential(*(copy.deepcopy(m) for m in model))


def gradients(model, x, y, loss="cross_entropy", regularizers=()):
    model.zero_grad()
    out = model(x)
    value = F.cross_entropy(out, y) if loss == "cross_entropy" else F.mse_loss(out, y)
    for reg in regularizers:
        value = value + reg(model)
    value.backward()
    return value.item(), out.data, [p.grad.data.copy() for p in model.parameters()]


@pytest.mark.parametrize("name, dtype", list(itertools.product(NAMES, ["float32", "float64"])))
def test_the_fused_dense_box_is_the_unfused_linear_and_activation(name, dtype):
    model = rv.nn.MLP(5, [7, 6], 3, activation=name, seed=1, dtype=dtype)
    assert [act for _, act in model._steps] == [name, name, None]  # Linear + activation: one Dense box
    x, y = data(dtype=dtype)
    hidden = model(rv.Tensor(x))._node.inputs[0]  # the last hidden layer's output
    assert isinstance(hidden._node, rv.autodiff.linalg.Dense) and hidden._node.activation == name
    unfused = unfused_copy(model)
    fused_value, fused_out, fused_grads = gradients(model, x, y)
    value, out, grads = gradients(unfused, x, y)
    assert fused_value == value
    np.testing.assert_array_equal(fused_out, out)
    for a, b in zip(fused_grads, grads):
        np.testing.assert_array_equal(a, b)  # the same operations in the same order: bit for bit


@pytest.mark.parametrize("name", NAMES)
def test_the_fused_dense_box_has_the_unfused_hessian_vector_products(name):
    model = rv.nn.MLP(4, [6], 3, activation=name, seed=2, dtype="float64")
    unfused = unfused_copy(model)
    x, y = data(n_in=4, seed=2)
    rng = np.random.default_rng(3)
    vs = [rng.standard_normal(p.shape) for p in model.parameters()]

    def hvp(net):
        params = net.parameters()
        grads = rv.grad(F.cross_entropy(net(x), y), params, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(grads, vs))
        return [h.data for h in rv.grad(dot, params)]

    fused, plain = hvp(model), hvp(unfused)
    assert max(np.abs(h).max() for h in fused) > 1e-3  # not all zero: the comparison means something
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, loss, dtype", list(itertools.product(
    NAMES, ["cross_entropy", "mse"], ["float32", "float64"])))
def test_the_compiled_gradient_is_the_graphs_bit_for_bit(name, loss, dtype):
    model = rv.nn.MLP(5, [7, 6], 3, activation=name, seed=4, dtype=dtype)
    x, labels = data(seed=4, dtype=dtype)
    y = labels if loss == "cross_entropy" else np.random.default_rng(5).standard_normal((11, 3)).astype(dtype)
    regularizers = [rv.nn.L1(1e-3), rv.nn.L2(1e-2)]
    assert why_not_compiled(model, loss, regularizers) is None  # the compiled path really applies
    value, out, graph = gradients(model, x, y, loss, regularizers)
    model.zero_grad()
    compiled_loss, objective, compiled_out = CompiledGradient(model, loss, regularizers)(x, y)
    np.testing.assert_array_equal(compiled_out, out)
    assert objective == pytest.approx(value, rel=1e-6)
    for p, g in zip(model.parameters(), graph):
        np.testing.assert_array_equal(p.grad.data, g)


def test_the_compiled_gradient_does_not_take_two_activations_in_a_row():
    model = rv.nn.MLP(3, [4], 2, activation="softplus", seed=0)
    assert why_not_compiled(model, "cross_entropy", []) is None
    modules = list(model._modules.items())
    model._modules.clear()
    for key, module in modules[:2] + [("extra", rv.nn.Tanh())] + modules[2:]:
        model._modules[key] = module  # Linear, Softplus, Tanh, Linear
    assert "not a plain MLP" in why_not_compiled(model, "cross_entropy", [])


# --- the tools that read the registry --------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_permuting_hidden_units_keeps_the_function(name):
    model = rv.nn.MLP(3, [5, 4], 2, activation=name, seed=0, dtype="float64")
    x, _ = data(n_in=3)
    twin = permute_hidden_units(model, 0, [4, 2, 0, 1, 3])
    assert not np.array_equal(twin[0].weight.data, model[0].weight.data)
    np.testing.assert_allclose(twin(x).data, model(x).data, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_saturation_uses_the_registrys_thresholds(name):
    model = rv.nn.MLP(4, [6, 6], 2, activation=name, seed=0, dtype="float64")
    for layer in model.linear_layers():
        layer.weight.data *= 100.0
    x, _ = data(n_in=4)
    limit = ACTIVATIONS[name].saturation
    fractions = saturation(model, x)
    if limit is None:
        assert fractions == {}
    else:
        assert fractions.keys() == {"1", "3"} and min(fractions.values()) >= 0.9
    by_name = saturation(model, x, {name: 1e9})
    by_class = saturation(model, x, {ACTIVATION_MODULES[name]: 1e9})
    assert by_name == by_class == {"1": 0.0, "3": 0.0}
    assert saturation(model, x, {name: None}) == {}


@pytest.mark.parametrize("thresholds, error, match", [
    ({"swish": 1.0}, ValueError, "thresholds key must be one of 'tanh'"),
    ({"tanh": 0.0}, ValueError, r"thresholds\['tanh'\] must be > 0 or None"),
    ({"tanh": "2"}, TypeError, r"thresholds\['tanh'\] must be a number"),
    ({3: 1.0}, TypeError, "thresholds keys must be activation names or module classes; got 3"),
    ([("tanh", 1.0)], TypeError, "thresholds must be a dict or None"),
])
def test_bad_thresholds_are_named(thresholds, error, match):
    with pytest.raises(error, match="LayerMonitor: " + match):
        LayerMonitor(every=1, thresholds=thresholds)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_estimators_take_scikit_learns_names_and_the_registrys():
    from ravine.sklearn import MLPClassifier
    from ravine.sklearn._params import ACTIVATIONS as ESTIMATOR_NAMES

    assert ESTIMATOR_NAMES["logistic"] == "sigmoid" and ESTIMATOR_NAMES["identity"] == "identity"
    assert all(ESTIMATOR_NAMES[name] == name for name in NAMES)
    x, y = data(m=40, n_in=4)
    for name in ("softplus", "elu", "logistic"):
        clf = MLPClassifier(hidden_layer_sizes=(5,), activation=name, max_iter=3, random_state=0).fit(x, y)
        assert clf.model_.activation == ESTIMATOR_NAMES[name]
    assert "softplus" in MLPClassifier.__doc__ and '"logistic"' in MLPClassifier.__doc__
