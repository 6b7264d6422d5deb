"""A search's live table on a terminal (rich), refreshed as results arrive; plain lines otherwise.

``run_search(progress="auto")`` shows the live table only when stdout is a terminal (and the output
goes to ``print``); otherwise it prints today's plain line per result, so logs and tests are
unchanged. The table has one row per trial (index, round, status, epochs, the validation metric,
the hyper-parameters); its caption the counts and the best trial so far. Messages (rung decisions,
failures, rounds) are printed above it.

Example::

    view = LiveTable(["lr"], "val_error", total=8)
    with view:
        view.update(store.rows())
        view.print("rung 0 (1 epochs): 4 of 8 trials continue: [0, 2, 5, 7]")
"""

from __future__ import annotations

import math
import sys

MODES = ("auto", "live", "lines", False)
STATUSES = ("queued", "running", "finished", "pruned", "failed")
STYLES = {"queued": "dim", "running": "bold yellow", "finished": "green", "pruned": "grey50", "failed": "red"}


def resolve_progress(progress, out=print) -> str | bool:
    """``"live"``, ``"lines"`` or False for ``run_search(progress=...)``: "auto" is "live" when
    stdout is a terminal and the output goes to ``print``, "lines" otherwise."""
    if progress is None or progress == "none":
        progress = False
    if progress not in MODES or progress is True:
        raise ValueError(f"progress must be 'auto', 'live', 'lines' or False; got {progress!r}")
    if progress == "auto":
        return "live" if out is print and _isatty() else "lines"
    return progress


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _score(row: dict, metric: str) -> float:
    value = row.get("metrics", {}).get(metric)
    return math.inf if value is None or not math.isfinite(value) else float(value)


def _shown(rows: list[dict], metric: str, max_rows: int | None) -> list[dict]:
    """The rows to show (by trial index): all of them, or — past ``max_rows`` — the running ones,
    then the best by the metric, then the lowest queued indices."""
    if max_rows is None or len(rows) <= max_rows:
        return sorted(rows, key=lambda r: r["index"])
    running = [r for r in rows if r["status"] == "running"]
    scored = sorted((r for r in rows if r["status"] != "running" and math.isfinite(_score(r, metric))),
                    key=lambda r: (_score(r, metric), r["index"]))
    rest = sorted((r for r in rows if r["status"] != "running" and not math.isfinite(_score(r, metric))),
                  key=lambda r: r["index"])
    picked, seen = [], set()
    for row in running + scored + rest:
        if len(picked) >= max_rows:
            break
        if row["index"] not in seen:
            seen.add(row["index"])
            picked.append(row)
    return sorted(picked, key=lambda r: r["index"])


def live_table(rows: list[dict], names: list[str], metric: str, total: int | None = None,
               reruns: list[dict] | None = None, max_rows: int | None = None):
    """The live view of the store's ``rows`` as a ``rich.table.Table`` (a pure function of them).

    ``total``: the trials planned over all rounds (rows not yet queued count as to come);
    ``reruns``: the store's re-run rows, counted in the caption; ``max_rows``: at most this many
    rows (the running ones and the best first)."""
    from rich.table import Table

    counts = {status: sum(1 for r in rows if r["status"] == status) for status in STATUSES}
    done = counts["finished"] + counts["pruned"] + counts["failed"]
    planned = max(total or 0, len(rows))
    table = Table(title=f"search: {done}/{planned} trials done", title_justify="left")
    for column in ("trial", "round", "status", "epochs", metric):
        table.add_column(column, justify="left" if column == "status" else "right",
                         no_wrap=True)
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    best = None
    for row in rows:
        if row["status"] == "finished" and math.isfinite(_score(row, metric)):
            if best is None or (_score(row, metric), row["index"]) < (_score(best, metric), best["index"]):
                best = row
    shown = _shown(rows, metric, max_rows)
    for row in shown:
        value = row.get("metrics", {}).get(metric)
        style = "bold" if best is not None and row["index"] == best["index"] else None
        table.add_row(str(row["index"]), str(row.get("round", 0)),
                      f"[{STYLES[row['status']]}]{row['status']}[/]" if row["status"] in STYLES else row["status"],
                      str(row["epochs"]), "" if value is None else f"{value:.4f}",
                      *(_value(row["params"].get(name)) for name in names), style=style)
    parts = [", ".join(f"{counts[s]} {s}" for s in STATUSES)]
    if planned > len(rows):
        parts[0] += f", {planned - len(rows)} to come"
    if reruns:
        rerun_done = sum(1 for r in reruns if r["status"] in ("finished", "failed"))
        parts.append(f"re-runs {rerun_done}/{len(reruns)} done")
    if best is not None:
        params = " ".join(f"{k}={_value(v)}" for k, v in best["params"].items())
        parts.append(f"best so far: trial {best['index']} {params}: {metric} {best['metrics'][metric]:.4f}")
    else:
        parts.append("best so far: none finished yet")
    if len(shown) < len(rows):
        parts.append(f"showing {len(shown)} of {len(rows)} trials (running and best first)")
    table.caption = "\n".join(parts)
    table.caption_justify = "left"
    return table


class LiveTable:
    """The live table of a running search (``rich.live.Live``): ``update(rows)`` after each change
    in the store, ``print(message)`` for a message above it; a context manager (start/stop)."""

    def __init__(self, names: list[str], metric: str, total: int | None = None, console=None,
                 max_rows: int | None = None, transient: bool = True):
        from rich.console import Console

        self.names, self.metric, self.total = list(names), metric, total
        self.console = console or Console()
        self.max_rows = max_rows
        self.transient = transient
        self._rows, self._reruns = [], None
        self._live = None

    def _limit(self) -> int | None:
        if self.max_rows is not None:
            return self.max_rows
        height = self.console.size.height if self.console.is_terminal else None
        return None if height is None else max(5, height - 10)

    def renderable(self):
        return live_table(self._rows, self.names, self.metric, self.total, self._reruns, self._limit())

    def start(self) -> None:
        from rich.live import Live

        if self._live is None:
            self._live = Live(self.renderable(), console=self.console, auto_refresh=False,
                              transient=self.transient, redirect_stdout=False, redirect_stderr=False)
            self._live.start(refresh=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.update(self.renderable(), refresh=True)
            self._live.stop()
            self._live = None

    def update(self, rows: list[dict], reruns: list[dict] | None = None) -> None:
        self._rows, self._reruns = list(rows), reruns
        if self._live is not None:
            self._live.update(self.renderable(), refresh=True)

    def print(self, message: str) -> None:
        self.console.print(message, highlight=False, markup=False, soft_wrap=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
