"""The correctness guard: the runners time the same computation, or the benchmark stops.

After the untimed warm-up, from the same initial weights:

- ravine's compiled loop must have left exactly the weights of its flow-graph loop, bit for bit
  (``CompiledGradient`` calls the graph's own boxes in the same order);
- ravine's weights must have moved as the NumPy floor's, PyTorch's and scikit-learn's (where it
  runs the same network) did: per tensor ‖Δravine − Δother‖ ≤ GUARD_TOL·‖Δravine‖ (2-norms).
  Runs of the same computation agree to ~1e-6 here, up to ~1e-3 when float32 rounding flips a ReLU
  unit at its kink (seen at 784-256-256-10 batch 128, ravine vs torch); a different computation
  (lr 10% off, no momentum, another init or loss) is off by 1e-1 or more.

The Trainer shuffles, so its weights are not compared with the others'. ``trainer_check`` instead
runs the compiled loop on the Trainer's own batches (the same seeded permutation) and compares:
a mismatch is reported, not fatal.
"""

from __future__ import annotations

import numpy as np

import ravine as rv
from runners import CompiledRunner
from workloads import COMPILED, GRAPH, GUARD_TOL, RAVINE, TRAINER


def _relative_change_error(moved, other, start) -> list[tuple[int, str, float]]:
    out = []
    for k, ((dW, db), (W2, b2), (W0, b0)) in enumerate(zip(moved, other, start)):
        for what, d, d2 in (("weight", dW, W2 - W0), ("bias", db, b2 - b0)):
            size = float(np.linalg.norm(d))
            err = float(np.linalg.norm(d - d2)) / size if size else float(np.linalg.norm(d2) > 0)
            out.append((k, what, err))
    return out


def first_difference(a, b) -> str | None:
    """Where two weight lists [(W, b)] differ in any bit (dtype included), or None if identical."""
    for k, ((Wa, ba), (Wb, bb)) in enumerate(zip(a, b, strict=True)):
        for what, x, z in (("weight", Wa, Wb), ("bias", ba, bb)):
            if x.dtype != z.dtype or x.shape != z.shape or x.tobytes() != z.tobytes():
                diff = float(np.max(np.abs(x.astype(np.float64) - z))) if x.shape == z.shape else float("nan")
                return f"layer {k}'s {what} (max |difference| {diff:.3g}, dtypes {x.dtype}/{z.dtype})"
    return None


def assert_identical(wl_name: str, batch: int, runners: dict, steps: int, when: str) -> None:
    """The compiled loop's weights must equal the graph loop's bit for bit."""
    where = first_difference(runners[GRAPH].weights(), runners[COMPILED].weights())
    if where is not None:
        raise RuntimeError(
            f"correctness guard: {wl_name} batch {batch}: {when} ({steps} steps), {COMPILED} and {GRAPH} "
            f"differ in {where}; they must give the same weights bit for bit")


def guard(wl, batch: int, runners: dict, init, steps: int) -> dict[str, float]:
    """Check the warm-up's weights (see the module docstring); {reference: worst relative error}."""
    assert_identical(wl.name, batch, runners, steps, "after the warm-up")
    start = list(zip(init[1], init[2]))
    moved = [(W - W0, b - b0) for (W, b), (W0, b0) in zip(runners[GRAPH].weights(), start)]
    worst = {}
    for name, runner in runners.items():
        if name in RAVINE:
            continue
        other = runner.weights()
        if other is None:
            continue
        worst[name] = 0.0
        for k, what, err in _relative_change_error(moved, other, start):
            worst[name] = max(worst[name], err)
            if not err <= GUARD_TOL:
                raise RuntimeError(
                    f"correctness guard: {wl.name} batch {batch}: after {steps} steps, the change of layer "
                    f"{k}'s {what} differs between ravine and {name} by {err:.2g} of its norm (tolerance "
                    f"{GUARD_TOL}); the benchmark would not compare the same computation")
    return worst


def trainer_check(wl, batch: int, trainer_runner, init, limit) -> dict:
    """The Trainer's weights after its warm-up vs the compiled loop on the Trainer's own batches.

    The Trainer (seed 0) draws its first epoch's batches as ``rv.data.batches(n, B, seed=0)``; the
    compiled loop over those same rows must leave the same weights bit for bit.
    """
    n = trainer_runner.rows(limit)
    X, y = trainer_runner.X[:n], trainer_runner.y[:n]
    replica = CompiledRunner(wl, init, X, y, batch)
    replica.batches = [(X[idx], y[idx]) for idx in rv.data.batches(n, batch, shuffle=True, seed=0)]
    replica.reset()
    replica.epoch()
    where = first_difference(replica.weights(), trainer_runner.weights())
    return {"steps": len(replica.batches), "identical": where is None,
            "difference": where, "what": f"{TRAINER} vs {COMPILED} on the Trainer's batches"}
