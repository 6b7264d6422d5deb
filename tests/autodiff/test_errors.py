"""Bad input raises ValueError/TypeError naming what was expected, what was given, and where."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ravine as rv
from ravine.nn import functional as F


def exact(message: str) -> str:
    """A ``match`` pattern for exactly this message."""
    return "^" + re.escape(message) + "$"


def t64(shape, fill=1.0):
    return rv.Tensor(np.full(shape, fill, dtype=np.float64))


# --- matmul and layer shapes -----------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [((3, 4), (5, 2)), ((3, 4), (5,)), ((3,), (4,)), ((2,), (3, 2))])
def test_matmul_shape_mismatch_names_both_shapes(a, b):
    with pytest.raises(ValueError, match=re.escape(f"matmul shape mismatch: {a} @ {b}")):
        t64(a) @ t64(b)
    with pytest.raises(ValueError, match=re.escape(f"matmul shape mismatch: {a} @ {b}")):
        rv.matmul(t64(a), np.ones(b))


def test_matmul_exact_message():
    with pytest.raises(ValueError, match=exact(
            "matmul shape mismatch: (3, 4) @ (5, 2): the inner dimensions 4 and 5 differ")):
        t64((3, 4)) @ t64((5, 2))


def test_matmul_refuses_more_than_two_dimensions():
    with pytest.raises(ValueError, match=re.escape("1-D or 2-D operands; got shapes (2, 3, 4) and (4, 5)")):
        t64((2, 3, 4)) @ t64((4, 5))


@pytest.mark.parametrize("shape", [(2, 5), (2, 3), (4,), (1, 2, 4)])
def test_linear_input_with_the_wrong_number_of_features(shape):
    layer = rv.nn.Linear(4, 3, seed=0)
    with pytest.raises(ValueError, match=re.escape(f"expects input of shape (batch, 4); got shape {shape}")):
        layer(rv.Tensor(np.ones(shape, dtype=np.float32)))


def test_mlp_input_with_the_wrong_number_of_features():
    model = rv.nn.MLP(4, [3], 2, seed=0)
    with pytest.raises(ValueError, match=re.escape("expects input of shape (batch, 4); got shape (2, 5)")):
        model(np.ones((2, 5), dtype=np.float32))


def test_functional_linear_shape_mismatch():
    with pytest.raises(ValueError, match=re.escape(
            "linear shape mismatch: x has 5 features (shape (2, 5)) but the weight has shape (3, 4)")):
        F.linear(t64((2, 5)), t64((3, 4)))
    with pytest.raises(ValueError, match=re.escape("bias must have shape (3,); got (4,)")):
        F.linear(t64((2, 4)), t64((3, 4)), t64((4,)))


# --- labels ----------------------------------------------------------------------------------------

def test_label_out_of_range_exact_message():
    labels = np.zeros(20, dtype=np.int64)
    labels[17] = 10
    with pytest.raises(ValueError, match=exact("labels must be integers in [0, 10); got 10 at row 17")):
        F.cross_entropy(t64((20, 10)), labels)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8])
def test_label_out_of_range_for_every_integer_dtype(dtype):
    labels = np.array([0, 2, 1, 3, 1], dtype=dtype)
    with pytest.raises(ValueError, match=exact("labels must be integers in [0, 3); got 3 at row 3")):
        F.cross_entropy(t64((5, 3)), labels)


def test_negative_label():
    with pytest.raises(ValueError, match=exact("labels must be integers in [0, 3); got -1 at row 2")):
        F.cross_entropy(t64((4, 3)), [0, 1, -1, 2])


def test_label_out_of_range_in_nll_loss():
    with pytest.raises(ValueError, match=exact("labels must be integers in [0, 3); got 3 at row 2")):
        F.nll_loss(t64((4, 3)), [0, 1, 3, 1])


@pytest.mark.parametrize("bad, shown", [(1.5, "1.5"), (np.nan, "nan"), (-0.25, "-0.25"), (np.inf, "inf")])
def test_labels_with_a_fraction(bad, shown):
    labels = np.array([0.0, 1.0, bad, 2.0])
    with pytest.raises(ValueError, match=exact(f"labels must be integers in [0, 3); got {shown} at row 2")):
        F.cross_entropy(t64((4, 3)), labels)


@pytest.mark.parametrize("labels, dtype", [
    (np.array(["a", "b", "c", "a"]), "<U1"),
    (np.array([0.0, 1.0, 2.0, 1.0]), "float64"),   # whole numbers, but not silently cast
    (np.array([True, False, True, True]), "bool"),
], ids=["strings", "whole-floats", "bools"])
def test_labels_that_are_not_integers(labels, dtype):
    with pytest.raises(TypeError, match=re.escape(
            f"labels must be integers in [0, 3); got an array of dtype {dtype}")):
        F.cross_entropy(t64((4, 3)), labels)


def test_labels_of_the_wrong_shape_or_count():
    with pytest.raises(ValueError, match=re.escape("labels must be a 1-D array of class indices; got shape (4, 1)")):
        F.cross_entropy(t64((4, 3)), np.zeros((4, 1), dtype=int))
    with pytest.raises(ValueError, match=exact("got 3 labels for 4 rows of logits")):
        F.cross_entropy(t64((4, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match=re.escape("logits of shape (batch, classes); got (3,)")):
        F.cross_entropy(t64((3,)), [0])


# --- non-finite input ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
@pytest.mark.parametrize("wrap", [np.asarray, rv.Tensor], ids=["array", "Tensor"])
def test_nan_or_inf_in_the_model_input(value, kind, wrap):
    model = rv.nn.MLP(6, [4], 3, seed=0)
    x = np.zeros((5, 6), dtype=np.float32)
    x[3, 5] = value
    x[4, 0] = np.nan  # only the first bad entry is named
    with pytest.raises(ValueError, match=exact(f"input contains {kind} at row 3, column 5")):
        model(wrap(x))


def test_nan_in_a_float64_model_input():
    model = rv.nn.MLP(6, [4], 3, seed=0, dtype="float64")
    x = np.zeros((5, 6))
    x[0, 2] = np.nan
    with pytest.raises(ValueError, match=exact("input contains NaN at row 0, column 2")):
        model(x)


def test_a_large_but_finite_input_is_accepted_silently():
    """The finiteness check must not warn about its own overflowing sum of a valid input."""
    model = rv.nn.MLP(6, [4], 3, seed=0)
    x = np.full((5000, 6), 1e35, dtype=np.float32)  # the sum of all entries overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = model(x)
    assert np.all(np.isfinite(out.data))


# --- dtypes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: a @ b, "matmul"), (rv.maximum, "maximum"),
    (lambda a, b: b + a, "add"),
])
def test_mismatched_dtypes_are_a_type_error_naming_both(op, name):
    a32 = rv.Tensor(np.ones((3, 3), dtype=np.float32))
    b64 = rv.Tensor(np.ones((3, 3), dtype=np.float64))
    with pytest.raises(TypeError, match=rf"{name}: mismatched dtypes float(32|64) and float(32|64)") as info:
        op(a32, b64)
    assert "float32" in str(info.value) and "float64" in str(info.value)
    with pytest.raises(TypeError, match="float32.*float64|float64.*float32"):
        op(a32, np.ones((3, 3), dtype=np.float64))  # a float64 array is not silently cast either


def test_float64_input_to_a_float32_model():
    model = rv.nn.MLP(4, [3], 2, seed=0)
    with pytest.raises(TypeError, match=re.escape("input has dtype float64 but the model is float32")):
        model(np.ones((2, 4)))
    with pytest.raises(TypeError, match=re.escape("input has dtype float64 but the model is float32")):
        model(rv.Tensor(np.ones((2, 4))))
    with pytest.raises(TypeError, match="float32 but its input is float64"):
        model[0](rv.Tensor(np.ones((2, 4))))
    model64 = rv.nn.MLP(4, [3], 2, seed=0, dtype="float64")
    with pytest.raises(TypeError, match=re.escape("input has dtype float32 but the model is float64")):
        model64(np.ones((2, 4), dtype=np.float32))


def test_unsupported_dtypes():
    with pytest.raises(TypeError, match="float32 or float64; got float16"):
        rv.Tensor(np.ones(2, dtype=np.float16))
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got int32"):
        rv.Tensor([1.0], dtype="int32")
    with pytest.raises(TypeError, match="must be numbers; got an array of dtype <U1"):
        rv.Tensor(["a", "b"])
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        rv.nn.MLP(3, [2], 3, dtype="float16")
    with pytest.raises(TypeError, match="input must be numbers; got an array of dtype <U1"):
        rv.nn.MLP(2, [2], 2, seed=0)(np.array([["a", "b"]]))


# --- losses, model construction, penalties ---------------------------------------------------------

def test_mse_loss_shape_mismatch():
    with pytest.raises(ValueError, match=re.escape(
            "mse_loss: pred has shape (4, 1) but target has shape (4,); they must match")):
        F.mse_loss(t64((4, 1)), t64((4,)))
    with pytest.raises(TypeError, match="mse_loss: mismatched dtypes float64 and float32"):
        F.mse_loss(t64((4, 1)), np.ones((4, 1), dtype=np.float32))


def test_unknown_activation():
    with pytest.raises(ValueError, match=re.escape("unknown activation 'swish'; expected one of tanh")):
        rv.nn.MLP(6, [3], 2, activation="swish")


@pytest.mark.parametrize("init", ["lecun", "Glorot_Uniform", ""])
def test_unknown_init(init):
    with pytest.raises(ValueError, match=re.escape(f"unknown init {init!r}; expected one of glorot_uniform")):
        rv.nn.MLP(6, [3], 2, init=init)
    with pytest.raises(ValueError, match=re.escape(f"unknown init {init!r}")):
        rv.nn.Linear(6, 3, init=init)


def test_malformed_constant_init():
    with pytest.raises(ValueError, match=re.escape("init 'constant:abc': write constant:<number>")):
        rv.nn.MLP(6, [3], 2, init="constant:abc")


@pytest.mark.parametrize("penalty", [rv.nn.L1, rv.nn.L2])
@pytest.mark.parametrize("strength, error, expected", [
    (-0.1, ValueError, "≥ 0"), (-1, ValueError, "≥ 0"),
    (float("nan"), ValueError, "a finite number ≥ 0"), (float("inf"), ValueError, "a finite number ≥ 0"),
    (True, TypeError, "a number ≥ 0"), ("0.1", TypeError, "a number ≥ 0")])
def test_bad_regularization_strength(penalty, strength, error, expected):
    with pytest.raises(error, match=re.escape(
            f"{penalty.__name__}: strength must be {expected}; got {strength!r}")):
        penalty(strength)


@pytest.mark.parametrize("penalty", [rv.nn.L1, rv.nn.L2])
def test_a_penalty_reads_its_parameters_with_the_one_reader(penalty):
    with pytest.raises(TypeError, match=exact(
            f"{penalty.__name__}: model_or_params must be a Module, an iterable of Tensors or of "
            f"(name, Tensor) pairs, or a dict name → Tensor; got int")):
        penalty(0.1)(3)
    with pytest.raises(TypeError, match=exact(
            f"{penalty.__name__}: item 0 of model_or_params must be a Tensor or a (name, Tensor) pair; "
            f"got ndarray")):
        penalty(0.1)([np.ones(2)])
    model = rv.nn.MLP(3, [4], 2, seed=0, dtype="float64")
    expected = penalty(0.1)(model).item()
    for form in (model.parameters(), model.named_parameters(), dict(model.named_parameters())):
        assert penalty(0.1)(form).item() == expected  # biases left out in every form


@pytest.mark.parametrize("hidden, error, message", [
    ([0], ValueError, "MLP: hidden[0] must be an integer ≥ 1; got 0"),
    ([3, -1], ValueError, "MLP: hidden[1] must be an integer ≥ 1; got -1"),
    (0, ValueError, "MLP: hidden must be an integer ≥ 1; got 0"),
    ([True], TypeError, "MLP: hidden[0] must be an integer ≥ 1; got True"),
    ([2.5], TypeError, "MLP: hidden[0] must be an integer ≥ 1; got 2.5"),
])
def test_bad_hidden_sizes(hidden, error, message):
    with pytest.raises(error, match=exact(message)):
        rv.nn.MLP(3, hidden, 2)


def test_hidden_that_is_neither_an_int_nor_a_sequence_is_named():
    with pytest.raises((TypeError, ValueError), match="hidden"):
        rv.nn.MLP(3, 2.5, 2)


def test_bad_layer_sizes():
    with pytest.raises(ValueError, match=exact("Linear: in_features must be an integer ≥ 1; got 0")):
        rv.nn.Linear(0, 3)
    with pytest.raises(TypeError, match=exact("Linear: out_features must be an integer ≥ 1; got 2.0")):
        rv.nn.Linear(3, 2.0)
    with pytest.raises(TypeError, match=exact("Linear: in_features must be an integer ≥ 1; got True")):
        rv.nn.Linear(True, 3)


# --- the flow graph's own arguments ----------------------------------------------------------------

def test_grad_arguments():
    x = rv.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=exact("inputs[0] does not require grad, so it has no gradient")):
        rv.grad(x.sum(), [rv.Tensor([1.0])])
    with pytest.raises(TypeError, match=exact("inputs[1] must be a Tensor; got ndarray")):
        rv.grad(x.sum(), [x, np.ones(2)])
    with pytest.raises(ValueError, match=exact("got 2 grad_output for 1 outputs")):
        rv.grad(x.sum(), [x], [np.ones(()), np.ones(())])
    with pytest.raises(ValueError, match="output does not require grad"):
        rv.Tensor([1.0]).sum().backward()


@pytest.mark.parametrize("fn, error, message", [
    (lambda t: t.reshape(4, 2), ValueError, "cannot reshape a Tensor of shape (2, 3) into (4, 2)"),
    (lambda t: t.transpose(0, 0), ValueError, "transpose: axes (0, 0) are not a permutation of 2 dimensions"),
    (lambda t: t.sum(axis=2), ValueError, "axis 2 is out of range for a Tensor with 2 dimensions"),
    (lambda t: t.max(axis=-3), ValueError, "axis -3 is out of range for a Tensor with 2 dimensions"),
    (lambda t: t.softmax(axis=2), ValueError, "axis 2 is out of range for a Tensor with 2 dimensions"),
    (lambda t: t[5], IndexError, "index 5 does not fit a Tensor of shape (2, 3)"),
    (lambda t: rv.where(np.ones((2, 3), dtype=int), t, 0.0), TypeError,
     "where: cond must be a boolean array; got dtype int64"),
    (lambda t: t ** "2", TypeError, "power: exponent must be a number or a Tensor; got '2'"),
    (lambda t: t ** True, TypeError, "power: exponent must be a number or a Tensor; got True"),
    (lambda t: t ** np.bool_(True), TypeError, "power: exponent must be a number or a Tensor; got True"),
    (lambda t: t ** float("nan"), ValueError, "power: exponent must be a finite number or a Tensor; got nan"),
    (lambda t: t.item(), ValueError, "item() needs a Tensor with one element; got shape (2, 3)"),
])
def test_op_arguments(fn, error, message):
    with pytest.raises(error, match=re.escape(message)):
        fn(t64((2, 3)))


def test_init_arguments():
    with pytest.raises(ValueError, match=re.escape("a weight matrix has shape (fan_out, fan_in); got (3, 4, 5)")):
        rv.nn.init.glorot_uniform((3, 4, 5), rng=0)
    with pytest.raises(TypeError, match=r"seed must be an integer ≥ 0, a numpy\.random\.Generator or None; "
                                        r"got '0'"):
        rv.nn.init.he_normal((3, 4), rng="0")
    with pytest.raises(TypeError, match="Sequential: item 1 must be a Module; got int"):
        rv.nn.Sequential(rv.nn.Linear(2, 2), 3)
