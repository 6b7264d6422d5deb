"""The printed report: the epoch table, the second-order table, the denormal table and the targets.

Tables are lists of rows of strings; ``print_report`` draws them with rich on a terminal and as
aligned plain text otherwise (both fit 120 columns for the epoch and second-order tables).
"""

from __future__ import annotations

import sys
from pathlib import Path

from workloads import RAVINE, REFERENCES, TARGETS, target_for

SHORT = {"ravine (graph)": "graph", "ravine (compiled)": "compiled", "ravine (Trainer)": "Trainer"}


def fmt_time(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms"


def fmt_us(us: float) -> str:
    return f"{us:.0f} µs" if us >= 100 else f"{us:.1f} µs"


def _mark(value: float, limit: float) -> str:
    return " ✓" if value <= limit else " ✗"


def rounds_cell(res: dict) -> str:
    """Clean rounds used; "n+k?" when k disturbed rounds had to be used too (unreliable)."""
    if res["unreliable"]:
        return f"{res['clean_rounds']}+{res['disturbed_rounds']}?"
    return str(res["clean_rounds"])


def epoch_rows(results: list[dict]) -> tuple[list[str], list[list[str]]]:
    """One row per workload × ravine variant; the references' times on the group's first row."""
    header = ["workload", "batch", "steps", "rounds", *REFERENCES, "ravine", "per step",
              *(f"/{k}" for k in REFERENCES), "/graph"]
    rows = []
    for res in results:
        us = res["median_step_us"]
        for i, rav in enumerate(RAVINE):
            first = i == 0
            row = [res["workload"], str(res["batch"]), str(res["steps"]), rounds_cell(res)] if first else [""] * 4
            row += [fmt_us(us[k]) if first else "" for k in REFERENCES]
            row += [SHORT[rav], fmt_us(us[rav])]
            for ref in REFERENCES:
                value = res["ratios"][f"{rav}/{ref}"]
                target = target_for(res["workload"], res["batch"], ref)
                row.append(f"{value:.2f}" + (_mark(value, target.limit) if target else ""))
            row.append(f"{res['ratios'][f'{rav}/ravine (graph)']:.2f}" if not first else "")
            rows.append(row)
    return header, rows


def hvp_rows(so: dict) -> tuple[list[str], list[list[str]]]:
    ms, r = so["median_call_ms"], so["ratios"]
    limit = so["target"]["limit"]
    header = ["library", "call (forward included)", "rounds", "per call", "HVP/gradient", "ravine/torch"]
    rounds = rounds_cell(so)
    return header, [
        ["ravine", "gradient: rv.grad", rounds, f"{ms['ravine gradient']:.2f} ms", "",
         f"{r['ravine/torch gradient']:.2f}"],
        ["ravine", "HVP: rv.diagnose.hvp (double backprop)", "", f"{ms['ravine HVP']:.2f} ms",
         f"{r['ravine HVP/gradient']:.2f}{_mark(r['ravine HVP/gradient'], limit)}",
         f"{r['ravine HVP/torch grad-of-grad HVP']:.2f}"],
        ["torch", "gradient: autograd.grad", "", f"{ms['torch gradient']:.2f} ms", "", ""],
        ["torch", "HVP: grad of grad", "", f"{ms['torch HVP (grad of grad)']:.2f} ms",
         f"{r['torch grad-of-grad HVP/gradient']:.2f}", ""],
        ["torch", "HVP: autograd.functional.hvp", "", f"{ms['torch HVP (functional.hvp)']:.2f} ms",
         f"{r['torch functional.hvp/gradient']:.2f}", ""],
    ]


DENORMAL_SHORT = {"pre-filled, 1e-39 vs 1e-3": "pre-filled", "after one epoch, as left vs flushed": "after 1 epoch",
                  "update only, 1e-39 vs 0": "update only"}


def denormal_rows(den: dict) -> tuple[list[str], list[list[str]]]:
    header = ["case", "steps", "rounds", "denormal entries", "ravine", "ravine den", "den/norm",
              "numpy", "numpy den", "den/norm"]
    rows = []
    for case, c in den["cases"].items():
        us, ratio = c["median_step_us"], c["ratio_denormal/normal"]
        start, end = c["denormal_entries_at_start"], c["denormal_entries_at_end"]
        entries = (f"{start['denormal']}→{end['denormal']} ({end['numpy denormal']}) "
                   f"vs {start['normal']}→{end['normal']} ({end['numpy normal']})")
        rows.append([DENORMAL_SHORT.get(case, case), str(c["steps"]), rounds_cell(c), entries,
                     fmt_us(us["ravine normal"]), fmt_us(us["ravine denormal"]), f"{ratio['ravine']:.2f}",
                     fmt_us(us["numpy normal"]), fmt_us(us["numpy denormal"]), f"{ratio['numpy']:.2f}"])
    return header, rows


def targets_lines(results: list[dict], den: dict | None, so: dict | None = None) -> list[str]:
    """One line per acceptance target, with every ravine variant's figure."""
    lines = []
    for t in TARGETS:
        res = next((r for r in results if r["workload"] == t.workload and r["batch"] == t.batch), None)
        if res is None:
            continue
        cells = []
        for rav in (RAVINE[1], RAVINE[2], RAVINE[0]):  # compiled and Trainer first: the default path
            value = res["ratios"][f"{rav}/{t.other}"]
            cells.append(f"{SHORT[rav]} {value:.2f}{_mark(value, t.limit)}")
        lines.append(f"{t.source}: {t.workload} batch {t.batch}: ravine/{t.other} ≤ {t.limit:.2f}: "
                     + " · ".join(cells))
    if so:
        r = so["ratios"]
        lines.append(f"{so['target']['source']}: {so['workload']} batch {so['batch']}: one HVP ≤ "
                     f"{so['target']['limit']:.0f}× one gradient: ravine {r['ravine HVP/gradient']:.2f}"
                     f"{_mark(r['ravine HVP/gradient'], so['target']['limit'])} (torch: grad of grad "
                     f"{r['torch grad-of-grad HVP/gradient']:.2f}, functional.hvp "
                     f"{r['torch functional.hvp/gradient']:.2f})")
    if den:
        for case, c in den["cases"].items():
            r = c["ratio_denormal/normal"]["ravine"]
            lines.append(f"issue 3: denormal momentum buffers, {case}: {den.get('ravine_runner', 'ravine')} "
                         f"{r:.2f}× the time per step without them (target: no slow-down, ≈ 1.00)")
    return lines


def _header_line(info: dict) -> str:
    cap = f" · threads capped at {info['threads_cap']}" if info.get("threads_cap") else ""
    return (f"ravine {info['ravine']} ({info['git_commit'] or info['ravine_path']}) · numpy {info['numpy']} "
            f"· torch {info['torch']} ({info['torch_num_threads']} threads) · sklearn {info['sklearn']} "
            f"· {info['cpu_count']} CPUs · {info['cpu_model']}{cap} · BLAS: {'; '.join(info['blas'] or ['?'])}")


def _tables_and_notes(results, den, so) -> tuple[list, list[str]]:
    tables, notes = [], []
    if results:
        tables.append(("One epoch: SGD, momentum 0.9, lr 0.01, float32 — median time per step (epoch = steps × "
                       "step); ratios: median same-round ratio ravine variant/other (< 1: ravine faster)",
                       *epoch_rows(results)))
        notes.append("ravine: graph = the user loop on the flow graph; compiled = the user loop with "
                     "rv.fast.CompiledGradient (bit-identical weights); Trainer = rv.train.Trainer.fit (compiled "
                     "step + shuffling and per-batch gathering). ✓/✗: an issue's acceptance target.")
        kinds = ", ".join(f"{r['workload']} b{r['batch']}: {r.get('trainer_step_kind', '?')}" for r in results)
        notes.append(f"the Trainer's step kind (trainer.step_kind) — {kinds}")
        notes += sorted({r["note"] for r in results if "note" in r})
        mismatched = [f"{r['workload']} b{r['batch']}" for r in results if not r["trainer_check"]["identical"]]
        if mismatched:
            notes.append("warning: the Trainer's weights differ from the compiled loop run on its own batches at "
                         + ", ".join(mismatched))
    if so:
        tables.append((f"Second order (issue 4): one Hessian-vector product vs one gradient, {so['workload']} ReLU, "
                       f"batch {so['batch']}, {so['dtype']}", *hvp_rows(so)))
    if den:
        first = next(iter(den["cases"].values()))
        tables.append((f"Denormal check (issue 3), 40-100-100-10 batch 1: µs per step with momentum buffers "
                       f"holding denormal numbers (den) vs without; {den.get('ravine_runner', 'ravine')}, "
                       f"flushing every {den['ravine_flush_every']} steps, and the floor",
                       *denormal_rows(den)))
        notes.append(f"Denormal entries (of {first['entries']}): at the start → after the steps in ravine "
                     f"(in the floor), with vs without.")
    set_aside = sum(r["disturbed_rounds"] for r in results)
    set_aside += sum(c["disturbed_rounds"] for c in den["cases"].values()) if den else 0
    set_aside += so["disturbed_rounds"] if so else 0
    if set_aside:
        notes.append(f"{set_aside} round(s) disturbed by other processes were set aside and run again; "
                     f"'n+k?' in a rounds column: too few clean rounds, k disturbed ones used "
                     f"(unreliable; rerun on a quiet machine or with --threads 1).")
    return tables, notes


def _is_text(rows, i: int) -> bool:
    """Left-justify the first column and columns of words; numbers go right."""
    return i == 0 or all(not row[i] or row[i][0].isalpha() for row in rows)


def _print_rich(head, tables, lines, out_path) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    console = Console()
    console.print(head, style="dim")
    for title, header, rows in tables:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for i, h in enumerate(header):
            table.add_column(h, justify="left" if _is_text(rows, i) else "right", no_wrap=True)
        previous = None
        for row in rows:  # a rule before each group: a first cell that is new, or follows blank ones
            if row[0] and previous is not None and row[0] != previous:
                table.add_section()
            previous = row[0]
            table.add_row(*row)
        console.print(table)
    for line in lines:
        console.print(line)
    console.print(f"results: {out_path}", style="dim")


def _print_plain(head, tables, lines, out_path) -> None:
    print(head)
    for title, header, rows in tables:
        print()
        print(title)
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        text = [_is_text(rows, i) for i in range(len(header))]

        def line(cells):
            return "  ".join(c.ljust(w) if text[i] else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        print(line(header))
        print("  ".join("-" * w for w in widths))
        for row in rows:
            print(line(row).rstrip())
    print()
    for text in lines:
        print(text)
    print(f"results: {out_path}")


def print_report(info: dict, results: list[dict], den: dict | None, so: dict | None, out_path: Path) -> None:
    tables, notes = _tables_and_notes(results, den, so)
    lines = notes + targets_lines(results, den, so)
    if sys.stdout.isatty():
        _print_rich(_header_line(info), tables, lines, out_path)
    else:
        _print_plain(_header_line(info), tables, lines, out_path)
