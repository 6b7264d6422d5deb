"""The trial store: one SQLite file (WAL) in the search folder; only the coordinator writes it.

Why SQLite and why one writer: many processes writing one SQLite file give "database is locked";
workers here return results and the coordinator alone records them. WAL lets ``ravine search
status`` read while a search writes. Keep the file on a local disk (WAL needs shared memory).

Tables:

- ``search``: the search's digest (a hash of its space and settings), settings JSON, creation time.
  Resuming a search whose digest changed is refused unless forced (then it starts over).
- ``trials``: one row per (search, trial index) — UNIQUE, so a trial can never run twice as two
  rows — with its params, seed, status (queued | running | finished | failed | pruned), attempts,
  epochs trained, per-epoch curve, metrics, duration, worker and traceback.
- ``tests``: the test-set evaluation of the chosen configuration; at most one row, ever.
- ``trials.round``: the refine round a trial belongs to (0: the first round); ``rounds``: each
  round's space (digest, JSON, first trial index, size), so a resumed search checks that the
  refined space it recomputes is the one it ran.
- ``reruns``: the re-runs of the best configurations with other training seeds (trial index,
  rep, seed, status, attempts, epochs, curve, metrics, …), UNIQUE per (trial, rep).

A store from before ``round``/``rounds``/``reruns`` existed is migrated when opened (the column
is added with the default 0, the tables created empty): its trials were all of round 0.

A trial still ``running`` when a search starts again is stale (its coordinator died):
``requeue_interrupted`` puts it back in the queue; the attempt it used stays counted.

Example::

    store = TrialStore("searches/x/trials.sqlite")
    store.open_or_create(digest, {"seed": 0})
    store.add(0, {"lr": 0.1}, seed=123)
    store.start(0, worker="host:42")
    store.record(0, epochs=5, curve=[...], metrics={"val_error": 0.1}, duration=1.2)
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path

STATUSES = ("queued", "running", "finished", "failed", "pruned")
STORE_NAME = "trials.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS search (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    digest TEXT NOT NULL,
    settings TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    search INTEGER NOT NULL DEFAULT 1 REFERENCES search(id),
    idx INTEGER NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'finished', 'failed', 'pruned')),
    attempts INTEGER NOT NULL DEFAULT 0,
    epochs INTEGER NOT NULL DEFAULT 0,
    curve TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}',
    duration REAL NOT NULL DEFAULT 0,
    worker TEXT,
    traceback TEXT,
    round INTEGER NOT NULL DEFAULT 0,
    UNIQUE (search, idx)
);
CREATE TABLE IF NOT EXISTS rounds (
    round INTEGER PRIMARY KEY,
    digest TEXT NOT NULL,
    first INTEGER NOT NULL,
    size INTEGER NOT NULL,
    space TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reruns (
    idx INTEGER NOT NULL,
    rep INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'finished', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    epochs INTEGER NOT NULL DEFAULT 0,
    curve TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}',
    duration REAL NOT NULL DEFAULT 0,
    worker TEXT,
    traceback TEXT,
    UNIQUE (idx, rep)
);
CREATE TABLE IF NOT EXISTS tests (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    idx INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    created REAL NOT NULL
);
"""


def _json(value) -> str:
    """JSON with non-finite floats as null (SQLite and readers need plain JSON)."""
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if hasattr(v, "item") and callable(v.item):  # numpy scalars
            return clean(v.item())
        return v
    return json.dumps(clean(value), sort_keys=True)


class TrialStore:
    """The SQLite trial store at ``path`` (created if missing). See the module docstring."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"cannot open the trial store {self.path}: its folder does not exist")
        self.conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a store written before the ``round`` column existed up to date (its trials: round 0)."""
        columns = {row["name"] for row in self.conn.execute("PRAGMA table_info(trials)")}
        if "round" not in columns:
            with self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                columns = {row["name"] for row in self.conn.execute("PRAGMA table_info(trials)")}
                if "round" not in columns:
                    self.conn.execute("ALTER TABLE trials ADD COLUMN round INTEGER NOT NULL DEFAULT 0")

    @classmethod
    def open_existing(cls, path) -> "TrialStore":
        """A store that must already hold a search (for status/table/best), else ValueError."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path.parent} is not a search folder (no {path.name})")
        try:
            store = cls(path)
            if store.search() is None:
                raise ValueError(f"{path.parent} is not a search folder ({path.name} holds no search)")
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{path.parent} is not a search folder ({path.name}: {error})") from None
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self, sql: str, args=()) -> sqlite3.Cursor:
        with self.conn:  # one transaction per change
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn.execute(sql, args)

    # --- the search ---------------------------------------------------------------------------
    def search(self) -> dict | None:
        row = self.conn.execute("SELECT digest, settings, created FROM search WHERE id = 1").fetchone()
        if row is None:
            return None
        return {"digest": row["digest"], "settings": json.loads(row["settings"]), "created": row["created"]}

    def open_or_create(self, digest: str, settings: dict, force: bool = False) -> bool:
        """Record the search, or check it is the one stored. Returns True if it was already there.

        A different digest raises ValueError (resuming a changed search would mix its trials)
        unless ``force``, which throws the old trials and test away and starts over."""
        if not isinstance(digest, str) or not digest:
            raise ValueError(f"digest must be a non-empty string; got {digest!r}")
        known = self.search()
        if known is not None and known["digest"] == digest:
            return True
        if known is not None and not force:
            raise ValueError(f"{self.path.parent} holds a different search (its space or settings changed: "
                             f"digest {known['digest'][:12]} vs {digest[:12]}); use --force to start it over "
                             f"or choose another --out")
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("DELETE FROM trials")
            self.conn.execute("DELETE FROM tests")
            self.conn.execute("DELETE FROM reruns")
            self.conn.execute("DELETE FROM rounds")
            self.conn.execute("DELETE FROM search")
            self.conn.execute("INSERT INTO search (id, digest, settings, created) VALUES (1, ?, ?, ?)",
                              (digest, _json(settings), time.time()))
        return False

    # --- trials -------------------------------------------------------------------------------
    def add(self, index: int, params: dict, seed: int, round: int = 0) -> None:
        """Queue trial ``index`` of refine round ``round`` (nothing happens if it is already there)."""
        self._write("INSERT OR IGNORE INTO trials (search, idx, params, seed, round) VALUES (1, ?, ?, ?, ?)",
                    (int(index), _json(params), int(seed), int(round)))

    # --- rounds -------------------------------------------------------------------------------
    def add_round(self, round: int, digest: str, first: int, size: int, space: dict) -> dict:
        """Record refine round ``round``'s space (kept if already there); returns the stored round."""
        self._write("INSERT OR IGNORE INTO rounds (round, digest, first, size, space) VALUES (?, ?, ?, ?, ?)",
                    (int(round), str(digest), int(first), int(size), _json(space)))
        return [r for r in self.rounds() if r["round"] == int(round)][0]

    def rounds(self) -> list[dict]:
        """Every recorded round (round, digest, first, size, space), by round."""
        return [{"round": r["round"], "digest": r["digest"], "first": r["first"], "size": r["size"],
                 "space": json.loads(r["space"])}
                for r in self.conn.execute("SELECT * FROM rounds ORDER BY round")]

    # --- reruns -------------------------------------------------------------------------------
    def add_rerun(self, index: int, rep: int, seed: int) -> None:
        """Queue re-run ``rep`` of trial ``index``'s configuration with training seed ``seed`` (idempotent)."""
        self._write("INSERT OR IGNORE INTO reruns (idx, rep, seed) VALUES (?, ?, ?)", (int(index), int(rep), int(seed)))

    def _update_rerun(self, index: int, rep: int, sql: str, args=()) -> None:
        cursor = self._write(f"UPDATE reruns SET {sql} WHERE idx = ? AND rep = ?", (*args, int(index), int(rep)))
        if cursor.rowcount != 1:
            raise KeyError(f"re-run {rep} of trial {index} is not in the store {self.path}")

    def start_rerun(self, index: int, rep: int, worker: str | None = None) -> None:
        self._update_rerun(index, rep, "status = 'running', attempts = attempts + 1, worker = ?", (worker,))

    def record_rerun(self, index: int, rep: int, epochs: int, curve: list, metrics: dict, duration: float,
                     worker: str | None = None) -> None:
        self._update_rerun(index, rep, "status = 'finished', epochs = ?, curve = ?, metrics = ?, "
                           "duration = duration + ?, worker = COALESCE(?, worker), traceback = NULL",
                           (int(epochs), _json(curve), _json(metrics), float(duration), worker))

    def fail_rerun(self, index: int, rep: int, traceback: str) -> None:
        self._update_rerun(index, rep, "status = 'failed', traceback = ?", (str(traceback),))

    def reruns(self) -> list[dict]:
        """Every re-run as a dict (JSON parsed), by (trial index, rep)."""
        out = []
        for row in self.conn.execute("SELECT * FROM reruns ORDER BY idx, rep"):
            item = dict(row)
            item["index"] = item.pop("idx")
            for key in ("curve", "metrics"):
                item[key] = json.loads(item[key])
            out.append(item)
        return out

    def _update(self, index: int, sql: str, args=()) -> None:
        cursor = self._write(f"UPDATE trials SET {sql} WHERE search = 1 AND idx = ?", (*args, int(index)))
        if cursor.rowcount != 1:
            raise KeyError(f"trial {index} is not in the store {self.path}")

    def start(self, index: int, worker: str | None = None) -> None:
        """Mark trial ``index`` running and count the attempt."""
        self._update(index, "status = 'running', attempts = attempts + 1, worker = ?", (worker,))

    def record(self, index: int, epochs: int, curve: list, metrics: dict, duration: float,
               worker: str | None = None) -> None:
        """Trial ``index`` finished ``epochs`` epochs in all; ``curve`` is its whole per-epoch curve."""
        self._update(index, "status = 'finished', epochs = ?, curve = ?, metrics = ?, "
                     "duration = duration + ?, worker = COALESCE(?, worker), traceback = NULL",
                     (int(epochs), _json(curve), _json(metrics), float(duration), worker))

    def fail(self, index: int, traceback: str) -> None:
        self._update(index, "status = 'failed', traceback = ?", (str(traceback),))

    def prune(self, index: int) -> None:
        self._update(index, "status = 'pruned'")

    def requeue_interrupted(self) -> int:
        """Put trials (and re-runs) left ``running`` (by a coordinator that died) back in the queue;
        how many trials."""
        self._write("UPDATE reruns SET status = 'queued' WHERE status = 'running'")
        return self._write("UPDATE trials SET status = 'queued' WHERE status = 'running'").rowcount

    def counts(self) -> dict:
        """{status: number of trials} for every status (zeros included), and "total"."""
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.conn.execute("SELECT status, COUNT(*) AS n FROM trials GROUP BY status"):
            counts[row["status"]] = row["n"]
        counts["total"] = sum(counts[s] for s in STATUSES)
        return counts

    def rows(self) -> list[dict]:
        """Every trial as a dict (JSON parsed), by index."""
        out = []
        for row in self.conn.execute("SELECT * FROM trials ORDER BY idx"):
            item = dict(row)
            item["index"] = item.pop("idx")
            for key in ("params", "curve", "metrics"):
                item[key] = json.loads(item[key])
            out.append(item)
        return out

    def row(self, index: int) -> dict:
        for item in self.rows():
            if item["index"] == index:
                return item
        raise KeyError(f"trial {index} is not in the store {self.path}")

    def executions(self) -> int:
        """Σ attempts: how many times trials were started."""
        return int(self.conn.execute("SELECT COALESCE(SUM(attempts), 0) FROM trials").fetchone()[0])

    # --- the test set -------------------------------------------------------------------------
    def record_test(self, index: int, metrics: dict) -> None:
        """Record the one test-set evaluation; a second one raises ValueError."""
        try:
            self._write("INSERT INTO tests (id, idx, metrics, created) VALUES (1, ?, ?, ?)",
                        (int(index), _json(metrics), time.time()))
        except sqlite3.IntegrityError:
            raise ValueError(f"the test set of this search was already evaluated (trial "
                             f"{self.test()['index']}); it is evaluated once") from None

    def test(self) -> dict | None:
        row = self.conn.execute("SELECT idx, metrics FROM tests WHERE id = 1").fetchone()
        return None if row is None else {"index": row["idx"], "metrics": json.loads(row["metrics"])}

    def test_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM tests").fetchone()[0])
