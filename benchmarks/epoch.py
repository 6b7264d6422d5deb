"""One workload at one batch size: build every runner, warm up, guard, then time interleaved rounds.

The warm-up (untimed) is a whole epoch for the small workloads and WARMUP_STEPS steps for the big
one; the correctness guard checks it (see ``guard``). After the timed rounds, whose last one left
every runner one full epoch past the initial weights, the compiled loop's weights are compared with
the graph loop's once more, bit for bit.
"""

from __future__ import annotations

import statistics

from guard import assert_identical, guard, trainer_check
from runners import RUNNERS
from timing import interleaved, round_logger, same_round_ratio
from workloads import COMPILED, GRAPH, IMPLS, RAVINE, REFERENCES, TRAINER, WARMUP_STEPS, initial_weights, make_data


def ratio_names() -> list[tuple[str, str]]:
    """(numerator, denominator) pairs reported for every workload."""
    pairs = [(rav, ref) for rav in RAVINE for ref in REFERENCES]
    return pairs + [(COMPILED, GRAPH), (TRAINER, GRAPH), (TRAINER, COMPILED)]


def run_workload(wl, batch: int, n: int, rounds: int, log) -> dict:
    X, y = make_data(wl, n)
    init = initial_weights(wl)
    runners = {name: RUNNERS[name](wl, init, X, y, batch) for name in IMPLS}
    steps = len(runners[GRAPH].batches)

    # Warm-up (untimed), then the guard: a whole epoch for the small workloads, a few steps else.
    limit = None if wl.full_warmup else WARMUP_STEPS
    for runner in runners.values():
        runner.reset()
        runner.epoch(limit)
    checked = guard(wl, batch, runners, init, limit or steps)
    trainer = trainer_check(wl, batch, runners[TRAINER], init, limit)
    if not trainer["identical"]:
        log(f"  warning: {wl.name} batch {batch}: {trainer['what']} differ in {trainer['difference']}")

    variants = {name: (r.reset, r.epoch) for name, r in runners.items()}
    times, noise = interleaved(variants, rounds, round_logger(log, f"{wl.name} batch {batch}", rounds))
    assert_identical(wl.name, batch, runners, steps, "after the last round's full epoch")
    result = {
        "workload": wl.name, "sizes": list(wl.sizes), "activation": wl.activation,
        "n_samples": n, "batch": batch, "steps": steps, "rounds": rounds,
        "guard_steps": limit or steps,
        "guard_error": checked,   # ‖Δravine − Δother‖ / ‖Δravine‖, worst tensor (graph = compiled)
        "compiled_equals_graph": {"after_warmup": True, "after_full_epoch": True},
        "trainer_check": trainer,
        "trainer_step_kind": runners[TRAINER].trainer.step_kind,
        **noise,
        "seconds": times,
        "median_epoch_s": {k: statistics.median(v) for k, v in times.items()},
        "median_step_us": {k: statistics.median(v) / steps * 1e6 for k, v in times.items()},
        "ratios": {f"{a}/{b}": same_round_ratio(times[a], times[b]) for a, b in ratio_names()},
    }
    if wl.sizes[-1] == 2:
        result["note"] = f"{wl.name}: scikit-learn uses one logistic output unit for two classes (not guarded)."
    return result
