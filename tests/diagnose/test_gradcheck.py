"""rv.diagnose.gradcheck: passes on correct models, catches planted bprop bugs, refuses float32,
validates its arguments, restores the parameters bit for bit and honours max_entries."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ravine as rv
from ravine.autodiff.elementwise import Tanh
from ravine.autodiff.linalg import Linear as LinearOp
from ravine.autodiff.tensor import Op, apply
from ravine.diagnose import GradcheckError, GradcheckReport, gradcheck

F = rv.nn.functional


# --- helpers ------------------------------------------------------------------------------------

def make_model(activation="tanh", in_features=4, hidden=(6, 5), out_features=3, seed=0):
    """A float64 MLP with nonzero biases (so bias gradients are not a special case)."""
    model = rv.nn.MLP(in_features, list(hidden), out_features, activation=activation,
                      dtype="float64", seed=seed)
    rng = np.random.default_rng(seed + 100)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.data[...] = 0.1 * rng.standard_normal(p.shape)
    return model


def make_data(m=12, in_features=4, out_features=3, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, in_features))
    labels = rng.integers(0, out_features, m)
    targets = rng.standard_normal((m, out_features))
    return x, labels, targets


def snapshot(model):
    return {name: (p.data, p.data.copy()) for name, p in model.named_parameters()}


def assert_restored(model, before):
    for name, p in model.named_parameters():
        array, saved = before[name]
        assert p.data is array, f"{name}: its array was replaced"
        assert p.data.tobytes() == saved.tobytes(), f"{name}: values changed"
        assert p.grad is None, f"{name}: .grad was written"


class Cube(Op):
    """y = a³;  ∂L/∂a = 3g·a²  (a custom box, to show any Op can be checked)."""

    def fprop(self, a):
        return a ** 3

    def bprop(self, g, a, y):
        return (g * (3 * a * a),)


class CubeMissingFactor(Cube):
    """A planted bug: the factor 3 of the power rule is dropped."""

    def bprop(self, g, a, y):
        return (g * (a * a),)


class TanhMissingDerivative(Tanh):
    """A planted bug: tanh's bprop passes g through, dropping the factor 1 − y²."""

    def bprop(self, g, a, y):
        return (g,)


class LinearDoubleBiasGrad(LinearOp):
    """A planted bug: the bias gradient of a layer is twice Σ_rows G."""

    def bprop(self, g, x, w, b, y):
        gx, gw, gb = super().bprop(g, x, w, b, y)
        return gx, gw, gb * 2


class TanhSlightlyOff(Tanh):
    """A subtle planted bug: tanh's derivative off by a relative 1e-3."""

    def bprop(self, g, a, y):
        return (g * ((1 - y * y) * 1.001),)


# --- passes on correct models ---------------------------------------------------------------------

PENALTIES = {"none": None, "L2": rv.nn.L2(1e-2), "L1": rv.nn.L1(1e-2)}


@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_passes_on_correct_mlp(activation, loss, penalty):
    model = make_model(activation)
    x, labels, targets = make_data()
    reg = PENALTIES[penalty]

    def loss_fn():
        out = model(x)
        value = F.cross_entropy(out, labels) if loss == "cross_entropy" else F.mse_loss(out, targets)
        return value if reg is None else value + reg(model)

    report = gradcheck(loss_fn, model)
    assert isinstance(report, GradcheckReport)
    assert report.ok and report.failed == []
    names = [name for name, _ in model.named_parameters()]
    assert [row.name for row in report.rows] == names
    total = 0
    for row, (_, p) in zip(report.rows, model.named_parameters()):
        assert row.shape == p.shape and row.checked == row.size == p.size
        assert row.ok and row.failures == 0
        assert row.max_abs_error < 1e-8
        assert abs(row.worst_analytic - row.worst_numerical) <= row.max_abs_error
        assert len(row.worst_index) == p.ndim
        total += p.size
    assert report.evaluations == 1 + 2 * total
    assert report.loss == loss_fn().item()


def test_passes_on_a_larger_model_with_a_subset_of_entries():
    model = make_model("relu", in_features=20, hidden=(32, 32), out_features=5)
    x, labels, _ = make_data(m=64, in_features=20, out_features=5)
    report = gradcheck(lambda: F.cross_entropy(model(x), labels) + rv.nn.L2(1e-3)(model), model,
                       max_entries=40, seed=0)
    assert report.ok
    assert [row.checked for row in report.rows] == [min(40, p.size) for p in model.parameters()]


def test_a_custom_op_is_checked_and_unnamed_tensors_are_named_by_position():
    w = rv.Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    v = rv.Tensor(np.array([[0.5], [-0.7]]), requires_grad=True)
    report = gradcheck(lambda: apply(Cube(), w).sum() + (v * v).sum() * 0.5, [w, v])
    assert [row.name for row in report.rows] == ["params[0]", "params[1]"]
    assert report.ok
    assert report["params[0]"].max_rel_error < 1e-8


def test_params_forms_give_the_same_rows():
    model = make_model()
    x, labels, _ = make_data()

    def loss_fn():
        return F.cross_entropy(model(x), labels)

    named = list(model.named_parameters())
    by_module = gradcheck(loss_fn, model)
    by_pairs = gradcheck(loss_fn, named)
    by_dict = gradcheck(loss_fn, dict(named))
    by_list = gradcheck(loss_fn, [p for _, p in named])
    assert by_module.rows == by_pairs.rows == by_dict.rows
    assert [r.name for r in by_list.rows] == [f"params[{i}]" for i in range(len(named))]
    assert [r.max_abs_error for r in by_list.rows] == [r.max_abs_error for r in by_module.rows]
    single = gradcheck(loss_fn, named[0][1])
    assert [r.name for r in single.rows] == ["params[0]"]


def test_works_inside_no_grad():
    model = make_model()
    x, labels, _ = make_data()
    with rv.no_grad():
        report = gradcheck(lambda: F.cross_entropy(model(x), labels), model)
    assert report.ok
    assert rv.is_grad_enabled()  # and the switch is back on outside the block


# --- raises on planted bugs -------------------------------------------------------------------------

FAILURE = re.compile(
    r"^gradient check failed for (?P<name>\S+) at entry (?P<entry>\([\d, ]*\)): "
    r"analytic (?P<a>\S+), numerical (?P<n>\S+) \(abs error \S+, rel error \S+;"
)


def test_raises_on_a_tanh_bprop_missing_its_derivative():
    model = make_model("tanh", hidden=(6,))
    x, labels, _ = make_data()

    def loss_fn():
        h = apply(TanhMissingDerivative(), model[0](rv.Tensor(x)))
        return F.cross_entropy(model[2](h), labels)

    with pytest.raises(GradcheckError) as info:
        gradcheck(loss_fn, model)
    err = info.value
    assert isinstance(err, AssertionError)
    report = err.report
    # the bug sits between layer 0 and the loss: layer 0's gradients are wrong, layer 2's are right
    assert {row.name for row in report.failed} == {"0.weight", "0.bias"}
    assert report["2.weight"].ok and report["2.bias"].ok
    match = FAILURE.match(str(err))
    assert match, str(err)
    assert match["name"] in ("0.weight", "0.bias")
    row = report[match["name"]]
    assert match["entry"] == str(row.worst_index)
    assert float(match["a"]) == pytest.approx(row.worst_analytic, rel=1e-8)
    assert float(match["n"]) == pytest.approx(row.worst_numerical, rel=1e-8)
    other = ({"0.weight", "0.bias"} - {match["name"]}).pop()
    assert f"also failed: {other}" in str(err)


def test_raises_on_a_doubled_bias_gradient_naming_the_bias():
    model = make_model("sigmoid", hidden=(6,))
    x, labels, _ = make_data()

    def loss_fn():
        h = model[1](model[0](rv.Tensor(x)))
        out = model[2]
        return F.cross_entropy(apply(LinearDoubleBiasGrad(), h, out.weight, out.bias), labels)

    with pytest.raises(GradcheckError, match=r"^gradient check failed for 2\.bias at entry \(\d\,\)"):
        gradcheck(loss_fn, model)

    report = gradcheck(loss_fn, model, raise_on_failure=False)
    assert not report.ok
    assert [row.name for row in report.failed] == ["2.bias"]
    row = report["2.bias"]
    assert row.failures == row.checked == 3
    assert row.worst_analytic == pytest.approx(2 * row.worst_numerical, rel=1e-6)
    assert row.max_rel_error == pytest.approx(0.5, rel=1e-6)  # |2n − n| / |2n|
    assert "FAILED" in str(report) and "2.bias" in str(report)


def test_raises_on_a_custom_op_with_a_wrong_bprop():
    w = rv.Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"for params\[0\] at entry \(2,\): analytic 4, numerical 12"):
        gradcheck(lambda: apply(CubeMissingFactor(), w).sum(), [w])


def test_catches_a_derivative_off_by_one_part_in_a_thousand():
    model = make_model("tanh", hidden=(6,))
    x, labels, _ = make_data()

    def loss_fn():
        return F.cross_entropy(model[2](apply(TanhSlightlyOff(), model[0](rv.Tensor(x)))), labels)

    with pytest.raises(GradcheckError, match=r"for 0\.(weight|bias) at entry"):
        gradcheck(loss_fn, model)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_nan_numerical_derivative_fails_rather_than_passes():
    w = rv.Tensor(np.array([1e-7, 1.0]), requires_grad=True)  # log(w − ε) is NaN at entry 0
    report = gradcheck(lambda: w.log().sum(), [w], raise_on_failure=False)
    row = report["params[0]"]
    assert not report.ok and row.failures == 1 and row.worst_index == (0,)
    assert np.isnan(row.worst_numerical) and np.isnan(row.max_abs_error)


# --- refuses float32 ----------------------------------------------------------------------------

def test_refuses_float32_parameters_saying_why():
    model = rv.nn.MLP(4, [6], 3, seed=0)  # float32, the training default
    x = np.zeros((2, 4), dtype=np.float32)
    with pytest.raises(TypeError) as info:
        gradcheck(lambda: model(x).sum(), model)
    message = str(info.value)
    assert "0.weight" in message and "float32" in message and "float64" in message
    assert "rounding error" in message and 'dtype="float64"' in message
    assert "ε = 1e-06" in message and "off by about 0.06·|f|" in message


def test_refuses_a_float32_tensor_among_float64_ones():
    good = rv.Tensor(np.ones(2), requires_grad=True)
    bad = rv.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match=r"params\[1\] is float32"):
        gradcheck(lambda: (good * good).sum(), [good, bad])


# --- validates its arguments ----------------------------------------------------------------------

@pytest.fixture
def w():
    return rv.Tensor(np.array([0.5, -0.25]), requires_grad=True)


def square_loss(w):
    return lambda: (w * w).sum()


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"eps": 0.0}, ValueError, r"gradcheck: eps must be > 0; got 0.0"),
    ({"eps": -1e-6}, ValueError, r"gradcheck: eps must be > 0; got -1e-06"),
    ({"eps": float("nan")}, ValueError, r"gradcheck: eps must be a finite number > 0; got nan"),
    ({"eps": "1e-6"}, TypeError, r"gradcheck: eps must be a number > 0; got '1e-6'"),
    ({"rtol": -1.0}, ValueError, r"gradcheck: rtol must be ≥ 0; got -1.0"),
    ({"atol": float("inf")}, ValueError, r"gradcheck: atol must be a finite number ≥ 0; got inf"),
    ({"max_entries": 0}, ValueError, r"gradcheck: max_entries must be an integer ≥ 1 or None; got 0"),
    ({"max_entries": 2.5}, TypeError, r"gradcheck: max_entries must be an integer ≥ 1 or None; got 2.5"),
    ({"max_entries": True}, TypeError, r"gradcheck: max_entries must be an integer ≥ 1 or None; got True"),
    ({"seed": "zero"}, TypeError,
     r"gradcheck: seed must be an integer ≥ 0, a numpy\.random\.Generator or None; got 'zero'"),
    ({"raise_on_failure": "yes"}, TypeError, r"gradcheck: raise_on_failure must be True or False; got 'yes'"),
])
def test_validates_options(w, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        gradcheck(square_loss(w), [w], **kwargs)


def test_validates_loss_fn(w):
    with pytest.raises(TypeError, match=r"loss_fn must be a function"):
        gradcheck((w * w).sum(), [w])
    with pytest.raises(TypeError, match=r"must return a scalar Tensor; .* returned float"):
        gradcheck(lambda: 1.0, [w])
    with pytest.raises(ValueError, match=r"must return a scalar Tensor; .* shape \(2,\)"):
        gradcheck(lambda: w * w, [w])
    with pytest.raises(TypeError, match=r"float32 loss"):
        gradcheck(lambda: (w * w).sum().astype("float32"), [w])
    with pytest.raises(ValueError, match=r"does not depend on any of params"):
        gradcheck(lambda: rv.Tensor(np.float64(1.0)), [w])
    with pytest.raises(ValueError, match=r"nan at the unperturbed parameters"):
        gradcheck(lambda: (w * np.nan).sum(), [w])


def test_validates_params(w):
    with pytest.raises(ValueError, match=r"params is empty"):
        gradcheck(square_loss(w), [])
    with pytest.raises(ValueError, match=r"params is empty"):
        gradcheck(square_loss(w), {})
    with pytest.raises(TypeError, match=r"^gradcheck: item 1 of params must be a Tensor or a \(name, Tensor\) "
                                        r"pair; got int$"):
        gradcheck(square_loss(w), [w, 3])
    with pytest.raises(TypeError, match=r"^gradcheck: params must be a Module, .*; got int$"):
        gradcheck(square_loss(w), 3)
    with pytest.raises(TypeError, match=r"^gradcheck: params: parameter 'w' must be a Tensor; got ndarray$"):
        gradcheck(square_loss(w), {"w": w.data})
    with pytest.raises(TypeError, match=r"^gradcheck: params: parameter names must be strings; got 3$"):
        gradcheck(square_loss(w), {3: w})
    constant = rv.Tensor(np.ones(2, dtype=np.float64))
    with pytest.raises(ValueError, match=r"parameter c does not require grad"):
        gradcheck(square_loss(w), {"w": w, "c": constant})
    with pytest.raises(ValueError, match=r"parameter params\[0\] is not a leaf"):
        gradcheck(square_loss(w), [w * 2])
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] are the same Tensor"):
        gradcheck(square_loss(w), [w, w])
    with pytest.raises(ValueError, match=r"two parameters are named a"):
        gradcheck(square_loss(w), [("a", w), ("a", rv.Tensor(np.ones(1), requires_grad=True))])


def test_reads_params_in_every_form_with_the_same_names():
    model = make_model(hidden=(3,))
    x, labels, _ = make_data()
    loss_fn = lambda: F.cross_entropy(model(x), labels)  # noqa: E731
    names = [name for name, _ in model.named_parameters()]
    for params in (model, model.parameters(), model.named_parameters(), dict(model.named_parameters())):
        assert [row.name for row in gradcheck(loss_fn, params).rows] == names
    weight = model[0].weight
    assert [row.name for row in gradcheck(loss_fn, weight).rows] == ["params[0]"]
    assert [row.name for row in gradcheck(loss_fn, [weight]).rows] == ["params[0]"]


# --- restores the parameters bit for bit ----------------------------------------------------------

def test_parameters_are_restored_bit_for_bit():
    model = make_model()
    x, labels, _ = make_data()
    before = snapshot(model)
    gradcheck(lambda: F.cross_entropy(model(x), labels), model)
    assert_restored(model, before)


def test_parameters_are_restored_after_a_failed_check():
    model = make_model("tanh", hidden=(6,))
    x, labels, _ = make_data()
    before = snapshot(model)

    def loss_fn():
        return F.cross_entropy(model[2](apply(TanhMissingDerivative(), model[0](rv.Tensor(x)))), labels)

    with pytest.raises(GradcheckError):
        gradcheck(loss_fn, model)
    assert_restored(model, before)


@pytest.mark.parametrize("failing_call", [2, 3, 4, 9])  # 1 is the analytic pass; then f(θ+ε), f(θ−ε)
@pytest.mark.parametrize("failure", ["raise", "bad return"])
def test_parameters_are_restored_when_loss_fn_fails_midway(failing_call, failure):
    model = make_model()
    x, labels, _ = make_data()
    before = snapshot(model)
    calls = []

    def loss_fn():
        calls.append(1)
        if len(calls) == failing_call:
            # a perturbation is in place right now: entry (k, ·) of 0.weight differs from before
            assert not np.array_equal(model[0].weight.data, before["0.weight"][1])
            if failure == "raise":
                raise RuntimeError("boom")
            return 1.0
        return F.cross_entropy(model(x), labels)

    expected = (RuntimeError, "boom") if failure == "raise" else (TypeError, "perturbed it returned float")
    with pytest.raises(expected[0], match=expected[1]):
        gradcheck(loss_fn, model)
    assert len(calls) == failing_call
    assert_restored(model, before)


# --- max_entries ----------------------------------------------------------------------------------

def test_max_entries_limits_the_evaluations():
    model = make_model(hidden=(5,))  # 0.weight 5×4, 0.bias 5, 2.weight 3×5, 2.bias 3
    x, labels, _ = make_data()
    calls = []

    def loss_fn():
        calls.append(1)
        return F.cross_entropy(model(x), labels)

    report = gradcheck(loss_fn, model, max_entries=4, seed=0)
    expected = [min(4, p.size) for p in model.parameters()]
    assert [row.checked for row in report.rows] == expected == [4, 4, 4, 3]
    assert len(calls) == report.evaluations == 1 + 2 * sum(expected)

    calls.clear()
    report = gradcheck(loss_fn, model, max_entries=1, seed=0)
    assert len(calls) == 1 + 2 * 4 and report.ok

    calls.clear()
    gradcheck(loss_fn, model)
    assert len(calls) == 1 + 2 * model.num_parameters()


def test_the_subset_depends_on_the_seed_only():
    model = make_model(hidden=(8,))
    x, labels, _ = make_data()
    perturbed = []

    def loss_fn():
        w = model[0].weight.data
        original = perturbed_from[0]
        diff = np.argwhere(w != original)
        if len(diff):
            perturbed.append(tuple(int(i) for i in diff[0]))
        return F.cross_entropy(model(x), labels)

    perturbed_from = [model[0].weight.data.copy()]

    def entries(seed):
        perturbed.clear()
        gradcheck(loss_fn, {"w": model[0].weight}, max_entries=5, seed=seed)
        return sorted(set(perturbed))

    first = entries(7)
    assert len(first) == 5
    assert entries(7) == first
    assert entries(np.random.default_rng(7)) == first
    assert entries(8) != first


# --- the report --------------------------------------------------------------------------------------

def test_report_table_and_lookup():
    model = make_model(hidden=(5,))
    x, labels, _ = make_data()
    report = gradcheck(lambda: F.cross_entropy(model(x), labels), model)
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("gradient check passed: loss ")
    assert lines[1].split()[:3] == ["parameter", "shape", "checked"]
    assert [line.split()[0] for line in lines[2:]] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(line.rstrip().endswith("ok") for line in lines[2:])
    assert report["0.bias"].shape == (5,)
    with pytest.raises(KeyError, match="no parameter named"):
        report["nope"]


def test_a_zero_dimensional_parameter():
    scale = rv.Tensor(np.float64(0.7), requires_grad=True)
    w = rv.Tensor(np.array([0.5, -1.5]), requires_grad=True)
    report = gradcheck(lambda: (scale * w).tanh().sum(), {"scale": scale, "w": w}, max_entries=1, seed=0)
    assert report.ok
    assert report["scale"].worst_index == () and report["scale"].checked == 1
    assert report["w"].checked == 1
