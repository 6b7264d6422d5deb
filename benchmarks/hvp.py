"""Second order (issue 4): one Hessian-vector product against one gradient, in ravine and in PyTorch.

On ``rv.nn.MLP(784, [256, 256], 10, activation="relu", seed=0)`` in float32 with a batch of 128
seeded examples and the mean cross-entropy, every call includes the forward pass:

- ravine gradient:  ``rv.grad(loss_fn(), params)``
- ravine HVP:       ``rv.diagnose.hvp(loss_fn, params, v)`` (double backprop: the gradient recorded
                    with ``create_graph=True``, then the gradient of ⟨g, v⟩)
- torch gradient:   ``torch.autograd.grad(loss, params)`` on the same weights and data
- torch HVP:        grad of grad (``autograd.grad`` with ``create_graph=True``, then of ⟨g, v⟩), and
                    ``torch.autograd.functional.hvp`` (which uses the double-vjp trick: one more pass)

Interleaved rounds as in the epoch benchmark; each variant runs a loop of calls long enough to time
(its own count, fixed before the rounds), reported per call. The ratio HVP/gradient is the median of
the same-round ratios. Before timing, ravine's gradient and HVP are checked against torch's
(relative error of the whole vector ≤ CHECK_TOL in float32), or the benchmark stops.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

import ravine as rv
from timing import GATE, interleaved, round_logger, same_round_ratio
from workloads import DATA_SEED, INIT_SEED

SIZES, BATCH = (784, 256, 256, 10), 128
LIMIT = 3.0          # issue 4: one HVP costs ≤ 3× one gradient
CHECK_TOL = 1e-4     # float32: same-computation runs agree to ~1e-6
ROUNDS = 11
MAX_CALLS = 1000     # calls per timed run at most
GRAD, HVP = "ravine gradient", "ravine HVP"
TGRAD, TGOG, TFUNC = "torch gradient", "torch HVP (grad of grad)", "torch HVP (functional.hvp)"
RATIOS = {  # reported name -> (numerator, denominator)
    "ravine HVP/gradient": (HVP, GRAD),
    "torch grad-of-grad HVP/gradient": (TGOG, TGRAD),
    "torch functional.hvp/gradient": (TFUNC, TGRAD),
    "ravine/torch gradient": (GRAD, TGRAD),
    "ravine HVP/torch grad-of-grad HVP": (HVP, TGOG),
}


def _problem():
    rng = np.random.default_rng(DATA_SEED)
    x = rng.standard_normal((BATCH, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=BATCH, dtype=np.int64)
    model = rv.nn.MLP(SIZES[0], list(SIZES[1:-1]), SIZES[-1], activation="relu", seed=INIT_SEED)
    v = [rng.standard_normal(p.shape, dtype=np.float32) for p in model.parameters()]
    return model, x, y, v


def _calls():
    """{name: a function making one call}."""
    import torch
    F = rv.nn.functional
    model, x, y, v = _problem()
    params = model.parameters()

    def loss_fn():
        return F.cross_entropy(model(x), y)

    tp = [torch.from_numpy(p.data.copy()).requires_grad_() for p in params]
    xt, yt, tv = torch.from_numpy(x), torch.from_numpy(y), [torch.from_numpy(a) for a in v]
    linear, cross_entropy = torch.nn.functional.linear, torch.nn.functional.cross_entropy

    def torch_loss(*ps):
        h = xt
        for k in range(0, len(ps), 2):
            h = linear(h, ps[k], ps[k + 1])
            if k < len(ps) - 2:
                h = torch.relu(h)
        return cross_entropy(h, yt)

    def torch_grad_of_grad():
        g = torch.autograd.grad(torch_loss(*tp), tp, create_graph=True)
        dot = sum((gi * vi).sum() for gi, vi in zip(g, tv))
        return torch.autograd.grad(dot, tp)

    calls = {
        GRAD: lambda: rv.grad(loss_fn(), params),
        HVP: lambda: rv.diagnose.hvp(loss_fn, params, v),
        TGRAD: lambda: torch.autograd.grad(torch_loss(*tp), tp),
        TGOG: torch_grad_of_grad,
        TFUNC: lambda: torch.autograd.functional.hvp(torch_loss, tuple(tp), tuple(tv))[1],
    }
    return calls


def _flat(parts) -> np.ndarray:
    """One vector from ravine Tensors, NumPy arrays or torch tensors."""
    out = []
    for p in parts:
        if isinstance(p, rv.Tensor):
            p = p.data
        elif hasattr(p, "detach"):
            p = p.detach().numpy()
        out.append(np.asarray(p).reshape(-1))
    return np.concatenate(out)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b.astype(np.float64)))


def check(calls) -> dict:
    """ravine's gradient and HVP vs torch's, and torch's two HVPs vs each other."""
    out = {GRAD: _flat(calls[GRAD]()), HVP: _flat(calls[HVP]()), TGRAD: _flat(calls[TGRAD]()),
           TGOG: _flat(calls[TGOG]()), TFUNC: _flat(calls[TFUNC]())}
    errors = {"gradient: ravine vs torch": _relative(out[GRAD], out[TGRAD]),
              "HVP: ravine vs torch grad of grad": _relative(out[HVP], out[TGOG]),
              "HVP: torch functional.hvp vs grad of grad": _relative(out[TFUNC], out[TGOG])}
    for what, err in errors.items():
        if not err <= CHECK_TOL:
            raise RuntimeError(f"second-order check: {what}: relative error {err:.2g} > {CHECK_TOL}; "
                               f"the benchmark would not compare the same computation")
    return errors


def _repetitions(calls, seconds: float) -> dict[str, int]:
    """Calls per timed run so that each run lasts about ``seconds`` on a quiet machine.

    Measured after the quiet gate, as the fastest of a few calls (after a warm-up call): a call
    slowed down by another process would otherwise make the runs too short to time.
    """
    GATE.wait()
    reps = {}
    for name, call in calls.items():
        call()
        fastest = math.inf
        for _ in range(5):
            start = time.perf_counter()
            call()
            fastest = min(fastest, time.perf_counter() - start)
        reps[name] = min(MAX_CALLS, max(3, math.ceil(seconds / max(fastest, 1e-6))))
    return reps


def hvp_benchmark(rounds: int, seconds_per_run: float, log) -> dict:
    calls = _calls()
    errors = check(calls)
    reps = _repetitions(calls, seconds_per_run)

    def looped(call, n):
        def run():
            for _ in range(n):
                call()
        return run

    variants = {name: ((lambda: None), looped(call, reps[name])) for name, call in calls.items()}
    times, noise = interleaved(variants, rounds, round_logger(log, "second order", rounds))
    per_call = {name: [t / reps[name] for t in ts] for name, ts in times.items()}
    ratios = {label: same_round_ratio(per_call[a], per_call[b]) for label, (a, b) in RATIOS.items()}
    return {
        "workload": "-".join(map(str, SIZES)), "activation": "relu", "batch": BATCH, "dtype": "float32",
        "what": "one call each, forward included: gradient vs Hessian-vector product by double backprop",
        "calls_per_run": reps, "rounds": rounds,
        "check_relative_error": errors,
        **noise,
        "seconds_per_call": per_call,
        "median_call_ms": {name: statistics.median(ts) * 1e3 for name, ts in per_call.items()},
        "ratios": ratios,
        "target": {"ratio": "ravine HVP/gradient", "limit": LIMIT, "source": "issue 4",
                   "met": ratios["ravine HVP/gradient"] <= LIMIT},
    }
