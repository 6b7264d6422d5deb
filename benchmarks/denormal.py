"""The denormal check (issue 3): per-example SGD with momentum buffers full of denormal numbers.

Per-example SGD on 40-100-100-10, in ravine's compiled loop (what the Trainer runs; its step is the
fastest, so a slower update shows the most) and in the NumPy floor (which never flushes anything),
with denormal float32 momentum buffers vs without. Three cases:

- "pre-filled": the plain training loop from the initial weights, every buffer entry set to
  1e-39 (denormal) vs 1e-3 (normal). An entry whose gradient is non-zero becomes normal at once,
  so the denormals last only where gradients are zero (dead ReLU units).
- "after one epoch": the weights and buffers one epoch of per-example training leaves (the
  floor's, so that no flushing has touched them), timed over the first steps of the next epoch:
  dead units give zero gradients, whose momentum decays into the denormal range and stays there
  (0.9·k·2⁻¹⁴⁹ rounds back to k·2⁻¹⁴⁹ for k ≤ 4: it never reaches zero), vs the same state with
  those entries flushed to zero (once, at the start). This is what real training meets.
- "update only": ``opt.step()`` alone with zero gradients over 4 × ``steps`` steps, every entry
  1e-39 vs 0 (what flushing leaves; a non-zero normal value would itself decay into the
  denormal range within ~800 steps): the cost of the update itself. Where the denormals are
  flushed now and then, as ravine's optimizers do, only the steps before a flush are slow.
"""

from __future__ import annotations

import statistics

import numpy as np

import ravine as rv
from runners import CompiledRunner, NumpyRunner
from timing import interleaved, round_logger, same_round_ratio
from workloads import PER_EXAMPLE, initial_weights, interleave, make_data

DENORMAL, NORMAL = 1e-39, 1e-3   # 1e-39 < float32's smallest normal 1.18e-38; 1e-3 stays normal
DENORMAL_STEPS = 500             # 1e-3 · 0.9^500 ≈ 1e-26: the normal buffers stay normal throughout
TRAINED_STEPS = 1000             # steps timed from the state one epoch of training leaves
RAVINE_RUNNER = CompiledRunner


def _momentum_names(opt) -> list[str]:
    return [name for group in opt.param_groups for name in group["param_names"]]


def set_ravine_momentum(opt, buffers) -> None:
    """Load ``buffers`` (one array per parameter, in order) as the momentum of ravine's SGD."""
    saved = opt.state_dict()
    for name, buf in zip(_momentum_names(opt), buffers, strict=True):
        saved["state"][name]["momentum_buffer"] = np.array(buf, copy=True)
    opt.load_state_dict(saved)


def ravine_momentum(opt) -> list[np.ndarray]:
    saved = opt.state_dict()["state"]
    return [saved[name]["momentum_buffer"] for name in _momentum_names(opt)]


def flush_tiny(array: np.ndarray) -> np.ndarray:
    """A copy with the denormal entries (|x| below the smallest normal number) set to zero."""
    return np.where(np.abs(array) < np.finfo(array.dtype).tiny, 0, array).astype(array.dtype)


def count_denormal(arrays) -> int:
    return int(sum(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)) for a in arrays))


def _variants(wl, state, init, X, y, n_steps: int, update_only: bool, den_bufs, norm_bufs):
    """The four (reset, run) pairs of one case, and a function counting what each run leaves."""
    rav = RAVINE_RUNNER(wl, state, X, y, 1)
    flo = NumpyRunner(wl, state, X, y, 1)

    def rv_reset(bufs):
        rav.reset()
        set_ravine_momentum(rav.opt, bufs)
        if update_only:
            for p in rav.model.parameters():
                p.grad = rv.Tensor(np.zeros_like(p.data))

    def np_reset(bufs):
        flo.net.load(state[1], state[2], bufs[0::2], bufs[1::2])

    if update_only:
        zero_W = [np.zeros_like(W) for W in init[1]]
        zero_b = [np.zeros_like(b) for b in init[2]]

        def rv_run():
            step = rav.opt.step
            for _ in range(n_steps):
                step()

        def np_run():
            for _ in range(n_steps):
                flo.net.update(zero_W, zero_b)
    else:
        rv_run, np_run = rav.epoch, flo.epoch

    variants = {
        "ravine normal": (lambda: rv_reset(norm_bufs), rv_run),
        "ravine denormal": (lambda: rv_reset(den_bufs), rv_run),
        "numpy normal": (lambda: np_reset(norm_bufs), np_run),
        "numpy denormal": (lambda: np_reset(den_bufs), np_run),
    }

    def left(name: str) -> int:
        if name.startswith("ravine"):
            return count_denormal(ravine_momentum(rav.opt))
        return count_denormal(flo.net.vW + flo.net.vb)

    return variants, left


def denormal_check(rounds: int, steps: int, trained_steps: int, log) -> dict:
    """Time the three cases of the module docstring; a dict for the JSON and the report."""
    wl = PER_EXAMPLE
    init = initial_weights(wl)
    X, y = make_data(wl, wl.n_samples)
    names = [name for name, _ in RAVINE_RUNNER(wl, init, X[:1], y[:1], 1).model.named_parameters()]

    def filled(value):
        return [np.full_like(a, value) for a in interleave(init[1], init[2])]

    # The state after one epoch of per-example training, as the floor leaves it.
    trainer = NumpyRunner(wl, init, X, y, 1)
    trainer.reset()
    trainer.epoch()
    net = trainer.net
    trained = ({n: a.copy() for n, a in zip(names, interleave(net.W, net.b))},
               [W.copy() for W in net.W], [b.copy() for b in net.b])
    trained_buffers = [a.copy() for a in interleave(net.vW, net.vb)]
    flushed_buffers = [flush_tiny(a) for a in trained_buffers]

    plan = [
        ("pre-filled, 1e-39 vs 1e-3", init, filled(DENORMAL), filled(NORMAL), slice(0, steps), False),
        ("after one epoch, as left vs flushed", trained, trained_buffers, flushed_buffers,
         slice(0, trained_steps), False),  # the next epoch's first steps
        ("update only, 1e-39 vs 0", init, filled(DENORMAL), filled(0.0), slice(0, 4 * steps), True),
    ]
    cases = {}
    for case, state, den_bufs, norm_bufs, rows, update_only in plan:
        n_steps = rows.stop - rows.start
        variants, left = _variants(wl, state, init, X[rows], y[rows], n_steps, update_only, den_bufs, norm_bufs)
        left_after = {}
        for name, (reset, run) in variants.items():  # warm-up, counting what the steps leave
            reset()
            run()
            kind = name.split()[1]
            left_after[kind if name.startswith("ravine") else f"numpy {kind}"] = left(name)
        times, noise = interleaved(variants, rounds, round_logger(log, f"denormal check, {case}", rounds))
        cases[case] = {
            "steps": n_steps,
            "denormal_entries_at_start": {"denormal": count_denormal(den_bufs),
                                          "normal": count_denormal(norm_bufs)},
            "denormal_entries_at_end": left_after,
            "entries": int(sum(b.size for b in den_bufs)),
            **noise,
            "median_step_us": {k: statistics.median(v) / n_steps * 1e6 for k, v in times.items()},
            "ratio_denormal/normal": {
                impl: same_round_ratio(times[f"{impl} denormal"], times[f"{impl} normal"])
                for impl in ("ravine", "numpy")
            },
            "seconds": times,
        }
    return {"workload": wl.name, "batch": 1, "denormal_value": DENORMAL, "normal_value": NORMAL,
            "ravine_runner": RAVINE_RUNNER.name,
            "ravine_flush_every": getattr(rv.optim.SGD, "flush_every", None), "cases": cases}
