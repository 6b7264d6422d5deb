"""The trial store: WAL, one row per trial index, the digest check, requeue, the one test row."""

import sqlite3

import pytest

from ravine.select.store import TrialStore


@pytest.fixture
def store(tmp_path):
    s = TrialStore(tmp_path / "trials.sqlite")
    s.open_or_create("abc", {"seed": 0})
    yield s
    s.close()


def test_wal_and_unique_index(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.add(0, {"lr": 0.1}, 7)
    store.add(0, {"lr": 0.9}, 8)  # idempotent: the first one stays
    assert [(r["index"], r["params"], r["seed"]) for r in store.rows()] == [(0, {"lr": 0.1}, 7)]
    with pytest.raises(sqlite3.IntegrityError):
        with store.conn:
            store.conn.execute("INSERT INTO trials (search, idx, params, seed) VALUES (1, 0, '{}', 1)")


def test_lifecycle_counts_and_executions(store):
    for i in range(3):
        store.add(i, {"lr": i}, i)
    store.start(0, "w:1")
    store.record(0, 5, [{"epoch": 1, "val_error": 0.5}], {"val_error": 0.5, "x": float("nan")}, 1.5)
    store.start(1, "w:2")
    store.fail(1, "Traceback ...")
    store.start(2, "w:1")
    store.prune(2)
    c = store.counts()
    assert (c["finished"], c["failed"], c["pruned"], c["queued"], c["total"]) == (1, 1, 1, 0, 3)
    row = store.row(0)
    assert row["epochs"] == 5 and row["metrics"] == {"val_error": 0.5, "x": None} and row["attempts"] == 1
    assert store.row(1)["traceback"] == "Traceback ..."
    assert store.executions() == 3
    with pytest.raises(KeyError):
        store.start(9)


def test_requeue_interrupted_keeps_attempts(tmp_path):
    path = tmp_path / "trials.sqlite"
    s = TrialStore(path)
    s.open_or_create("d", {})
    for i in range(3):
        s.add(i, {}, i)
    s.start(0)
    s.record(0, 1, [], {}, 0.1)
    s.start(1)
    s.start(2)
    s.close()  # the coordinator died with 1 and 2 running
    s = TrialStore(path)
    assert s.open_or_create("d", {}) is True
    assert s.requeue_interrupted() == 2
    assert s.counts()["queued"] == 2 and s.counts()["finished"] == 1
    s.start(1)
    assert s.row(1)["attempts"] == 2 and s.executions() == 4
    s.close()


def test_changed_digest_refused_unless_forced(store):
    store.add(0, {}, 0)
    with pytest.raises(ValueError, match="different search.*--force"):
        store.open_or_create("other", {})
    assert store.search()["digest"] == "abc" and len(store.rows()) == 1
    assert store.open_or_create("other", {"seed": 1}, force=True) is False
    assert store.search()["digest"] == "other" and store.rows() == []


def test_test_set_recorded_at_most_once(store):
    store.add(0, {}, 0)
    assert store.test() is None
    store.record_test(0, {"error": 0.1})
    with pytest.raises(ValueError, match="already evaluated"):
        store.record_test(0, {"error": 0.2})
    assert store.test() == {"index": 0, "metrics": {"error": 0.1}} and store.test_count() == 1


def test_open_existing_refuses_a_folder_that_is_not_a_search(tmp_path):
    with pytest.raises(ValueError, match="not a search folder"):
        TrialStore.open_existing(tmp_path / "trials.sqlite")
    (tmp_path / "trials.sqlite").write_text("not a database")
    with pytest.raises(ValueError, match="not a search folder"):
        TrialStore.open_existing(tmp_path / "trials.sqlite")
