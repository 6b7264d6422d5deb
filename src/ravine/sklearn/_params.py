"""From the estimators' hyperparameters (scikit-learn's names) to ravine objects.

Everything here runs at ``fit`` time, never in ``__init__`` (scikit-learn's rule): ``check_params``
validates every hyperparameter and raises a ValueError or TypeError that names it, and the builders
make the network's initializer, the optimizer and the schedule.

**alpha → L2.** scikit-learn steps, on each mini-batch B of m examples, along the gradient of

    J_B = (1/m) Σ_{t∈B} l_t + (alpha / (2m)) Σ_k ‖W⁽ᵏ⁾‖²_F

(``_backprop`` adds ``alpha * W / m`` to the gradient of the mean loss), with l = −log p_y for
classification and, for regression with q targets, l = ½ Σ_j (y_j − ŷ_j)²: its output delta is
ŷ − y, summed over the targets. (The loss it *reports* in ``loss_curve_`` averages over the targets
instead, ½ Σ_j (y_j − ŷ_j)²/q; for one target the two agree.) ravine's objective is
(1/m) Σ l_t + λ Σ‖W‖² (``rv.nn.L2(λ)``), with ``mse_loss`` = (1/(mq)) Σ_t Σ_j (y_j − ŷ_j)² for
regression, which is 2/q times scikit-learn's data term. So ravine minimizes s·J_B with

    classification:  s = 1,    λ = alpha / (2m)
    regression:      s = 2/q,  λ = s·alpha / (2m) = alpha / (q m)

and the estimators set λ for each batch from its own size m (the last batch of an epoch may be
smaller). Its gradients are then s times scikit-learn's; so that every solver takes scikit-learn's
steps, plain SGD uses lr/s and the adaptive methods (whose steps do not depend on the gradient's
scale but for ε) use s·ε. ``l1`` (ravine's) adds ``l1 Σ|W|`` to J_B (no 1/m): strength s·l1.
``loss_curve_`` reports what scikit-learn reports. With these, ``solver="sgd"`` follows
scikit-learn's steps to rounding (the tests check it from the same initial weights).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils import check_random_state

from ravine.autodiff.activations import ACTIVATIONS as _REGISTRY
from ravine.nn import init as initializers
from ravine.optim import SGD, AdaGrad, Adam, AdamW, RMSProp, decay_groups, schedules

# ``activation``: scikit-learn's names (its vocabulary, not ravine's: "logistic" is ravine's
# sigmoid), then every name of ravine's activation registry ("sigmoid", "softplus" ...) as itself.
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", **{name: name for name in _REGISTRY}}


def sklearn_activation(name: str) -> str:
    """The estimators' name for a ravine activation: scikit-learn's where it has one ("logistic")."""
    return next((theirs for theirs, ours in ACTIVATIONS.items() if ours == name), name)
SOLVERS = ("sgd", "adam", "adamw", "adagrad", "rmsprop")
LEARNING_RATES = ("constant", "invscaling", "adaptive")
DTYPES = {"auto": None, "float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def _fail(owner: str, name: str, expected: str, value, kind=ValueError):
    raise kind(f"{owner}: the {name!r} parameter must be {expected}; got {value!r}")


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _real(owner, name, value, low=None, high=None, low_open=False, high_open=False,
          expected=None) -> float:
    """``value`` as a finite float in the interval, or an error naming ``name``."""
    if expected is None:
        lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
        hi = "" if high is None else (f"< {high:g}" if high_open else f"<= {high:g}")
        expected = "a float " + " and ".join(s for s in (lo, hi) if s)
    if _is_bool(value) or not isinstance(value, numbers.Real):
        _fail(owner, name, expected, value, TypeError)
    x = float(value)
    ok = math.isfinite(x)
    if ok and low is not None:
        ok = x > low if low_open else x >= low
    if ok and high is not None:
        ok = x < high if high_open else x <= high
    if not ok:
        _fail(owner, name, expected, value)
    return x


def _integer(owner, name, value, low: int) -> int:
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        _fail(owner, name, f"an integer >= {low}", value, TypeError)
    if value < low:
        _fail(owner, name, f"an integer >= {low}", value)
    return int(value)


def _flag(owner, name, value) -> bool:
    if not _is_bool(value):
        _fail(owner, name, "True or False", value, TypeError)
    return bool(value)


def _choice(owner, name, value, options) -> str:
    if not isinstance(value, str) or value not in options:
        _fail(owner, name, "one of " + ", ".join(repr(o) for o in options), value)
    return value


def hidden_sizes(owner: str, value) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (an int means one hidden layer)."""
    expected = "an int >= 1 or a sequence of ints >= 1, e.g. (100,) or (64, 32)"
    if isinstance(value, numbers.Integral) and not _is_bool(value):
        sizes = (value,)
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        _fail(owner, "hidden_layer_sizes", expected, value, TypeError)
    else:
        sizes = tuple(value)
    for size in sizes:
        if _is_bool(size) or not isinstance(size, numbers.Integral):
            _fail(owner, "hidden_layer_sizes", expected, value, TypeError)
        if size < 1:
            _fail(owner, "hidden_layer_sizes", expected, value)
    return tuple(int(s) for s in sizes)


def check_params(est) -> dict:
    """Every hyperparameter of ``est`` checked and normalized; errors name the parameter."""
    owner = type(est).__name__
    p: dict = {}
    p["hidden"] = hidden_sizes(owner, est.hidden_layer_sizes)
    p["activation"] = ACTIVATIONS[_choice(owner, "activation", est.activation, tuple(ACTIVATIONS))]
    if est.solver == "lbfgs":
        raise ValueError(f"{owner}: solver='lbfgs' is not available in ravine (it trains by "
                         f"mini-batch steps); use solver='adam' (the default), 'sgd', 'adamw', "
                         f"'rmsprop' or 'adagrad'")
    p["solver"] = _choice(owner, "solver", est.solver, SOLVERS)
    p["alpha"] = _real(owner, "alpha", est.alpha, low=0.0)
    if isinstance(est.batch_size, str):
        if est.batch_size != "auto":
            _fail(owner, "batch_size", "'auto' or an integer >= 1", est.batch_size)
        p["batch_size"] = "auto"
    else:
        p["batch_size"] = _integer(owner, "batch_size", est.batch_size, 1)
    p["learning_rate"] = _choice(owner, "learning_rate", est.learning_rate, LEARNING_RATES)
    p["learning_rate_init"] = _real(owner, "learning_rate_init", est.learning_rate_init, low=0.0,
                                    low_open=True)
    p["power_t"] = _real(owner, "power_t", est.power_t, low=0.0)
    p["max_iter"] = _integer(owner, "max_iter", est.max_iter, 1)
    p["shuffle"] = _flag(owner, "shuffle", est.shuffle)
    try:
        check_random_state(est.random_state)
    except ValueError:
        _fail(owner, "random_state", "None, an int or a numpy.random.RandomState", est.random_state)
    p["tol"] = _real(owner, "tol", est.tol, low=0.0)
    if not (_is_bool(est.verbose) or (isinstance(est.verbose, numbers.Integral) and est.verbose >= 0)):
        _fail(owner, "verbose", "True, False or an integer >= 0", est.verbose, TypeError)
    p["verbose"] = bool(est.verbose)
    p["warm_start"] = _flag(owner, "warm_start", est.warm_start)
    p["momentum"] = _real(owner, "momentum", est.momentum, low=0.0, high=1.0)
    p["nesterovs_momentum"] = _flag(owner, "nesterovs_momentum", est.nesterovs_momentum)
    p["early_stopping"] = _flag(owner, "early_stopping", est.early_stopping)
    p["validation_fraction"] = _real(owner, "validation_fraction", est.validation_fraction,
                                     low=0.0, high=1.0, high_open=True)
    p["beta_1"] = _real(owner, "beta_1", est.beta_1, low=0.0, high=1.0, high_open=True)
    p["beta_2"] = _real(owner, "beta_2", est.beta_2, low=0.0, high=1.0, high_open=True)
    p["epsilon"] = _real(owner, "epsilon", est.epsilon, low=0.0, low_open=True)
    n = est.n_iter_no_change
    if isinstance(n, numbers.Real) and not _is_bool(n) and n == math.inf:
        p["n_iter_no_change"] = math.inf
    else:
        if _is_bool(n) or not isinstance(n, numbers.Integral) or n < 1:
            _fail(owner, "n_iter_no_change", "an integer >= 1 or numpy.inf", n,
                  ValueError if isinstance(n, numbers.Real) and not _is_bool(n) else TypeError)
        p["n_iter_no_change"] = int(n)
    p["init"] = make_init(owner, est.init, p["activation"])
    p["l1"] = _real(owner, "l1", est.l1, low=0.0)
    p["batchnorm"] = _flag(owner, "batchnorm", est.batchnorm)
    p["dropout"] = _real(owner, "dropout", est.dropout, low=0.0, high=1.0, high_open=True)
    if est.clip_norm is None:
        p["clip_norm"] = None
    else:
        p["clip_norm"] = _real(owner, "clip_norm", est.clip_norm, low=0.0, low_open=True,
                               expected="None or a float > 0")
    p["schedule"] = make_schedule(owner, est.schedule, p["learning_rate_init"])
    if est.monitor_curvature is None:
        p["monitor_curvature"] = None
    else:
        p["monitor_curvature"] = _integer(owner, "monitor_curvature", est.monitor_curvature, 1)
    p["dtype"] = resolve_dtype(owner, est.dtype)
    return p


def resolve_dtype(owner: str, dtype):
    """None for "auto" (follow the input), else np.float32 or np.float64."""
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    try:
        resolved = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        resolved = None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        _fail(owner, "dtype", "'auto', 'float32' or 'float64'", dtype)
    return resolved


def glorot_logistic(shape, rng=None, dtype="float32") -> np.ndarray:
    """W ~ U[−b, b] with b = √2 / √(fan_in + fan_out): scikit-learn's bound for logistic units."""
    fan_in, fan_out = initializers.fans(shape)
    b = math.sqrt(2.0 / (fan_in + fan_out))
    return initializers.as_generator(rng).uniform(-b, b, size=shape).astype(np.dtype(dtype))


def make_init(owner: str, init, activation: str):
    """``init="auto"``: scikit-learn's Glorot bounds — √6/√(fan_in + fan_out) (``glorot_uniform``),
    or √2/√(fan_in + fan_out) for logistic units. Any ``rv.nn.init`` name or callable otherwise."""
    if isinstance(init, str) and init == "auto":
        return glorot_logistic if activation == "sigmoid" else "glorot_uniform"
    try:
        initializers.get(init)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{owner}: the 'init' parameter must be 'auto', an rv.nn.init name or a "
                         f"callable; {error}") from None
    return init


def make_schedule(owner: str, spec, lr: float):
    """None, or the ``rv.optim.schedules`` schedule of ``spec`` (a spec string, whose schedules take
    ``learning_rate_init`` as their lr where they give none, a ``to_dict()`` dict or a Schedule)."""
    if spec is None:
        return None
    try:
        return schedules.get(spec, lr=lr if isinstance(spec, str) else None)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{owner}: the 'schedule' parameter: {error}") from None


def make_optimizer(p: dict, model, gradient_scale: float):
    """The optimizer of ``p["solver"]`` over ``model``'s parameters.

    ``gradient_scale`` is ravine's gradient over scikit-learn's (s in the module docstring): SGD's lr is divided by it and the adaptive methods' ε multiplied by it, so that
    every solver takes scikit-learn's steps. The lr given is the one at step 0: ``learning_rate_init``,
    or the schedule's base lr.
    """
    solver = p["solver"]
    lr = p["schedule"].base_lr if p["schedule"] is not None else p["learning_rate_init"]
    eps = p["epsilon"] * gradient_scale
    params = model.named_parameters()
    if solver == "sgd":
        nesterov = p["nesterovs_momentum"] and p["momentum"] > 0
        return SGD(params, lr=lr / gradient_scale, momentum=p["momentum"], nesterov=nesterov)
    betas = (p["beta_1"], p["beta_2"])
    if solver == "adam":
        return Adam(params, lr=lr, betas=betas, eps=eps)
    if solver == "adamw":  # alpha is the decoupled decay, on weights only: θ ← θ(1 − lr·alpha)
        return AdamW(decay_groups(model, p["alpha"]), lr=lr, betas=betas, eps=eps)
    if solver == "rmsprop":
        return RMSProp(params, lr=lr, eps=eps)
    return AdaGrad(params, lr=lr, eps=eps)
