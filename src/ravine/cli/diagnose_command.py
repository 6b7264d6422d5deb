"""Diagnose the point a run ended at: gradient norm, extreme Hessian eigenvalues, and a verdict
(minimum, saddle, maximum, plateau or not critical), on the training objective of its training data."""

from __future__ import annotations

from ..diagnose import diagnose_point
from .options import positive_float, positive_int
from .run_access import open_finished_run, training_rows

HELP = "minimum, saddle or plateau? the Hessian at a run's final weights"


def add_arguments(p) -> None:
    p.add_argument("run", metavar="RUN", help="a run folder written by ravine train")
    p.add_argument("--rows", type=positive_int, default=1000, help="training examples in the loss (a seeded sample)")
    p.add_argument("--k", type=positive_int, default=3, help="how many lowest and highest eigenvalues")
    p.add_argument("--grad-tol", type=positive_float, default=1e-5, help="gradient norm counted as zero")
    p.add_argument("--curvature-tol", type=positive_float, default=1e-5, help="eigenvalue counted as zero")


def run(args) -> int:
    finished = open_finished_run(args.run)
    X, y = training_rows(finished, args.rows)
    report = diagnose_point(finished.objective(X, y), finished.model.parameters(), k=args.k,
                            grad_tol=args.grad_tol, curvature_tol=args.curvature_tol, model=finished.model)
    print(f"{finished.folder.path}: the training objective on {len(X)} training examples")
    print(report)
    return 0
