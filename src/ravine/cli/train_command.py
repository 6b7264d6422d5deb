"""Train an MLP and keep the run: a run folder with its config, curves, model and a checkpoint.

With no options it trains a 64-100-10 tanh network on scikit-learn's digits with mini-batch SGD
(standardized on the training split), printing one line per epoch and the final train, validation
and test error. Options come from the defaults, then ``--config FILE.toml``, then the flags.

The run folder (``--out``, default ``runs/<timestamp>-<data>``) holds config.toml (complete:
``ravine train --config FOLDER/config.toml --out NEW`` repeats the run bit for bit), metrics.csv,
summary.json, curves.png, model.npz + model.json, and checkpoint.npz (+ .json), written at the end
of every epoch, from which ``ravine train --resume FOLDER`` continues an interrupted run exactly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..runs import RunFolder, build_summary, read_toml
from .build import build_run
from .config import TrainConfig
from .train_options import add_train_options, given_options

HELP = "train an MLP into a run folder (config, curves, model, checkpoint)"
FORMATTER = argparse.RawDescriptionHelpFormatter


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE.toml", help="read options from a TOML file (flags override it)")
    p.add_argument("--out", metavar="FOLDER", help="the run folder (default: runs/<timestamp>-<data>)")
    p.add_argument("--resume", metavar="FOLDER", help="continue an interrupted run from its checkpoint")
    add_train_options(p)


def config_from(args) -> TrainConfig:
    """Defaults, then --config, then the flags given; checked."""
    config = TrainConfig()
    source = "command line"
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise FileNotFoundError(f"--config {path}: no such file")
        config = TrainConfig.from_dict(read_toml(path), source=str(path))
        source = f"{path} and the command line"
    return config.updated(given_options(args)).validate(source if args.config else "")


def run(args) -> int:
    if args.resume:
        return resume(args)
    config = config_from(args)
    splits, model, trainer = build_run(config)  # bad data fails here, before any folder exists
    run_folder = RunFolder.create(args.out, data_name=Path(config.data).stem)
    run_folder.write_config(config.to_dict())
    describe(config, splits, model, run_folder)
    return train(config, splits, model, trainer, run_folder, config.epochs)


def resume(args) -> int:
    given = given_options(args)
    if given or args.config or args.out:
        flags = ", ".join([f"--{k.replace('_', '-')}" for k in given] + ["--config"] * bool(args.config)
                          + ["--out"] * bool(args.out))
        raise ValueError(f"--resume continues a run with its own config; drop {flags}")
    run_folder = RunFolder.open(args.resume)
    if run_folder.summary_path.is_file():
        print(f"{run_folder.path} is finished ({run_folder.read_summary().get('status')}); nothing to resume")
        return 0
    if not run_folder.config_path.is_file():
        raise ValueError(f"{run_folder.path} has no config.toml to resume from")
    config = TrainConfig.from_dict(run_folder.read_config(), source=str(run_folder.config_path)).validate(
        str(run_folder.config_path))
    splits, model, trainer = build_run(config)
    if run_folder.has_checkpoint():
        trainer.load_state(*run_folder.load_checkpoint())
        print(f"resuming {run_folder.path} after epoch {trainer.epoch} of {config.epochs}")
    else:
        print(f"{run_folder.path} stopped before its first checkpoint; starting it again")
    describe(config, splits, model, run_folder)
    remaining = 0 if trainer.stop_training else max(0, config.epochs - trainer.epoch)
    return train(config, splits, model, trainer, run_folder, remaining)


def describe(config, splits, model, run_folder) -> None:
    (Xtr, _), (Xva, _), (Xte, _) = splits.train, splits.valid, splits.test
    kind = f"{splits.outputs} classes" if splits.task == "classification" else "regression"
    print(f"data {splits.dataset.name}: {len(Xtr)} train, {len(Xva)} valid, {len(Xte)} test, "
          f"{Xtr.shape[1]} features, {kind}")
    widths = [model.in_features, *model.hidden, model.out_features]
    print(f"model {'-'.join(map(str, widths))} {config.activation}, {model.num_parameters()} parameters; "
          f"{config.optimizer} lr={config.lr:g} batch={config.batch_size}; run folder {run_folder.path}")


def train(config, splits, model, trainer, run_folder, epochs: int) -> int:
    """Train ``epochs`` more epochs, checkpointing each, then write the model, summary and curves."""
    def checkpoint(t) -> None:
        run_folder.save_checkpoint(*t.state())
        run_folder.write_metrics(t.history)

    valid = splits.valid if len(splits.valid[0]) else None
    history = trainer.fit(*splits.train, epochs=epochs, validation_data=valid, checkpoint=checkpoint)
    results = {name: trainer.evaluate(*part) for name, part in
               (("train", splits.train), ("valid", splits.valid), ("test", splits.test)) if len(part[0])}
    classes = splits.dataset.classes.tolist() if splits.dataset.classes is not None else None
    run_folder.save_model(model, preprocessing=splits.standardizer, classes=classes, task=splits.task)
    run_folder.write_metrics(history)
    run_folder.plot_curves(history, title=f"{splits.dataset.name} {model.extra_repr()}")
    run_folder.write_summary(build_summary(history, data=config.data, results=results))
    print("final  " + "  ".join(_figures(name, r) for name, r in results.items()))
    if "test" in results and "error" in results["test"]:
        print(f"test accuracy {1 - results['test']['error']:.4f}")
    print(f"run saved in {run_folder.path}")
    return 0


def _figures(name: str, result: dict) -> str:
    if "error" in result:
        return f"{name} error {result['error']:.2%} (loss {result['loss']:.4f})"
    return f"{name} loss {result['loss']:.4f}"
