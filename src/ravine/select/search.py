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
from .report import plot_curves, plot_metric_vs_params, sort_key, table_rows, table_text, write_table_csv
from .space import load_search
from .store import STORE_NAME, TrialStore
from .trial import TrialTask, data_key, evaluate_saved, load_data, trial_config


@dataclass
class SearchResult:
    folder: Path
    best: dict
    test: dict
    table: list
    counts: dict


def _fmt(params: dict) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


class _Plan:
    """The search's trials, their configs and tasks."""

    def __init__(self, spec, folder: Path):
        self.spec, self.folder = spec, folder
        self.base = {**spec.space.base, "seed": spec.seed}  # the split seed: one split for every trial
        self.trials = {}
        for index in range(spec.space.size):
            params, seed = spec.space.trial(index, spec.seed)
            self.trials[index] = (params, seed)

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
               out=print, executor=None) -> SearchResult:
    """Run (or resume) the search of ``spec_path`` in ``folder``; see the module docstring.
    ``executor``: an executor already started (tests), instead of jobs/dask/dask_local."""
    spec = load_search(spec_path)
    folder = Path(folder) if folder is not None else Path("searches") / Path(spec_path).stem
    _check_executor(jobs, dask, dask_local)
    if spec.pruning not in ("none", "halving"):
        raise ValueError(f"{spec_path}: search.pruning = {spec.pruning!r} is not supported yet (none, halving)")
    if spec.refine_rounds or spec.rerun_top:
        raise ValueError(f"{spec_path}: search.refine_rounds and search.rerun_top are not supported by "
                         f"ravine search yet; leave them at 0")
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
        out(f"budget: {n} trials × {spec.epochs} epochs = {_budget(spec)} trial-epochs"
            + (f" (successive halving, eta {spec.eta}, rungs {_rungs(spec)})" if spec.pruning == "halving" else ""))
        for index, (params, seed) in plan.trials.items():
            store.add(index, params, seed)
        requeued = store.requeue_interrupted()
        counts = store.counts()
        done = counts["finished"] + counts["pruned"] + counts["failed"]
        if known:
            out(f"resuming: {done}/{n} done, {requeued} interrupted trial{'s' if requeued != 1 else ''} re-queued")
        try:
            if spec.pruning == "halving":
                finalists = _halving(spec, plan, store, executor, key, out)
            else:
                todo = [r["index"] for r in store.rows() if r["status"] in ("queued", "running")]
                _run_batch(store, executor, [plan.task(i, 0, spec.epochs, key) for i in todo], n, out)
                finalists = list(plan.trials)
        finally:
            if own:
                executor.close()
                own = False
        return _finish(spec, plan, store, data, key, finalists, out)
    finally:
        store.close()
        if own:
            executor.close()


def _rungs(spec) -> list[int]:
    from .pruning import rungs

    return rungs(spec.min_epochs, spec.epochs, spec.eta)


def _budget(spec) -> int:
    n = spec.space.size
    if spec.pruning != "halving":
        return n * spec.epochs
    total, alive, last = 0, n, 0
    budgets = _rungs(spec)
    for r, b in enumerate(budgets):
        total += alive * (b - last)
        last = b
        alive = max(1, alive // spec.eta)
    return total


def _run_batch(store, executor, tasks: list, n_total: int, out) -> None:
    """Run ``tasks``, at most ``executor.capacity`` at a time, recording each result."""
    pending = collections.deque(tasks)
    running = {}
    while pending or running:
        while pending and len(running) < executor.capacity:
            task = pending.popleft()
            store.start(task.index)
            running[executor.submit(task)] = task
        done, _ = executor.wait_first(set(running))
        for future in sorted(done, key=lambda f: running[f].index):
            task = running.pop(future)
            try:
                result = future.result()
            except Exception as error:  # the trial failed (or its worker, past the retries)
                store.fail(task.index, "".join(traceback.format_exception(type(error), error, error.__traceback__)))
                out(f"trial {task.index} failed: {type(error).__name__}: {error}")
                continue
            metrics = dict(result.metrics, stopped=result.stopped)
            store.record(task.index, result.epochs, result.curve, metrics, result.seconds, worker=result.worker)
            counts = store.counts()
            figures = " ".join(f"{k} {v:.4f}" for k, v in result.metrics.items() if k.startswith("val_"))
            out(f"trial {task.index:>3} epoch {result.epochs:>3}: {figures}  "
                f"[{counts['finished'] + counts['pruned'] + counts['failed']}/{n_total}]")


def _score_at(row: dict, epochs: int, metric: str) -> float:
    curve = row["curve"]
    if not curve:
        return math.inf
    value = curve[min(epochs, len(curve)) - 1].get(metric)
    return math.inf if value is None else float(value)


def _halving(spec, plan, store, executor, key, out) -> list[int]:
    """Synchronous successive halving; promoted trials continue from their saved state."""
    from .pruning import promote

    alive = list(plan.trials)
    budgets = _rungs(spec)
    for r, budget in enumerate(budgets):
        rows = {row["index"]: row for row in store.rows()}
        todo = [i for i in alive if rows[i]["status"] != "failed" and rows[i]["epochs"] < budget
                and not rows[i]["metrics"].get("stopped")]
        _run_batch(store, executor, [plan.task(i, rows[i]["epochs"], budget, key) for i in todo],
                   len(plan.trials), out)
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


def _finish(spec, plan, store, data, key, finalists, out) -> SearchResult:
    rows = store.rows()
    candidates = [r for r in rows if r["index"] in set(finalists) and r["status"] == "finished"]
    if not candidates:
        raise ValueError("no trial finished; nothing to select (see the tracebacks: ravine search table)")
    best = min(candidates, key=lambda r: sort_key(r, spec.metric))
    test = store.test()
    if test is None:
        metrics = evaluate_saved(plan.task(best["index"], 0, best["epochs"], key), best["epochs"], data)
        store.record_test(best["index"], metrics)
        test = store.test()
    folder = plan.folder
    table = table_rows(rows, spec.space.names, spec.metric)
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
    out(f"best: trial {best['index']} {_fmt(best['params'])}: {spec.metric} {best['metrics'][spec.metric]:.4f}")
    figures = ", ".join(f"{k} {v:.4f}" for k, v in test["metrics"].items())
    accuracy = f" (accuracy {1 - test['metrics']['error']:.4f})" if "error" in test["metrics"] else ""
    out(f"test set (evaluated once, trial {test['index']}): {figures}{accuracy}")
    out(f"best configuration: {folder / 'best' / 'config.toml'}")
    return SearchResult(folder, best, test, table, store.counts())


def read_search(folder) -> TrialStore:
    """The store of an existing search folder, or ValueError if ``folder`` is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a search folder (no such folder)")
    return TrialStore.open_existing(folder / STORE_NAME)
