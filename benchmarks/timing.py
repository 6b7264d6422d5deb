"""Timing on a shared machine: interleaved A/B rounds, a quiet gate, and disturbed rounds set aside.

Each round resets and runs every variant once, in rotating order. Before a round ``GATE`` waits while
other processes keep the CPUs busy; a round during which they took more than ``DISTURBED_LOAD`` of a
CPU anyway (read from ``/proc/stat``) is set aside and run again: on this 2-core machine one busy core
can make a 2-thread BLAS call 10-50x slower, for every implementation at once.
"""

from __future__ import annotations

import gc
import os
import statistics
import time

DISTURBED_LOAD = 0.25   # CPUs' worth of other processes' work that makes a round disturbed

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def timed(fn) -> float:
    gc.collect()  # cheap inside ``interleaved``, which freezes what exists before the rounds
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu_snapshot() -> tuple[float, float, float] | None:
    """(wall s, CPU s busy on the whole machine incl. steal, CPU s of this process) or None."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait (steal counts as busy)
    own = os.times()
    return time.perf_counter(), busy / _CLK_TCK, own.user + own.system


def foreign_load(before, after) -> float:
    """CPUs' worth of work done by other processes (or stolen by the hypervisor) in between."""
    if before is None or after is None or after[0] <= before[0]:
        return 0.0
    return max(0.0, (after[1] - before[1]) - (after[2] - before[2])) / (after[0] - before[0])


def other_load(seconds: float = 1.0) -> float:
    """Other processes' load over the next ``seconds``, in CPUs."""
    before = cpu_snapshot()
    time.sleep(seconds)
    return foreign_load(before, cpu_snapshot())


class QuietGate:
    """Before a round, wait (up to ``per_round`` s, ``budget`` s in all) while other processes are busy.

    Sleeping through another process's burst is cheaper than running a round it disturbs (which is
    then set aside anyway): a disturbed 2-thread BLAS epoch can take 50x its normal time.
    """

    def __init__(self, per_round: float = 20.0, budget: float = 180.0):
        self.per_round, self.budget, self.waited = per_round, budget, 0.0

    def wait(self) -> None:
        start = time.perf_counter()
        while True:
            before = cpu_snapshot()
            time.sleep(0.2)
            if foreign_load(before, cpu_snapshot()) <= DISTURBED_LOAD:
                break
            spent = time.perf_counter() - start
            if spent >= self.per_round or self.waited + spent >= self.budget:
                break
            time.sleep(1.0)
        self.waited += time.perf_counter() - start


GATE = QuietGate()


def interleaved(variants: dict, rounds: int, progress=None) -> tuple[dict[str, list[float]], dict]:
    """{name: [seconds per round]}: each round resets and runs every variant once, order rotating.

    ``variants`` maps a name to ``(reset, run)``; only ``run`` is timed. A round during which other
    processes kept more than DISTURBED_LOAD of a CPU busy is set aside and run again, up to
    2 × ``rounds`` attempts in all. The medians use the clean rounds, or all rounds (flagged as
    unreliable) if fewer than min(3, rounds) were clean.
    """
    # With torch and scikit-learn loaded a full collection takes ~0.1 s, six times a round: freezing
    # the objects that exist now (modules, runners, data) makes the collection before each timed run
    # scan only what the runs leave, and keeps the rare full collection inside a run as cheap as it
    # is in a process that has loaded ravine alone. Reference counting still frees frozen objects.
    gc.collect()
    gc.freeze()
    try:
        return _rounds(variants, rounds, progress)
    finally:
        gc.unfreeze()


def _rounds(variants: dict, rounds: int, progress) -> tuple[dict[str, list[float]], dict]:
    names = list(variants)
    clean = {name: [] for name in names}
    disturbed = {name: [] for name in names}
    attempts = 0
    while len(clean[names[0]]) < rounds and attempts < 2 * rounds:
        if progress:
            progress(len(clean[names[0]]), len(disturbed[names[0]]))
        order = names[attempts % len(names):] + names[:attempts % len(names)]
        attempts += 1
        GATE.wait()
        round_start = cpu_snapshot()
        this_round = {}
        loads = []
        for name in order:
            reset, run = variants[name]
            reset()
            before = cpu_snapshot()
            this_round[name] = timed(run)
            if this_round[name] >= 0.2:  # long enough for /proc/stat's 10 ms ticks to tell
                loads.append(foreign_load(before, cpu_snapshot()))
        loads.append(foreign_load(round_start, cpu_snapshot()))
        into = disturbed if max(loads) > DISTURBED_LOAD else clean
        for name in names:
            into[name].append(this_round[name])
    n_clean, n_disturbed = len(clean[names[0]]), len(disturbed[names[0]])
    unreliable = n_clean < min(3, rounds)
    used = {name: clean[name] + disturbed[name] for name in names} if unreliable else clean
    return used, {"clean_rounds": n_clean, "disturbed_rounds": n_disturbed, "unreliable": unreliable,
                  "disturbed_seconds": disturbed}


def same_round_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b))


def round_logger(log, label: str, rounds: int):
    """A ``progress`` callback for ``interleaved`` that logs "label: round r/n (k disturbed...)"."""
    def progress(r, d):
        log(f"  {label}: round {r + 1}/{rounds}" + (f" ({d} disturbed, set aside)" if d else ""))
    return progress
