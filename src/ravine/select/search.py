"""The coordinator: runs a search file's trials on an executor, records them, selects, tests once.

``run_search`` checks everything first (the search file, the data, every trial's config): bad
input raises ValueError before any trial runs. It prints the budget, resumes a search already in
the folder (finished trials are kept, trials left running are run again, and it says so), runs the
trials — a bounded window of them at a time, so the store's ``running`` rows are the trials really
in flight — and records each result: only this process writes the store.

Selection is on the validation metric only (lower is better, ties by trial index). The test set is
evaluated once, for the chosen trial's saved weights, and recorded in the store; a resumed search
reads it from there. The folder then holds ``table.csv``, ``metric_vs_params.png``, ``curves.png``
and ``best/config.toml``, which ``ravine train --config`` runs as is.

Successive halving (``pruning = "halving"``) trains every trial to the first rung, keeps the best
1/eta by the metric at that rung, and lets the survivors continue from their saved state.

Hyperband (``pruning = "hyperband"``) splits a round's trials over the brackets of
``pruning.hyperband_brackets(epochs, eta, min_epochs)`` (consecutive trial indices, in proportion
to the brackets' sizes ``n_s``, largest remainder; exactly ``n_s`` each when the round has ``Σ n_s``
trials) and runs each bracket, one after another, as a synchronous successive-halving run from its
own first rung; survivors continue from their saved weights.

ASHA (``pruning = "asha"``) is asynchronous: every trial starts on the first rung of
``pruning.rungs(min_epochs, epochs, eta)``, and a trial is promoted to the next rung as soon as
``pruning.asha_decision`` says so, while other trials still run; its continuation is submitted at
once and continues from its saved weights. To keep the table independent of the number of workers
and of completion order (unlike textbook ASHA), results are *processed* per rung in a fixed order —
rung 0 in trial-index order, rung k+1 in the order trials were promoted to it: a result that arrives
early waits until those before it at its rung are in. So ASHA's decisions here, like the
synchronous methods', are a function of the scores alone. Trials left below the top rung at the end
are marked pruned; a trial stopped early by patience is not promoted (it cannot train further) but
stays a candidate.

Refine rounds (``refine_rounds = R``): after the first round, R more rounds, round r on
``space.refine(space, best refine_top finished trials of round r-1, k=refine_top)`` (the search
file's space, so the box is clipped to the original bounds). Trial indices continue across rounds;
a trial's values and training seed are ``round_space.trial(index - first index of the round,
search seed)``, a pure function of (search seed, the round's space digest, index), so the table is
the same for any number of workers. Each round is pruned as the search says. The store records each
trial's round and each round's space; resuming recomputes the refined space from the stored
results and refuses to go on if it differs from the stored one.

Re-runs (``rerun_top = k``, ``rerun_seeds = s``): the k best finished trials over all rounds are
trained again from scratch, to the full budget, with s other training seeds each
(``SeedSequence([search seed, 0x52455255], spawn_key=(trial index,))`` spawned s times, a 32-bit
seed from each); the table and the printed output show the validation metric's mean ± std (sample
std) over the re-runs, and selection among the k uses the mean (ties by trial index). The test set
is then evaluated once, on the chosen trial's own saved weights.

Example::

    result = run_search("space.toml", "searches/x", jobs=2)
    result.best["params"], result.test
"""

from __future__ import annotations

import collections
import math
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..runs import write_toml
from .report import (mean_std_text, plot_curves, plot_metric_vs_params, rerun_summary, sort_key, table_rows,
                     table_text, write_table_csv)
from .space import load_search, refine
from .store import STORE_NAME, TrialStore
from .trial import TrialTask, data_key, evaluate_saved, load_data, trial_config


@dataclass
class SearchResult:
    folder: Path
    best: dict
    test: dict
    table: list
    counts: dict
    reruns: dict = None  # trial index -> {"mean", "std", "n"} of the re-runs (empty without)


def _fmt(params: dict) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


class _Plan:
    """The search's trials, their configs and tasks."""

    def __init__(self, spec, folder: Path):
        self.spec, self.folder = spec, folder
        self.base = {**spec.space.base, "seed": spec.seed}  # the split seed: one split for every trial
        self.trials = {}   # index -> (params, seed)
        self.rounds = []   # (space, first index, size), by round
        self.add_round(spec.space)

    def add_round(self, space) -> list[int]:
        """Append a round on ``space``: its trials get the indices after the previous rounds'."""
        first = sum(size for _, _, size in self.rounds)
        self.rounds.append((space, first, space.size))
        for local in range(space.size):
            self.trials[first + local] = space.trial(local, self.spec.seed)
        return list(range(first, first + space.size))

    def config(self, index: int) -> dict:
        return {**self.base, **self.trials[index][0]}

    def task(self, index: int, epochs_from: int, epochs_to: int, key: str) -> TrialTask:
        return TrialTask(index, self.config(index), self.trials[index][1], epochs_from, epochs_to,
                         str(self.folder / "trials" / str(index)), key)


def _check_executor(jobs, dask, dask_local):
    if dask is not None and dask_local is not None:
        raise ValueError("give --dask ADDRESS or --dask-local N, not both")
    if jobs is not None and (dask is not None or dask_local is not None):
        raise ValueError("--jobs is for local processes; a Dask cluster has its own workers")


def _make_executor(jobs, dask, dask_local, folder, key, data):
    if dask is not None or dask_local is not None:
        from .executors import DaskExecutor

        return DaskExecutor(address=dask, local_workers=dask_local, scratch=folder / "dask-scratch",
                            data_key=key, data=data)
    from .executors import LocalExecutor

    return LocalExecutor(jobs, data_key=key, data=data)


def run_search(spec_path, folder=None, jobs=None, dask=None, dask_local=None, force=False,
               out=print, executor=None, progress="auto") -> SearchResult:
    """Run (or resume) the search of ``spec_path`` in ``folder``; see the module docstring.
    ``executor``: an executor already started (tests), instead of jobs/dask/dask_local.
    ``progress``: "live" (a rich table refreshed as results arrive, messages above it), "lines"
    (one plain line per result), False (no per-result lines), or "auto" (live when stdout is a
    terminal and ``out`` is ``print``, lines otherwise); see ``ravine.select.live``."""
    from .live import resolve_progress

    mode = resolve_progress(progress, out)
    spec = load_search(spec_path)
    folder = Path(folder) if folder is not None else Path("searches") / Path(spec_path).stem
    _check_executor(jobs, dask, dask_local)
    if spec.pruning not in ("none", "halving", "hyperband", "asha"):
        raise ValueError(f"{spec_path}: search.pruning = {spec.pruning!r} is not supported "
                         f"(none, halving, hyperband, asha)")
    plan = _Plan(spec, folder)
    for index in plan.trials:  # every trial's config checked before anything runs
        trial_config(plan.task(index, 0, spec.epochs, ""))
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder}: not a folder")
    data = load_data(plan.base)  # bad data fails here, before the folder exists
    key = data_key(plan.base)
    own = executor is None
    if own:  # an unreachable scheduler is refused here, before the folder exists
        executor = _make_executor(jobs, dask, dask_local, folder, key, data)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        store = TrialStore(folder / STORE_NAME)
    except BaseException:
        if own:
            executor.close()
        raise
    try:
        known = store.open_or_create(spec.digest(), {"file": str(spec_path), **spec.settings(),
                                                     "space": spec.space.to_dict()}, force=force)
        if not known and (folder / "trials").exists():
            shutil.rmtree(folder / "trials")  # a forced restart: old states are not these trials'
        n = spec.space.size
        planned = n * (1 + spec.refine_rounds)
        out(_budget_line(spec))
        _add_round(store, plan, 0)
        requeued = store.requeue_interrupted()
        counts = store.counts()
        done = counts["finished"] + counts["pruned"] + counts["failed"]
        if known:
            out(f"resuming: {done}/{planned} done, {requeued} interrupted trial{'s' if requeued != 1 else ''} re-queued")
        view = say = refresh = None
        if mode == "live":
            from .live import LiveTable

            view = LiveTable(spec.space.names, spec.metric, total=planned)
            say = view.print

            def refresh():
                view.update(store.rows(), store.reruns())
        try:
            if view is not None:
                refresh()
                view.start()
            runner = _Runner(store, executor, planned, say or out, lines=mode == "lines", on_change=refresh)
            finalists = []
            indices = list(plan.trials)
            for r in range(1 + spec.refine_rounds):
                if r > 0:
                    indices = _refine_round(spec, plan, store, r, finalists_r, say or out)
                    if refresh is not None:
                        refresh()
                finalists_r = _run_round(spec, plan, runner, key, indices, say or out)
                finalists += finalists_r
            reruns = _reruns(spec, plan, store, runner, key, finalists, say or out) if spec.rerun_top else None
        finally:
            if view is not None:
                try:
                    refresh()  # the final statuses (pruned at the last rung) before it goes
                finally:
                    view.stop()
            if own:
                executor.close()
                own = False
        return _finish(spec, plan, store, data, key, finalists, reruns, out)
    finally:
        store.close()
        if own:
            executor.close()


def _add_round(store, plan, r: int) -> None:
    """Record round ``r`` of the plan in the store (its space, its trials); a stored round that
    differs (a resumed search whose earlier results changed) is refused."""
    space, first, size = plan.rounds[r]
    stored = store.add_round(r, space.digest(), first, size, space.to_dict())
    if stored["digest"] != space.digest() or stored["first"] != first or stored["size"] != size:
        raise ValueError(f"{plan.folder}: round {r}'s refined space differs from the one stored (digest "
                         f"{stored['digest'][:12]} vs {space.digest()[:12]}): the results it was refined "
                         f"from changed; use --force to start the search over")
    for index in range(first, first + size):
        params, seed = plan.trials[index]
        store.add(index, params, seed, round=r)


def _refine_round(spec, plan, store, r: int, previous: list[int], out) -> list[int]:
    """Round ``r``: refine on the best ``refine_top`` finished trials of round ``r - 1``."""
    rows = {row["index"]: row for row in store.rows()}
    best = sorted((rows[i] for i in previous if rows[i]["status"] == "finished"),
                  key=lambda row: sort_key(row, spec.metric))[:spec.refine_top]
    if not best:
        raise ValueError(f"round {r - 1}: no trial finished; nothing to refine on")
    space = refine(spec.space, [row["params"] for row in best], k=spec.refine_top)
    indices = plan.add_round(space)
    for index in indices:
        trial_config(plan.task(index, 0, spec.epochs, ""))
    _add_round(store, plan, r)
    box = ", ".join(f"{name} {dim.to_dict()}" for name, dim in space.dimensions.items())
    out(f"round {r}: {len(indices)} trials (indices {indices[0]}–{indices[-1]}) refined on the best "
        f"{len(best)} of round {r - 1} {sorted(row['index'] for row in best)}: {box}")
    return indices


def _run_round(spec, plan, runner, key, indices: list[int], out) -> list[int]:
    """Run one round's trials with the search's pruning; its finalists (the selection's candidates)."""
    if spec.pruning == "halving":
        return _halving(spec, plan, runner, key, indices, _rungs(spec), out)
    if spec.pruning == "hyperband":
        finalists = []
        for b, (trials, budgets) in enumerate(_hyperband_split(spec, indices)):
            if trials:
                out(f"bracket {b}: trials {trials[0]}–{trials[-1]}, rungs {budgets}")
                finalists += _halving(spec, plan, runner, key, trials, budgets, out)
        return finalists
    if spec.pruning == "asha":
        return _asha(spec, plan, runner, key, indices, out)
    rows = {row["index"]: row for row in runner.store.rows()}
    todo = [i for i in indices if rows[i]["status"] in ("queued", "running")]
    runner.batch([plan.task(i, 0, spec.epochs, key) for i in todo])
    return list(indices)


def _rungs(spec) -> list[int]:
    from .pruning import rungs

    return rungs(spec.min_epochs, spec.epochs, spec.eta)


def _halving_cost(n: int, budgets: list[int], eta: int) -> int:
    total, alive, last = 0, n, 0
    for b in budgets:
        total += alive * (b - last)
        last = b
        alive = max(1, alive // eta)
    return total


def _hyperband_split(spec, indices: list[int]) -> list[tuple[list[int], list[int]]]:
    """The round's trials over Hyperband's brackets: (trial indices, rung budgets) per bracket."""
    from .pruning import hyperband_brackets

    brackets = hyperband_brackets(spec.epochs, spec.eta, spec.min_epochs)
    sizes = [bracket[0][0] for bracket in brackets]
    total, n = sum(sizes), len(indices)
    counts = [n * s // total for s in sizes]
    by_remainder = sorted(range(len(sizes)), key=lambda b: (-(n * sizes[b] % total), b))
    for b in by_remainder[:n - sum(counts)]:
        counts[b] += 1
    out, first = [], 0
    for count, bracket in zip(counts, brackets):
        out.append((indices[first:first + count], [epochs for _, epochs in bracket]))
        first += count
    return out


def _round_budget(spec) -> int:
    n = spec.space.size
    if spec.pruning == "halving":
        return _halving_cost(n, _rungs(spec), spec.eta)
    if spec.pruning == "hyperband":
        return sum(_halving_cost(len(t), b, spec.eta) for t, b in _hyperband_split(spec, list(range(n))) if t)
    return n * spec.epochs  # none; ASHA: at most


def _budget(spec) -> int:
    return (_round_budget(spec) * (1 + spec.refine_rounds)
            + spec.rerun_top * spec.rerun_seeds * spec.epochs)


def _budget_line(spec) -> str:
    n, rounds = spec.space.size, 1 + spec.refine_rounds
    line = f"budget: {n} trials × {spec.epochs} epochs"
    if rounds > 1:
        line += f" × {rounds} rounds (1 + {spec.refine_rounds} refined)"
    if spec.rerun_top:
        line += f" + {spec.rerun_top} × {spec.rerun_seeds} re-runs × {spec.epochs} epochs"
    line += f" = {'at most ' if spec.pruning == 'asha' else ''}{_budget(spec)} trial-epochs"
    if spec.pruning == "halving":
        line += f" (successive halving, eta {spec.eta}, rungs {_rungs(spec)})"
    elif spec.pruning == "hyperband":
        split = _hyperband_split(spec, list(range(n)))
        line += (f" (hyperband, eta {spec.eta}, brackets "
                 + ", ".join(f"{len(t)} trials @ {b}" for t, b in split if t) + ")")
    elif spec.pruning == "asha":
        line += f" (ASHA, eta {spec.eta}, rungs {_rungs(spec)})"
    return line


class _Runner:
    """Submits tasks (trials and re-runs), at most ``executor.capacity`` at a time, and records
    each result in the store as it is processed; only this process writes the store."""

    def __init__(self, store, executor, n_total: int, out, lines: bool = True, on_change=None):
        self.store, self.executor, self.n_total, self.out = store, executor, n_total, out
        self.lines, self.on_change = lines, on_change  # per-result lines; the live view's refresh
        self.running = {}  # future -> (rep or None, task)

    @property
    def free(self) -> int:
        return self.executor.capacity - len(self.running)

    def submit(self, task, rep=None) -> None:
        if rep is None:
            self.store.start(task.index)
        else:
            self.store.start_rerun(task.index, rep)
        self.running[self.executor.submit(task)] = (rep, task)
        if self.on_change is not None:
            self.on_change()

    def wait(self) -> list:
        """Wait for at least one task; record the finished ones (by trial index); return them
        as (rep, task, ok)."""
        done, _ = self.executor.wait_first(set(self.running))
        finished = []
        for future in sorted(done, key=lambda f: (self.running[f][1].index, self.running[f][0] or 0)):
            rep, task = self.running.pop(future)
            try:
                result = future.result()
            except Exception as error:  # the trial failed (or its worker, past the retries)
                text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
                what = f"trial {task.index}" if rep is None else f"re-run {rep} of trial {task.index}"
                if rep is None:
                    self.store.fail(task.index, text)
                else:
                    self.store.fail_rerun(task.index, rep, text)
                self.out(f"{what} failed: {type(error).__name__}: {error}")
                finished.append((rep, task, False))
                continue
            metrics = dict(result.metrics, stopped=result.stopped)
            figures = " ".join(f"{k} {v:.4f}" for k, v in result.metrics.items() if k.startswith("val_"))
            if rep is None:
                self.store.record(task.index, result.epochs, result.curve, metrics, result.seconds,
                                  worker=result.worker)
                counts = self.store.counts()
                if self.lines:
                    self.out(f"trial {task.index:>3} epoch {result.epochs:>3}: {figures}  "
                             f"[{counts['finished'] + counts['pruned'] + counts['failed']}/{self.n_total}]")
            else:
                self.store.record_rerun(task.index, rep, result.epochs, result.curve, metrics, result.seconds,
                                        worker=result.worker)
                if self.lines:
                    self.out(f"re-run {rep} of trial {task.index:>3} (seed {task.seed}) epoch {result.epochs:>3}: "
                             f"{figures}")
            finished.append((rep, task, True))
        if self.on_change is not None:
            self.on_change()
        return finished

    def batch(self, tasks: list, reps: list | None = None) -> None:
        """Run ``tasks`` (re-runs when ``reps`` is given), recording each result."""
        pending = collections.deque(zip(tasks, reps if reps is not None else [None] * len(tasks)))
        while pending or self.running:
            while pending and self.free > 0:
                task, rep = pending.popleft()
                self.submit(task, rep)
            self.wait()


def _score_at(row: dict, epochs: int, metric: str) -> float:
    curve = row["curve"]
    if not curve:
        return math.inf
    value = curve[min(epochs, len(curve)) - 1].get(metric)
    return math.inf if value is None else float(value)


def _halving(spec, plan, runner, key, indices: list[int], budgets: list[int], out) -> list[int]:
    """Synchronous successive halving of ``indices`` over ``budgets``; promoted trials continue from
    their saved state."""
    from .pruning import promote

    store = runner.store
    alive = list(indices)
    for r, budget in enumerate(budgets):
        rows = {row["index"]: row for row in store.rows()}
        todo = [i for i in alive if rows[i]["status"] != "failed" and rows[i]["epochs"] < budget
                and not rows[i]["metrics"].get("stopped")]
        runner.batch([plan.task(i, rows[i]["epochs"], budget, key) for i in todo])
        if r == len(budgets) - 1:
            break
        rows = {row["index"]: row for row in store.rows()}
        scores = {i: _score_at(rows[i], budget, spec.metric) for i in alive if rows[i]["status"] != "failed"}
        keep = max(1, len(alive) // spec.eta)
        promoted = sorted(promote(scores, keep))
        for i in alive:
            if i not in promoted and rows[i]["status"] != "pruned":
                store.prune(i)
        out(f"rung {r} ({budget} epochs): {len(promoted)} of {len(alive)} trials continue: {promoted}")
        alive = promoted
    return alive


def _asha(spec, plan, runner, key, indices: list[int], out) -> list[int]:
    """ASHA over ``indices``, with results processed per rung in a fixed order (see the module
    docstring): rung 0 by trial index, rung k+1 in promotion order. Resumable: a trial whose stored
    epochs already reach a rung is not run again for it."""
    from .pruning import asha_decision

    store, budgets = runner.store, _rungs(spec)
    last = len(budgets) - 1
    rows = {row["index"]: row for row in store.rows()}
    order = [list(indices)] + [[] for _ in budgets[1:]]   # the processing order per rung
    processed = [0] * len(budgets)
    scores = [[] for _ in budgets]
    promoted = [set() for _ in budgets]
    in_flight = set()

    def ready(i: int, k: int) -> bool:
        row = rows[i]
        return i not in in_flight and (row["status"] == "failed" or bool(row["metrics"].get("stopped"))
                                       or row["epochs"] >= budgets[k])

    while True:
        progress = True
        while progress:  # process, per rung, every result that is next in its rung's order
            progress = False
            for k in range(len(budgets)):
                while processed[k] < len(order[k]) and ready(order[k][processed[k]], k):
                    i = order[k][processed[k]]
                    processed[k] += 1
                    progress = True
                    if rows[i]["status"] == "failed":
                        continue
                    scores[k].append((i, _score_at(rows[i], budgets[k], spec.metric)))
                    if k == last:
                        continue
                    for j, _ in list(scores[k]):  # ask again for every trial waiting at this rung
                        if j in promoted[k] or rows[j]["metrics"].get("stopped"):
                            continue
                        if asha_decision({k: scores[k]}, j, k, spec.eta):
                            promoted[k].add(j)
                            order[k + 1].append(j)
                            out(f"rung {k} ({budgets[k]} epochs): trial {j} continues to {budgets[k + 1]} "
                                f"epochs ({len(promoted[k])} of {len(scores[k])} seen so far)")
        # submit what is waiting, the highest rung first, up to the executor's capacity
        for k in range(last, -1, -1):
            for i in order[k][processed[k]:]:
                if runner.free <= 0:
                    break
                if i not in in_flight and not ready(i, k):
                    runner.submit(plan.task(i, rows[i]["epochs"], budgets[k], key))
                    in_flight.add(i)
        if not runner.running:
            break
        for _, task, _ in runner.wait():
            in_flight.discard(task.index)
            rows[task.index] = store.row(task.index)
    finalists = []
    for i in indices:
        row = rows[i]
        if row["status"] == "failed":
            continue
        if row["epochs"] < budgets[-1] and not row["metrics"].get("stopped"):
            if row["status"] != "pruned":
                store.prune(i)
            continue
        finalists.append(i)
    out(f"ASHA: {len(finalists)} of {len(indices)} trials reached {budgets[-1]} epochs (or stopped early): "
        f"{finalists}")
    return finalists


def rerun_seeds(search_seed: int, index: int, count: int) -> list[int]:
    """The training seeds of trial ``index``'s re-runs: ``count`` children of
    ``SeedSequence([search_seed, 0x52455255], spawn_key=(index,))``, a 32-bit seed each."""
    import numpy as np

    parent = np.random.SeedSequence([int(search_seed), 0x52455255], spawn_key=(int(index),))
    return [int(child.generate_state(1, np.uint32)[0]) for child in parent.spawn(int(count))]


def _reruns(spec, plan, store, runner, key, finalists: list[int], out) -> dict:
    """Re-run the ``rerun_top`` best finished finalists with ``rerun_seeds`` seeds each; their summary."""
    import dataclasses

    rows = {row["index"]: row for row in store.rows()}
    top = sorted((rows[i] for i in finalists if rows[i]["status"] == "finished"),
                 key=lambda row: sort_key(row, spec.metric))[:spec.rerun_top]
    for row in top:
        for rep, seed in enumerate(rerun_seeds(spec.seed, row["index"], spec.rerun_seeds)):
            store.add_rerun(row["index"], rep, seed)
    chosen = {row["index"] for row in top}
    todo = [r for r in store.reruns() if r["index"] in chosen and r["status"] in ("queued", "running")]
    out(f"re-runs: the best {len(top)} trials {sorted(chosen)} × {spec.rerun_seeds} seeds"
        + (f" ({len(todo)} to run)" if todo else ""))
    tasks = [dataclasses.replace(plan.task(r["index"], 0, spec.epochs, key), seed=r["seed"], state_path=None)
             for r in todo]
    runner.batch(tasks, [r["rep"] for r in todo])
    return {i: s for i, s in rerun_summary(store.reruns(), spec.metric).items() if i in chosen}


def _finish(spec, plan, store, data, key, finalists, reruns, out) -> SearchResult:
    rows = store.rows()
    candidates = [r for r in rows if r["index"] in set(finalists) and r["status"] == "finished"]
    if not candidates:
        raise ValueError("no trial finished; nothing to select (see the tracebacks: ravine search table)")
    if reruns:  # selection on the re-runs' mean, among the re-run trials
        rerun = [r for r in candidates if r["index"] in reruns]
        best = min(rerun, key=lambda r: (reruns[r["index"]]["mean"], r["index"]))
    else:
        best = min(candidates, key=lambda r: sort_key(r, spec.metric))
    test = store.test()
    if test is None:
        metrics = evaluate_saved(plan.task(best["index"], 0, best["epochs"], key), best["epochs"], data)
        store.record_test(best["index"], metrics)
        test = store.test()
    folder = plan.folder
    table = table_rows(rows, spec.space.names, spec.metric, rounds=spec.refine_rounds > 0,
                       reruns=reruns if spec.rerun_top else None)
    write_table_csv(table, folder / "table.csv")
    plot_metric_vs_params(rows, spec.space, spec.metric, folder / "metric_vs_params.png")
    plot_curves(rows, spec.metric, folder / "curves.png")
    (folder / "best").mkdir(exist_ok=True)
    config = trial_config(plan.task(best["index"], 0, best["epochs"], key)).to_dict()
    # ravine train's one seed both splits the data and draws the weights: the search's seed keeps the
    # search's split, so the test set stays unseen by the selection (the trial's own seed would split
    # differently and could put validation examples into the test set).
    config["seed"] = spec.seed
    write_toml(folder / "best" / "config.toml", config, omit_none=True,
               comment=f"the best trial ({best['index']}) of the search {folder}, with the search's seed "
                       f"(the same train/valid/test split); run: ravine train --config "
                       f"{folder / 'best' / 'config.toml'}")
    out(table_text(table))
    if reruns:
        out(f"re-runs ({spec.rerun_seeds} seeds each; {spec.metric} mean ± std):")
        for index in sorted(reruns, key=lambda i: (reruns[i]["mean"], i)):
            single = next(r for r in rows if r["index"] == index)["metrics"].get(spec.metric)
            out(f"  trial {index} {_fmt(plan.trials[index][0])}: {mean_std_text(reruns[index]) or 'no re-run finished'}"
                f" (n={reruns[index]['n']}; the search's run "
                f"{'-' if single is None else format(single, '.4f')})")
        out(f"best: trial {best['index']} {_fmt(best['params'])}: {spec.metric} "
            f"{mean_std_text(reruns[best['index']])} over {reruns[best['index']]['n']} seeds")
    else:
        out(f"best: trial {best['index']} {_fmt(best['params'])}: {spec.metric} {best['metrics'][spec.metric]:.4f}")
    figures = ", ".join(f"{k} {v:.4f}" for k, v in test["metrics"].items())
    accuracy = f" (accuracy {1 - test['metrics']['error']:.4f})" if "error" in test["metrics"] else ""
    out(f"test set (evaluated once, trial {test['index']}): {figures}{accuracy}")
    out(f"best configuration: {folder / 'best' / 'config.toml'}")
    return SearchResult(folder, best, test, table, store.counts(), reruns or {})


def read_search(folder) -> TrialStore:
    """The store of an existing search folder, or ValueError if ``folder`` is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a search folder (no such folder)")
    return TrialStore.open_existing(folder / STORE_NAME)
