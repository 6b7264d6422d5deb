"""One epoch of the same MLP, data and optimizer in ravine, PyTorch, scikit-learn and hand-written NumPy.

ravine runs three ways — the user loop on the flow graph, the user loop with the compiled step, and
the Trainer — against the NumPy floor, PyTorch eager and scikit-learn's MLPClassifier, all from the
same initial weights on the same data (see ``workloads`` and ``runners``). Rounds are interleaved
A/B, disturbed rounds are set aside (``timing``), and a correctness guard stops the run if the
implementations do not compute the same thing (``guard``). Also: the denormal check of issue 3
(``denormal``) and the Hessian-vector product vs gradient benchmark of issue 4 (``hvp``).
Nothing here asserts on time. The table is printed and everything is written to a JSON file.

    .venv/bin/python benchmarks/bench_epoch.py            # the full run (make bench), about 5 minutes
    .venv/bin/python benchmarks/bench_epoch.py --quick    # a smoke run, under a minute
    .venv/bin/python benchmarks/bench_epoch.py --only 40-100 --rounds 9
    .venv/bin/python benchmarks/bench_epoch.py --only hvp
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the sibling modules, also when imported from elsewhere
    sys.path.insert(0, str(HERE))

from denormal import DENORMAL_STEPS, TRAINED_STEPS, denormal_check  # noqa: E402
from epoch import run_workload  # noqa: E402
from hvp import ROUNDS as HVP_ROUNDS, hvp_benchmark  # noqa: E402
from machine import machine_info, write_json_atomic  # noqa: E402
from report import print_report, targets_lines  # noqa: E402
from timing import DISTURBED_LOAD, GATE, other_load  # noqa: E402
from workloads import (DATA_SEED, GUARD_TOL, IMPLS, INIT_SEED, LR, MOMENTUM, PER_EXAMPLE,  # noqa: E402
                       WORKLOADS)

DENORMAL_ROUNDS = 9
HVP_NAMES = ("hvp", "second-order", "second order")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer samples and rounds")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default: per workload)")
    parser.add_argument("--only", help="run workloads whose name contains this (e.g. 40-100), or 'hvp' for "
                                       "the second-order benchmark alone")
    parser.add_argument("--no-denormal", action="store_true", help="skip the denormal check")
    parser.add_argument("--no-hvp", action="store_true", help="skip the second-order (HVP) benchmark")
    parser.add_argument("--threads", type=int,
                        help="cap BLAS and torch threads at N (default: each library's own default)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        import torch
        from threadpoolctl import threadpool_limits
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)

    info = machine_info()
    info["threads_cap"] = args.threads
    info["loadavg_at_start"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    info["other_load_at_start"] = round(other_load(1.0), 2)
    if info["other_load_at_start"] > DISTURBED_LOAD:
        log(f"warning: other processes are keeping {info['other_load_at_start']:.1f} CPUs busy; rounds will "
            f"wait for quiet, and disturbed ones are set aside and rerun (--threads 1 is steadier)")
    if args.quick:
        GATE.per_round, GATE.budget = 3.0, 15.0
    only = args.only.lower() if args.only else None
    started = time.perf_counter()

    results = []
    for wl in WORKLOADS:
        if only and only not in wl.name:
            continue
        n = wl.quick_samples if args.quick else wl.n_samples
        rounds = args.rounds or (2 if args.quick else wl.rounds)
        for batch in wl.batches:
            results.append(run_workload(wl, batch, n, rounds, log))

    so = None
    if not args.no_hvp and (not only or only in HVP_NAMES):
        so = hvp_benchmark(args.rounds or (3 if args.quick else HVP_ROUNDS), 0.05 if args.quick else 0.3, log)

    den = None
    if not args.no_denormal and (not only or only in PER_EXAMPLE.name):
        den = denormal_check(args.rounds or (2 if args.quick else DENORMAL_ROUNDS),
                             100 if args.quick else DENORMAL_STEPS, 200 if args.quick else TRAINED_STEPS, log)

    payload = {
        "benchmark": "one epoch of SGD (momentum 0.9, lr 0.01), float32, softmax + cross-entropy",
        "machine": info,
        "settings": {"quick": args.quick, "lr": LR, "momentum": MOMENTUM, "data_seed": DATA_SEED,
                     "init_seed": INIT_SEED, "guard_tol": GUARD_TOL, "implementations": list(IMPLS)},
        "wall_seconds": round(time.perf_counter() - started, 1),
        "seconds_waiting_for_quiet": round(GATE.waited, 1),
        "results": results,
        "second_order": so,
        "denormal": den,
        "targets": targets_lines(results, den, so),
    }
    write_json_atomic(args.output, payload)
    print_report(info, results, den, so, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
