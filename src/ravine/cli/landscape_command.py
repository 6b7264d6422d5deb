"""Plot a run's loss landscape as a PNG: along the line from its initial to its final weights, or on
a 2-D slice around the final weights along two random filter-normalized directions (Li et al., 2018)."""

from __future__ import annotations

from pathlib import Path

from ..diagnose import loss_along_line, loss_surface_2d, plot_line, plot_surface
from .build import build_model
from .options import positive_float, positive_int
from .run_access import open_finished_run, training_rows

HELP = "plot a run's loss landscape (line from init to final, or a 2-D slice)"


def add_arguments(p) -> None:
    p.add_argument("run", metavar="RUN", help="a run folder written by ravine train")
    p.add_argument("--kind", choices=("line", "surface"), default="line", help="which plot")
    p.add_argument("--output", metavar="FILE.png", help="default: RUN/landscape-<kind>.png")
    p.add_argument("--rows", type=positive_int, default=1000, help="training examples in the loss")
    p.add_argument("--steps", type=positive_int, default=None, help="points per axis (line 51, surface 21)")
    p.add_argument("--span", type=positive_float, default=1.0, help="surface: α, β ∈ [−span, span]")
    p.add_argument("--seed", type=int, default=0, help="surface: seed of the random directions")


def run(args) -> int:
    finished = open_finished_run(args.run)
    model = finished.model
    X, y = training_rows(finished, args.rows)
    loss_fn = finished.objective(X, y)
    output = Path(args.output) if args.output else finished.folder.path / f"landscape-{args.kind}.png"
    if output.suffix.lower() != ".png":
        raise ValueError(f"--output {output}: the plot is a PNG; give a path ending in .png")
    title = f"{finished.folder.path.name}: training objective on {len(X)} examples"
    if args.kind == "line":
        initial = build_model(finished.config, model.in_features, model.out_features)
        result = loss_along_line(loss_fn, model.parameters(), initial, model, steps=args.steps or 51,
                                 model=model, labels=("init", "trained"))
        plot_line(result, output, title=title)
    else:
        result = loss_surface_2d(loss_fn, model.parameters(), span=args.span, steps=args.steps or 21,
                                 seed=args.seed, model=model)
        plot_surface(result, output, title=title)
    print(f"wrote {output}")
    return 0
