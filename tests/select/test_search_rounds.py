"""The coordinator's refine rounds, re-runs, Hyperband and ASHA.

Pruning and re-run decisions are checked on planted scores: a test executor runs each trial for
real in this process (so weights are saved and continued) and then overwrites its validation
error with a planted function of (trial, training seed, epoch)."""

import concurrent.futures as cf
import math
import sqlite3

import pytest

from ravine.select import pruning
from ravine.select.report import sort_key
from ravine.select.search import rerun_seeds, run_search
from ravine.select.space import load_search, refine
from ravine.select.store import TrialStore
from ravine.select.trial import load_data, run_trial

RANDOM = """
[search]
kind = "random"
trials = 6
seed = 1
epochs = 2
{extra}
[base]
data = "digits"
hidden = [16]
[space]
lr = {{ loguniform = [0.003, 0.3] }}
momentum = {{ uniform = [0.0, 0.95] }}
"""


def write(tmp_path, extra="", trials=6, epochs=2):
    text = RANDOM.format(extra=extra).replace("trials = 6", f"trials = {trials}")
    text = text.replace("epochs = 2", f"epochs = {epochs}")
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


def quiet(*args):
    pass


class Planted:
    """An executor that trains in-process and plants ``score(task, epoch)`` as val_error.
    ``lifo``: the last submitted finishes first (results come back out of order)."""

    def __init__(self, score, capacity=1, lifo=False):
        self.score, self.capacity, self.lifo = score, capacity, lifo
        self.data = load_data({"data": "digits", "hidden": [16], "seed": 1})
        self.order, self.log = {}, []

    def submit(self, task):
        result = run_trial(task, self.data)
        for point in result.curve:
            point["val_error"] = self.score(task, point["epoch"])
        result.metrics["val_error"] = result.curve[-1]["val_error"]
        future = cf.Future()
        future.set_result(result)
        self.order[future] = len(self.order)
        self.log.append((task.index, task.seed, task.epochs_from, task.epochs_to))
        return future

    def wait_first(self, futures):
        pick = (max if self.lifo else min)(futures, key=self.order.__getitem__)
        return {pick}, set(futures) - {pick}

    def close(self):
        pass


# --- 1. refine rounds -------------------------------------------------------------------------

def test_refined_round_lies_in_the_best_box_and_table_is_the_same_for_1_and_2_jobs(tmp_path):
    extra = "refine_rounds = 1\nrefine_top = 3"
    path = write(tmp_path, extra)
    lines = []
    run_search(path, tmp_path / "one", jobs=1, out=lines.append)
    assert lines[0] == "budget: 6 trials × 2 epochs × 2 rounds (1 + 1 refined) = 24 trial-epochs"
    run_search(path, tmp_path / "two", jobs=2, out=quiet)
    assert (tmp_path / "one" / "table.csv").read_text() == (tmp_path / "two" / "table.csv").read_text()
    assert "round" in (tmp_path / "one" / "table.csv").read_text().splitlines()[0].split(",")
    spec = load_search(path)
    with TrialStore(tmp_path / "one" / "trials.sqlite") as store:
        rows = store.rows()
        rounds = store.rounds()
        assert store.test_count() == 1 and store.executions() == 12
    assert [r["index"] for r in rows] == list(range(12))
    assert [r["round"] for r in rows] == [0] * 6 + [1] * 6
    assert all(r["status"] == "finished" for r in rows)
    best = sorted((r for r in rows if r["round"] == 0), key=lambda r: sort_key(r, "val_error"))[:3]
    space = refine(spec.space, [r["params"] for r in best], k=3)
    assert [(r["round"], r["first"], r["size"], r["digest"]) for r in rounds] == [
        (0, 0, 6, spec.space.digest()), (1, 6, 6, space.digest())]
    for row in rows[6:]:
        assert (row["params"], row["seed"]) == space.trial(row["index"] - 6, spec.seed)  # pure function
        for name, (low, high) in {"lr": (0.003, 0.3), "momentum": (0.0, 0.95)}.items():
            box = [b["params"][name] for b in best]
            assert min(box) <= row["params"][name] <= max(box)
            assert low <= row["params"][name] <= high


def test_a_search_interrupted_in_round_2_resumes_there(tmp_path):
    path = write(tmp_path, "refine_rounds = 1\nrefine_top = 2", trials=3)
    planted = lambda task, epoch: 0.5 - 0.01 * epoch - 0.001 * task.index  # noqa: E731
    run_search(path, tmp_path / "whole", executor=Planted(planted), out=quiet)
    run_search(path, tmp_path / "cut", executor=Planted(planted), out=quiet)
    # as if killed while round 2 ran: trial 4 in flight, trial 5 not started, no test yet
    with sqlite3.connect(tmp_path / "cut" / "trials.sqlite") as c:
        c.execute("UPDATE trials SET status = 'running', epochs = 0, curve = '[]', metrics = '{}' WHERE idx = 4")
        c.execute("UPDATE trials SET status = 'queued', epochs = 0, curve = '[]', metrics = '{}', "
                  "attempts = 0 WHERE idx = 5")
        c.execute("DELETE FROM tests")
    executor = Planted(planted)
    lines = []
    run_search(path, tmp_path / "cut", executor=executor, out=lines.append)
    assert lines[1] == "resuming: 4/6 done, 1 interrupted trial re-queued"
    assert [entry[0] for entry in executor.log] == [4, 5]  # only round 2's unfinished trials ran
    with TrialStore(tmp_path / "cut" / "trials.sqlite") as store:
        assert [r["attempts"] for r in store.rows()] == [1, 1, 1, 1, 2, 1] and store.test_count() == 1
    assert (tmp_path / "cut" / "table.csv").read_text() == (tmp_path / "whole" / "table.csv").read_text()


def test_a_store_from_before_rounds_is_migrated(tmp_path):
    path = tmp_path / "trials.sqlite"
    with sqlite3.connect(path) as c:
        c.executescript("""
            CREATE TABLE search (id INTEGER PRIMARY KEY, digest TEXT NOT NULL, settings TEXT NOT NULL,
                                 created REAL NOT NULL);
            CREATE TABLE trials (search INTEGER NOT NULL DEFAULT 1, idx INTEGER NOT NULL, params TEXT NOT NULL,
                seed INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
                epochs INTEGER NOT NULL DEFAULT 0, curve TEXT NOT NULL DEFAULT '[]',
                metrics TEXT NOT NULL DEFAULT '{}', duration REAL NOT NULL DEFAULT 0, worker TEXT,
                traceback TEXT, UNIQUE (search, idx));
            INSERT INTO search VALUES (1, 'abc', '{}', 0);
            INSERT INTO trials (idx, params, seed) VALUES (0, '{"lr": 0.1}', 7);
        """)
    with TrialStore(path) as store:
        assert store.rows()[0]["round"] == 0 and store.rounds() == [] and store.reruns() == []
        store.add(1, {"lr": 0.2}, 8, round=1)
        assert [r["round"] for r in store.rows()] == [0, 1]


# --- 2. re-runs -------------------------------------------------------------------------------

def test_reruns_report_mean_and_std_and_select_on_the_mean(tmp_path):
    path = write(tmp_path, "rerun_top = 2\nrerun_seeds = 3", trials=3)
    spec = load_search(path)
    own = {spec.space.trial(i, spec.seed)[1]: i for i in range(3)}
    # the single runs rank trial 0 first, but its re-runs are worse on average than trial 1's
    single = {0: 0.10, 1: 0.20, 2: 0.30}
    again = {0: 0.40, 1: 0.25}
    seeds = {s: (i, j) for i in (0, 1) for j, s in enumerate(rerun_seeds(spec.seed, i, 3))}

    def score(task, epoch):
        if task.seed in own:
            return single[task.index]
        index, j = seeds[task.seed]
        return again[index] + 0.01 * j

    lines = []
    result = run_search(path, tmp_path / "s", executor=Planted(score), out=lines.append)
    assert lines[0] == "budget: 3 trials × 2 epochs + 2 × 3 re-runs × 2 epochs = 18 trial-epochs"
    with TrialStore(tmp_path / "s" / "trials.sqlite") as store:
        reruns = store.reruns()
        assert store.test()["index"] == 1 and store.test_count() == 1
        assert store.executions() == 3  # re-runs are kept apart from the trials
    assert [(r["index"], r["rep"], r["status"], r["epochs"]) for r in reruns] == [
        (i, j, "finished", 2) for i in (0, 1) for j in range(3)]
    assert [r["seed"] for r in reruns] == rerun_seeds(spec.seed, 0, 3) + rerun_seeds(spec.seed, 1, 3)
    assert rerun_seeds(spec.seed, 0, 3) != rerun_seeds(spec.seed, 1, 3)
    assert result.best["index"] == 1
    assert result.reruns[0]["mean"] == pytest.approx(0.41) and result.reruns[0]["std"] == pytest.approx(0.01)
    assert result.reruns[1]["mean"] == pytest.approx(0.26) and result.reruns[1]["n"] == 3
    table = (tmp_path / "s" / "table.csv").read_text().splitlines()
    header = table[0].split(",")
    cells = {row.split(",")[1]: dict(zip(header, row.split(","))) for row in table[1:]}
    assert cells["0"]["rerun_val_error"] == "0.41 ± 0.01" and cells["1"]["rerun_val_error"] == "0.26 ± 0.01"
    assert cells["2"]["rerun_val_error"] == "" and cells["1"]["reruns"] == "3"
    printed = "\n".join(lines)
    assert "trial 1 " in printed and "0.26 ± 0.01" in printed and "best: trial 1" in printed
    # resumed: nothing runs again
    executor = Planted(score)
    run_search(path, tmp_path / "s", executor=executor, out=quiet)
    assert executor.log == []


# --- 3. Hyperband and ASHA ----------------------------------------------------------------------

def test_hyperband_brackets_halve_and_promoted_trials_continue(tmp_path):
    path = write(tmp_path, 'pruning = "hyperband"\neta = 3\nmin_epochs = 1',
                 trials=5, epochs=3)
    base = {0: 0.3, 1: 0.1, 2: 0.2, 3: 0.5, 4: 0.4}
    executor = Planted(lambda task, epoch: base[task.index] - 0.01 * epoch, capacity=2)
    lines = []
    result = run_search(path, tmp_path / "s", executor=executor, out=lines.append)
    brackets = pruning.hyperband_brackets(3, 3, 1)
    assert brackets == [[(3, 1), (1, 3)], [(2, 3)]]
    assert lines[0] == ("budget: 5 trials × 3 epochs = 11 trial-epochs "
                        "(hyperband, eta 3, brackets 3 trials @ [1, 3], 2 trials @ [3])")
    with TrialStore(tmp_path / "s" / "trials.sqlite") as store:
        rows = {r["index"]: r for r in store.rows()}
    # bracket 0 (trials 0-2): the plan's counts per rung, the promoted one by pruning.promote
    first = pruning.promote({i: rows[i]["curve"][0]["val_error"] for i in (0, 1, 2)}, 1)
    assert first == [1]
    for n, epochs in brackets[0]:
        assert sum(rows[i]["epochs"] >= epochs for i in (0, 1, 2)) == n
    assert {i: rows[i]["status"] for i in rows} == {0: "pruned", 1: "finished", 2: "pruned",
                                                    3: "finished", 4: "finished"}
    # trial 1 continued from its saved weights: 1 + 2 epochs, one curve, two attempts
    assert [e for e in executor.log if e[0] == 1] == [(1, rows[1]["seed"], 0, 1), (1, rows[1]["seed"], 1, 3)]
    assert [p["epoch"] for p in rows[1]["curve"]] == [1, 2, 3] and rows[1]["attempts"] == 2
    assert sum(e[3] - e[2] for e in executor.log) == 11
    assert result.best["index"] == 1  # 0.1 - 0.03 beats the bracket-1 trials


def _asha_replay(curves: dict, budgets: list, eta: int) -> dict:
    """By hand: per rung in the fixed order, each new score, then asha_decision for every waiting trial."""
    order, reached = [sorted(curves)] + [[] for _ in budgets[1:]], {}
    for k, budget in enumerate(budgets):
        seen, promoted = [], set()
        for i in order[k]:
            reached[i] = budget
            seen.append((i, curves[i][budget - 1]))
            if k + 1 < len(budgets):
                for j, _ in list(seen):
                    if j not in promoted and pruning.asha_decision({k: seen}, j, k, eta):
                        promoted.add(j)
                        order[k + 1].append(j)
    return reached


@pytest.mark.parametrize("capacity, lifo", [(1, False), (3, True)], ids=["in-order", "out-of-order"])
def test_asha_promotes_as_decided_and_continues(tmp_path, capacity, lifo):
    path = write(tmp_path, 'pruning = "asha"\neta = 2\nmin_epochs = 1', epochs=4)
    base = {0: 0.5, 1: 0.4, 2: 0.3, 3: 0.2, 4: 0.1, 5: 0.05}
    score = lambda task, epoch: base[task.index] - 0.01 * epoch  # noqa: E731
    executor = Planted(score, capacity=capacity, lifo=lifo)
    lines = []
    result = run_search(path, tmp_path / "s", executor=executor, out=lines.append)
    assert lines[0] == "budget: 6 trials × 4 epochs = at most 24 trial-epochs (ASHA, eta 2, rungs [1, 2, 4])"
    with TrialStore(tmp_path / "s" / "trials.sqlite") as store:
        rows = {r["index"]: r for r in store.rows()}
    curves = {i: [base[i] - 0.01 * e for e in range(1, 5)] for i in base}
    expected = _asha_replay(curves, [1, 2, 4], 2)
    assert expected == {0: 1, 1: 2, 2: 4, 3: 4, 4: 4, 5: 4}  # asynchronous: more than halving keeps
    assert {i: r["epochs"] for i, r in rows.items()} == expected
    assert {i: r["status"] for i, r in rows.items()} == {0: "pruned", 1: "pruned", 2: "finished",
                                                         3: "finished", 4: "finished", 5: "finished"}
    for i, row in rows.items():  # promoted trials continued: contiguous pieces adding up to their epochs
        pieces = [(e[2], e[3]) for e in executor.log if e[0] == i]
        assert pieces[0][0] == 0 and all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
        assert pieces[-1][1] == row["epochs"] == len(row["curve"]) and row["attempts"] == len(pieces)
    assert sum(e[3] - e[2] for e in executor.log) == 1 + 2 + 4 * 4
    assert result.best["index"] == 5


def test_asha_table_does_not_depend_on_completion_order(tmp_path):
    path = write(tmp_path, 'pruning = "asha"\neta = 2\nmin_epochs = 1', epochs=4)
    base = {0: 0.2, 1: 0.4, 2: 0.1, 3: 0.3, 4: 0.05, 5: 0.5}
    score = lambda task, epoch: base[task.index] + 0.02 * math.sin(task.index + epoch)  # noqa: E731
    run_search(path, tmp_path / "a", executor=Planted(score, capacity=1), out=quiet)
    run_search(path, tmp_path / "b", executor=Planted(score, capacity=4, lifo=True), out=quiet)
    assert (tmp_path / "a" / "table.csv").read_text() == (tmp_path / "b" / "table.csv").read_text()
