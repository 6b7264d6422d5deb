"""Find a first learning rate: the learning-rate range test, beside the curvature bound 2gᵀg/gᵀHg.

Builds the data, model and optimizer from the same options as ``ravine train`` (defaults, then
``--config FILE.toml``, then the flags), then trains a short run on the training split with the
learning rate growing geometrically from --start-lr to --end-lr, one mini-batch per rate, and
prints the suggested first learning rate (``ravine.select.lr_find`` says how it is chosen). Nothing
is saved but the plot (``--plot PATH.png``): the smoothed loss against the rate, and beside it the
stable rate 2gᵀg/gᵀHg measured along the way. ``ravine train --lr <suggestion>`` then trains with it.
"""

from __future__ import annotations

import argparse

from ..select.lr_find import _check_png, lr_find, plot_lr_find
from .build import build_run
from .options import positive_float, positive_int
from .train_command import config_from
from .train_options import add_train_options

HELP = "suggest a first learning rate (learning-rate range test beside the curvature bound)"
FORMATTER = argparse.RawDescriptionHelpFormatter


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE.toml", help="read options from a TOML file (flags override it)")
    p.add_argument("--start-lr", type=positive_float, default=1e-6, metavar="LR",
                   help="the first learning rate tried (default: 1e-6)")
    p.add_argument("--end-lr", type=positive_float, default=10.0, metavar="LR",
                   help="the last learning rate tried (default: 10)")
    p.add_argument("--steps", type=positive_int, default=100, metavar="N",
                   help="mini-batches in the test, one per rate (default: 100; at least 5)")
    p.add_argument("--plot", metavar="PATH.png", help="write the plot to this PNG file")
    add_train_options(p)


def run(args) -> int:
    config = config_from(args)
    plot = _check_png(args.plot) if args.plot else None  # refuse a bad path before training
    if args.end_lr <= args.start_lr:
        raise ValueError(f"--end-lr must be > --start-lr; got --start-lr {args.start_lr:g}, "
                         f"--end-lr {args.end_lr:g}")
    if args.steps < 5:
        raise ValueError(f"--steps must be at least 5; got {args.steps}")
    splits, model, trainer = build_run(config, progress=False)
    Xtr, ytr = splits.train
    widths = [model.in_features, *model.hidden, model.out_features]
    print(f"data {splits.dataset.name}: {len(Xtr)} train examples; model {'-'.join(map(str, widths))} "
          f"{config.activation}; {config.optimizer} batch={config.batch_size}; "
          f"lr {args.start_lr:g} → {args.end_lr:g} over {args.steps} steps")
    result = lr_find(trainer, Xtr, ytr, start_lr=args.start_lr, end_lr=args.end_lr, steps=args.steps,
                     seed=config.seed)
    print(f"{len(result.lrs)} steps; {result.stop_reason}")
    print(f"lowest smoothed loss at lr {result.min_loss_lr:.3g}; steepest descent at lr {result.steepest_lr:.3g}")
    if result.stable_cap is not None:
        print(f"stable rate 2gᵀg/gᵀHg (median up to the lowest loss): {result.stable_cap:.3g}"
              + (" — caps the suggestion" if result.capped else ""))
    if plot is not None:
        plot_lr_find(result, plot)
        print(f"plot written to {plot}")
    print(f"suggested learning rate {result.suggestion:.3g}")
    return 0
