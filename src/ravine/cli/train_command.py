"""Train an MLP: standardize on the training split, mini-batch SGD, one line per epoch.

With no options it trains a 64-100-10 tanh network on scikit-learn's digits and prints the final
train, validation and test error.
"""

from __future__ import annotations

import argparse

import numpy as np

from .. import data as rdata
from ..nn import L1, L2, MLP
from ..optim import SGD
from ..train import Trainer
from .options import hidden_sizes, non_negative_float, positive_float, positive_int

HELP = "train an MLP and report train/valid/test error"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="digits",
                   help=f"a data set ({', '.join(rdata.DATASETS)}) or a .csv/.npy/.npz file")
    p.add_argument("--label-column", default=None, help="label column of a CSV file (name or index)")
    p.add_argument("--hidden", type=hidden_sizes, default=[100], help="hidden layer sizes, e.g. 100,100")
    p.add_argument("--activation", default="tanh", choices=["tanh", "sigmoid", "relu"])
    p.add_argument("--init", default="glorot_uniform", help="weight initialization (nn.init)")
    p.add_argument("--lr", type=positive_float, default=0.05, help="learning rate α")
    p.add_argument("--momentum", type=non_negative_float, default=0.9, help="momentum μ")
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--epochs", type=positive_int, default=30)
    p.add_argument("--l1", type=non_negative_float, default=0.0, help="λ of the L1 penalty on weights")
    p.add_argument("--l2", type=non_negative_float, default=0.0, help="λ of the L2 penalty on weights")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the weights and the shuffling")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])


def run(args) -> int:
    dataset = rdata.load(args.data, label_column=args.label_column, dtype=args.dtype)
    if dataset.task != "classification":
        raise ValueError(f"--data {args.data}: ravine train classifies; this data set has real-valued targets")
    (X_train, y_train), (X_valid, y_valid), (X_test, y_test) = rdata.train_valid_test_split(
        dataset.X, dataset.y, valid=0.2, test=0.2, seed=args.seed)
    scaler = rdata.Standardizer().fit(X_train)
    X_train, X_valid, X_test = (scaler.transform(X) for X in (X_train, X_valid, X_test))

    model = MLP(dataset.X.shape[1], args.hidden, dataset.n_classes, activation=args.activation,
                init=args.init, seed=args.seed, dtype=args.dtype)
    if args.momentum >= 1:
        raise ValueError(f"--momentum must be in [0, 1); got {args.momentum}")
    optimizer = SGD(model, lr=args.lr, momentum=args.momentum)
    penalties = [r for r in (L1(args.l1), L2(args.l2)) if r.strength > 0]
    print(f"data {dataset.name}: {len(X_train)} train, {len(X_valid)} valid, {len(X_test)} test, "
          f"{dataset.X.shape[1]} features, {dataset.n_classes} classes")
    print(f"model {model.in_features}-{'-'.join(map(str, model.hidden))}{'-' if model.hidden else ''}"
          f"{model.out_features} {args.activation}, {model.num_parameters()} parameters; "
          f"SGD lr={args.lr} momentum={args.momentum} batch={args.batch_size}")
    trainer = Trainer(model, optimizer, loss="cross_entropy", regularizers=penalties,
                      batch_size=args.batch_size, seed=np.random.default_rng(args.seed), progress="auto")
    history = trainer.fit(X_train, y_train, epochs=args.epochs, validation_data=(X_valid, y_valid))
    results = {name: trainer.evaluate(X, y) for name, (X, y) in
               (("train", (X_train, y_train)), ("valid", (X_valid, y_valid)), ("test", (X_test, y_test)))}
    print("final  " + "  ".join(f"{name} error {r['error']:.2%} (loss {r['loss']:.4f})"
                                for name, r in results.items()))
    print(f"test accuracy {1 - results['test']['error']:.4f}")
    return 0
