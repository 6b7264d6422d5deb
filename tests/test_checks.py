"""The one family of argument checks (``ravine._checks``), and the same mistake getting the same
error at entry points across the layers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ravine as rv
import ravine.data as rd
from ravine._checks import (check_choice, check_flag, check_int, check_number, check_optional,
                            check_positive, check_seed)
from ravine._random import as_generator
from ravine.cli.config import TrainConfig
from ravine.diagnose import CurvatureMonitor, LayerMonitor, gradcheck, hessian_eigs
from ravine.diagnose.critical_point import diagnose_point
from ravine.diagnose.symmetry import average_over_permutations
from ravine.optim import schedules as S


def message_of(error, call) -> str:
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error, f"{type(info.value).__name__} instead of {error.__name__}"
    return str(info.value)


# --- the family ------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    # a number of the wrong kind: TypeError, whatever the bounds
    (lambda: check_number("lr", "0.1", low=0, owner="SGD"), TypeError, "SGD: lr must be a number ≥ 0; got '0.1'"),
    (lambda: check_number("lr", True, low=0, owner="SGD"), TypeError, "SGD: lr must be a number ≥ 0; got True"),
    (lambda: check_number("lr", np.bool_(False)), TypeError, "lr must be a number; got np.False_"),
    (lambda: check_number("lr", None), TypeError, "lr must be a number; got None"),
    (lambda: check_number("lr", [0.1]), TypeError, "lr must be a number; got [0.1]"),
    # the right kind outside its range: ValueError
    (lambda: check_number("lr", -1, low=0, owner="SGD"), ValueError, "SGD: lr must be ≥ 0; got -1"),
    (lambda: check_number("x", 0.0, low=0, low_open=True), ValueError, "x must be > 0; got 0.0"),
    (lambda: check_number("x", 1.0, high=1, high_open=True), ValueError, "x must be < 1; got 1.0"),
    (lambda: check_number("x", 2, high=1), ValueError, "x must be ≤ 1; got 2"),
    (lambda: check_number("p", 1, low=0, high=1, high_open=True), ValueError, "p must be in [0, 1); got 1"),
    (lambda: check_number("p", 0, low=0, high=1, low_open=True), ValueError, "p must be in (0, 1]; got 0"),
    (lambda: check_number("p", -0.5, low=0, high=1, low_open=True, high_open=True), ValueError,
     "p must be in (0, 1); got -0.5"),
    # NaN and ±inf are never numbers here, bounds or not
    (lambda: check_number("tol", math.nan), ValueError, "tol must be a finite number; got nan"),
    (lambda: check_number("tol", math.inf, low=0), ValueError, "tol must be a finite number ≥ 0; got inf"),
    (lambda: check_number("tol", -math.inf, high=0), ValueError, "tol must be a finite number ≤ 0; got -inf"),
    (lambda: check_number("tol", np.float64("nan"), low=0), ValueError,
     "tol must be a finite number ≥ 0; got np.float64(nan)"),
    # a hint follows the expectation
    (lambda: check_number("p", 1.0, low=0, high=1, high_open=True, hint="a probability"), ValueError,
     "p must be in [0, 1) (a probability); got 1.0"),
    (lambda: check_number("p", "x", low=0, hint="a probability"), TypeError,
     "p must be a number ≥ 0 (a probability); got 'x'"),
    # check_positive
    (lambda: check_positive("eps", 0, owner="BatchNorm1d"), ValueError, "BatchNorm1d: eps must be > 0; got 0"),
    (lambda: check_positive("eps", math.nan), ValueError, "eps must be a finite number > 0; got nan"),
    (lambda: check_positive("eps", True), TypeError, "eps must be a number > 0; got True"),
    # integers: bools and floats are the wrong kind, even 3.0
    (lambda: check_int("epochs", True, minimum=0), TypeError, "epochs must be an integer ≥ 0; got True"),
    (lambda: check_int("epochs", np.bool_(True), minimum=0), TypeError, "epochs must be an integer ≥ 0; got np.True_"),
    (lambda: check_int("epochs", 3.0), TypeError, "epochs must be an integer; got 3.0"),
    (lambda: check_int("epochs", "3", minimum=1), TypeError, "epochs must be an integer ≥ 1; got '3'"),
    (lambda: check_int("k", 0, minimum=1, owner="hessian_eigs"), ValueError,
     "hessian_eigs: k must be an integer ≥ 1; got 0"),
    (lambda: check_int("k", 11, minimum=1, maximum=10), ValueError, "k must be an integer in [1, 10]; got 11"),
    (lambda: check_int("k", 11, maximum=10), ValueError, "k must be an integer ≤ 10; got 11"),
    (lambda: check_int("step", -1, minimum=0, hint="updates so far"), ValueError,
     "step must be an integer ≥ 0 (updates so far); got -1"),
    # choices
    (lambda: check_choice("mode", "mni", ("min", "max"), owner="reduce_on_plateau"), ValueError,
     "reduce_on_plateau: mode must be one of 'min', 'max'; got 'mni'"),
    (lambda: check_choice("mode", ["min"], ("min", "max")), ValueError, "mode must be one of 'min', 'max'; got ['min']"),
    (lambda: check_choice("n", True, (1, 2)), ValueError, "n must be one of 1, 2; got True"),
    (lambda: check_choice("mode", np.array(["min"]), ("min", "max")), ValueError,
     "mode must be one of 'min', 'max'; got array(['min'], dtype='<U3')"),
    # flags: only True and False
    (lambda: check_flag("nesterov", 1, owner="SGD"), TypeError, "SGD: nesterov must be True or False; got 1"),
    (lambda: check_flag("nesterov", "yes"), TypeError, "nesterov must be True or False; got 'yes'"),
    (lambda: check_flag("nesterov", None), TypeError, "nesterov must be True or False; got None"),
    # seeds
    (lambda: check_seed("seed", -1), ValueError,
     "seed must be an integer ≥ 0, a numpy.random.Generator or None; got -1"),
    (lambda: check_seed("seed", 1.5, owner="make_xor"), TypeError,
     "make_xor: seed must be an integer ≥ 0, a numpy.random.Generator or None; got 1.5"),
    (lambda: check_seed("seed", True), TypeError,
     "seed must be an integer ≥ 0, a numpy.random.Generator or None; got True"),
    (lambda: check_seed("seed", None, allow_none=False), TypeError,
     "seed must be an integer ≥ 0, a numpy.random.Generator; got None"),
    (lambda: as_generator("0", owner="Trainer"), TypeError,
     "Trainer: seed must be an integer ≥ 0, a numpy.random.Generator or None; got '0'"),
    # optional: the message says that None was allowed too
    (lambda: check_optional(check_int, "max_entries", 0, minimum=1, owner="gradcheck"), ValueError,
     "gradcheck: max_entries must be an integer ≥ 1 or None; got 0"),
    (lambda: check_optional(check_number, "momentum", "0.1", low=0, high=1), TypeError,
     "momentum must be a number in [0, 1] or None; got '0.1'"),
    (lambda: check_optional(check_int, "k", "a; got b", minimum=1), TypeError,
     "k must be an integer ≥ 1 or None; got 'a; got b'"),
])
def test_the_family_raises_the_right_type_with_the_right_words(call, error, message):
    assert message_of(error, call) == message


def test_the_family_returns_the_value_normalized():
    assert check_number("x", 1, low=0) == 1.0 and type(check_number("x", 1)) is float
    assert type(check_number("x", np.float32(0.5))) is float
    assert check_number("x", 0.0, low=0) == 0.0 and check_number("x", 1.0, high=1) == 1.0  # closed
    assert check_positive("x", 1e-300) == 1e-300
    assert check_int("n", np.int64(3), minimum=1) == 3 and type(check_int("n", np.int64(3))) is int
    assert check_int("n", 10, minimum=1, maximum=10) == 10
    assert check_choice("mode", "min", ("min", "max")) == "min"
    assert check_choice("task", None, ("classification", None)) is None
    assert check_flag("f", np.bool_(True)) is True
    rng = np.random.default_rng(0)
    assert check_seed("seed", rng) is rng and check_seed("seed", None) is None
    assert check_seed("seed", np.int64(7)) == 7 and type(check_seed("seed", np.int64(7))) is int
    assert check_optional(check_int, "k", None, minimum=1) is None
    assert check_optional(check_int, "k", 2, minimum=1) == 2


# --- the same mistake at entry points across the layers -----------------------------------------

def _params():
    return [rv.Tensor(np.array([0.5, -0.25]), requires_grad=True)]


def _square():
    w = _params()[0]
    return (lambda: (w * w).sum()), [w]


def _diagnose(**kwargs):
    loss_fn, params = _square()
    return lambda: diagnose_point(loss_fn, params, **kwargs)


def _gradcheck(**kwargs):
    loss_fn, params = _square()
    return lambda: gradcheck(loss_fn, params, **kwargs)


def _hessian_eigs(**kwargs):
    loss_fn, params = _square()
    return lambda: hessian_eigs(loss_fn, params, **kwargs)


# (entry point, owner, argument, what it must be); the value given is the mistake of the table.
TRUE_AS_A_COUNT = [
    (lambda v: rv.nn.BatchNorm1d(v), "BatchNorm1d", "num_features", "an integer ≥ 1"),
    (lambda v: rv.optim.Newton(_params(), max_params=v), "Newton", "max_params", "an integer ≥ 1"),
    (lambda v: S.linear_decay(0.1, v), "linear_decay", "steps", "an integer ≥ 1"),
    (lambda v: S.hold(v, S.constant(0.1)), "hold", "k", "an integer ≥ 0"),
    (lambda v: rd.make_moons(v), "make_moons", "n_samples", "an integer ≥ 2"),
    (lambda v: _hessian_eigs(k=v)(), "hessian_eigs", "k", "an integer ≥ 1"),
    (lambda v: CurvatureMonitor(every=v), "CurvatureMonitor", "every", "an integer ≥ 1"),
    (lambda v: LayerMonitor(every=v), "LayerMonitor", "every", "an integer ≥ 1"),
    (lambda v: rv.nn.Linear(v, 3), "Linear", "in_features", "an integer ≥ 1"),
    (lambda v: rv.nn.MLP(3, [4, v], 2), "MLP", "hidden[1]", "an integer ≥ 1"),
    (lambda v: average_over_permutations(rv.nn.MLP(2, [3], 2, seed=0), v), "average_over_permutations",
     "layer", "an integer in [0, 0] (a 0-based index: the model has 1 hidden layer)"),
    (lambda v: TrainConfig(epochs=v).validate("config.toml"), "config.toml", "--epochs", "an integer ≥ 1"),
]

ZERO_AS_A_POSITIVE_INTEGER = TRUE_AS_A_COUNT[:3] + [
    (lambda v: S.step_decay(0.1, v), "step_decay", "step_size", "an integer ≥ 1"),
    (lambda v: _hessian_eigs(k=v)(), "hessian_eigs", "k", "an integer ≥ 1"),
    (lambda v: CurvatureMonitor(every=v), "CurvatureMonitor", "every", "an integer ≥ 1"),
    (lambda v: _gradcheck(max_entries=v)(), "gradcheck", "max_entries", "an integer ≥ 1 or None"),
    (lambda v: LayerMonitor(every=v), "LayerMonitor", "every", "an integer ≥ 1"),
    (lambda v: rv.nn.Linear(3, v), "Linear", "out_features", "an integer ≥ 1"),
    (lambda v: rv.nn.MLP(3, v, 2), "MLP", "hidden", "an integer ≥ 1"),
    (lambda v: TrainConfig(batch_size=v).validate("config.toml"), "config.toml", "--batch-size",
     "an integer ≥ 1"),
]

NEGATIVE_LEARNING_RATE = [
    (lambda v: rv.optim.SGD(_params(), lr=v), "SGD", "lr", "≥ 0"),
    (lambda v: rv.optim.Adam(_params(), lr=v), "Adam", "lr", "≥ 0"),
    (lambda v: rv.optim.RMSProp(_params(), lr=v), "RMSProp", "lr", "≥ 0"),
    (lambda v: rv.optim.AdaGrad(_params(), lr=v), "AdaGrad", "lr", "≥ 0"),
    (lambda v: rv.optim.Newton(_params(), lr=v), "Newton", "lr", "> 0"),
    (lambda v: S.constant(v), "constant", "lr", "> 0"),
    (lambda v: S.cosine(v, 10), "cosine", "lr", "> 0"),
    (lambda v: S.reduce_on_plateau(v), "reduce_on_plateau", "lr", "> 0"),
    (lambda v: TrainConfig(lr=v).validate("config.toml"), "config.toml", "--lr", "> 0"),
    (lambda v: rv.optim.clip_grad_norm_(_params(), v), "clip_grad_norm_", "max_norm", "≥ 0"),
    (lambda v: rv.optim.clip_grad_norm_(_params(), 1.0, norm_type=v), "clip_grad_norm_", "norm_type",
     "> 0 or inf"),
    (lambda v: rv.optim.clip_grad_value_(_params(), v), "clip_grad_value_", "clip_value", "≥ 0 or inf"),
]

NAN_AS_A_TOLERANCE = [
    (lambda v: rv.nn.BatchNorm1d(3, eps=v), "BatchNorm1d", "eps", "a finite number > 0"),
    (lambda v: rv.optim.Adam(_params(), eps=v), "Adam", "eps", "a finite number ≥ 0"),
    (lambda v: _gradcheck(rtol=v)(), "gradcheck", "rtol", "a finite number ≥ 0"),
    (lambda v: _gradcheck(eps=v)(), "gradcheck", "eps", "a finite number > 0"),
    (lambda v: _diagnose(grad_tol=v)(), "diagnose_point", "grad_tol", "a finite number > 0"),
    (lambda v: _hessian_eigs(tol=v)(), "hessian_eigs", "tol", "a finite number ≥ 0 (0: machine precision)"),
    (lambda v: S.reduce_on_plateau(0.1, threshold=v), "reduce_on_plateau", "threshold", "a finite number ≥ 0"),
    (lambda v: rd.make_moons(noise=v), "make_moons", "noise", "a finite number ≥ 0"),
    (lambda v: rv.optim.clip_grad_norm_(_params(), v), "clip_grad_norm_", "max_norm", "a finite number ≥ 0"),
    (lambda v: rv.optim.clip_grad_value_(_params(), v), "clip_grad_value_", "clip_value",
     "a finite number ≥ 0 or inf"),
    (lambda v: _params()[0] ** v, "power", "exponent", "a finite number or a Tensor"),
    (lambda v: TrainConfig(min_delta=v).validate("config.toml"), "config.toml", "--min-delta",
     "a finite number ≥ 0"),
]

A_STRING_AS_A_NUMBER = [
    (lambda v: rv.optim.SGD(_params(), lr=v), "SGD", "lr", "a number ≥ 0"),
    (lambda v: rv.nn.BatchNorm1d(3, eps=v), "BatchNorm1d", "eps", "a number > 0"),
    (lambda v: S.constant(v), "constant", "lr", "a number > 0"),
    (lambda v: _diagnose(curvature_tol=v)(), "diagnose_point", "curvature_tol", "a number > 0"),
    (lambda v: rd.make_circles(noise=v), "make_circles", "noise", "a number ≥ 0"),
    (lambda v: rv.optim.clip_grad_norm_(_params(), v), "clip_grad_norm_", "max_norm", "a number ≥ 0"),
    (lambda v: rv.optim.clip_grad_value_(_params(), v), "clip_grad_value_", "clip_value",
     "a number ≥ 0 or inf"),
    (lambda v: _params()[0] ** v, "power", "exponent", "a number or a Tensor"),
    (lambda v: TrainConfig(lr=v).validate("config.toml"), "config.toml", "--lr", "a number > 0"),
]

ONE_AS_A_FLAG = [
    (lambda v: rv.optim.SGD(_params(), lr=0.1, nesterov=v), "SGD", "nesterov", "True or False"),
    (lambda v: _gradcheck(raise_on_failure=v)(), "gradcheck", "raise_on_failure", "True or False"),
    (lambda v: rv.nn.MLP(3, [4], 2, batchnorm=v), "MLP", "batchnorm", "True or False"),
]

MISTAKES = (
    [(True, TypeError, *row) for row in TRUE_AS_A_COUNT]
    + [(0, ValueError, *row) for row in ZERO_AS_A_POSITIVE_INTEGER]
    + [(-0.1, ValueError, *row) for row in NEGATIVE_LEARNING_RATE]
    + [(math.nan, ValueError, *row) for row in NAN_AS_A_TOLERANCE]
    + [("1e-3", TypeError, *row) for row in A_STRING_AS_A_NUMBER]
    + [(1, TypeError, *row) for row in ONE_AS_A_FLAG]
)


@pytest.mark.parametrize("value, error, call, owner, name, expected", MISTAKES,
                         ids=[f"{m[0]!r}-{m[3]}.{m[4]}" for m in MISTAKES])
def test_the_same_mistake_gets_the_same_error_everywhere(value, error, call, owner, name, expected):
    assert message_of(error, lambda: call(value)) == f"{owner}: {name} must be {expected}; got {value!r}"


def test_a_seed_of_the_wrong_kind_reads_the_same_in_every_layer():
    calls = {
        "Dropout": lambda: rv.nn.Dropout(0.5, seed=1.5),
        "make_xor": lambda: rd.make_xor(seed=1.5),
        "batches": lambda: list(rd.batches(4, 2, seed=1.5)),
        "random_directions": lambda: rv.diagnose.landscape.random_directions(_params(), seed=1.5),
        "gradcheck": _gradcheck(seed=1.5),
    }
    for where, call in calls.items():
        text = message_of(TypeError, call)
        assert text.endswith("seed must be an integer ≥ 0, a numpy.random.Generator or None; got 1.5"), \
            (where, text)


def test_chunk_rows_is_checked_by_the_family():
    X = np.ones((4, 2))
    assert message_of(TypeError, lambda: rd.Standardizer().fit(X, chunk_rows=True)) == \
        "chunk_rows must be an integer ≥ 1; got True"
    assert message_of(ValueError, lambda: rd.Standardizer().fit(X, chunk_rows=0)) == \
        "chunk_rows must be an integer ≥ 1; got 0"
