"""Check an MLP's backprop gradients against central finite differences, in float64.

Builds the network on a batch of real data, computes the analytic gradient of the loss (plus any
penalty) by backprop and compares every entry with (f(θ+ε) − f(θ−ε)) / 2ε. Exits 0 when every
parameter passes, 1 when one fails (the table shows which and where).
"""

from __future__ import annotations

import argparse

import numpy as np

from .. import data as rdata
from ..diagnose import gradcheck
from ..diagnose.gradcheck import GradcheckError
from ..nn import L1, L2, MLP
from ..nn import functional as F
from .config import ACTIVATIONS
from .options import hidden_sizes, non_negative_float, positive_float, positive_int

HELP = "check backprop gradients against finite differences"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="iris", help=f"a data set ({', '.join(rdata.DATASETS)}) or a file")
    p.add_argument("--label-column", default=None, help="label column of a CSV file (name or index)")
    p.add_argument("--hidden", type=hidden_sizes, default=[8, 8], help="hidden layer sizes")
    p.add_argument("--activation", default="tanh", choices=ACTIVATIONS, help="hidden units' activation")
    p.add_argument("--loss", default="cross_entropy", choices=["cross_entropy", "mse"])
    p.add_argument("--l1", type=non_negative_float, default=0.0)
    p.add_argument("--l2", type=non_negative_float, default=0.0)
    p.add_argument("--batch-size", type=positive_int, default=16, help="rows of data in the loss")
    p.add_argument("--eps", type=positive_float, default=1e-6)
    p.add_argument("--rtol", type=non_negative_float, default=1e-5)
    p.add_argument("--atol", type=non_negative_float, default=1e-8)
    p.add_argument("--max-entries", type=positive_int, default=None,
                   help="check at most this many entries per parameter (random, seeded)")
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    dataset = rdata.load(args.data, label_column=args.label_column, dtype="float64")
    rows = np.random.default_rng(args.seed).permutation(len(dataset.X))[: args.batch_size]
    X = rdata.Standardizer().fit_transform(dataset.X)[rows]
    y = dataset.y[rows]
    out = dataset.n_classes if dataset.task == "classification" else 1
    model = MLP(X.shape[1], args.hidden, out, activation=args.activation, seed=args.seed, dtype="float64")
    penalties = [r for r in (L1(args.l1), L2(args.l2)) if r.strength > 0]
    if args.loss == "cross_entropy":
        if dataset.task != "classification":
            raise ValueError(f"--loss cross_entropy needs class labels; {args.data} has real-valued targets")
        data_loss = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    else:
        target = (y if dataset.task == "regression" else y.astype("float64")).reshape(-1, 1)
        data_loss = lambda: F.mse_loss(model(X), target)  # noqa: E731

    def loss_fn():
        total = data_loss()
        for penalty in penalties:
            total = total + penalty(model)
        return total

    try:
        report = gradcheck(loss_fn, model, eps=args.eps, rtol=args.rtol, atol=args.atol,
                           max_entries=args.max_entries, seed=args.seed)
    except GradcheckError as err:
        print(err.report)
        print("gradient check FAILED")
        return 1
    print(report)
    print("gradient check passed")
    return 0
