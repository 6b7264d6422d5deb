"""A Trainer's whole state as arrays plus JSON-safe data, to checkpoint a run and resume it exactly.

What a resumed run needs to continue bit for bit as if it had never stopped: the model (parameters
and buffers), the optimizer (its buffers and step counts), the position in training (epoch, update
count, learning rates), every random generator (the shuffling's and each dropout layer's), the
history, and the state of stateful callbacks and schedules (early stopping's best weights, a
reduce-on-plateau schedule's counters).

Arrays travel separately from the rest (an .npz beside a JSON file): ``split_arrays`` replaces each
array in a nested structure by a reference ``{"__array__": key}`` and ``join_arrays`` puts them back.

Example::

    arrays, meta = trainer_state(trainer)
    ...
    restore_trainer(fresh_trainer, arrays, meta)
"""

from __future__ import annotations

import numpy as np

from .history import History

FORMAT = 1


def split_arrays(tree, prefix: str, arrays: dict):
    """``tree`` with every ndarray replaced by ``{"__array__": key}`` (the array goes to ``arrays``)."""
    if isinstance(tree, np.ndarray):
        arrays[prefix] = tree
        return {"__array__": prefix}
    if isinstance(tree, dict):
        return {str(k): split_arrays(v, f"{prefix}/{k}", arrays) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [split_arrays(v, f"{prefix}/{i}", arrays) for i, v in enumerate(tree)]
    if isinstance(tree, np.generic):
        return tree.item()
    return tree


def join_arrays(tree, arrays: dict):
    """The inverse of ``split_arrays``."""
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            key = tree["__array__"]
            if key not in arrays:
                raise ValueError(f"the checkpoint lacks the array {key!r}")
            return arrays[key]
        return {k: join_arrays(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [join_arrays(v, arrays) for v in tree]
    return tree


def _generators(trainer) -> dict:
    gens = {"shuffle": trainer.rng}
    for name, module in trainer.model.named_modules():
        if isinstance(getattr(module, "rng", None), np.random.Generator):
            gens[f"module:{name}"] = module.rng
    return gens


def _stateful(trainer) -> dict:
    """Callbacks (and the schedule) that can save and load their state, by a stable key."""
    found = {}
    for i, cb in enumerate(trainer.callbacks):
        if hasattr(cb, "state_dict") and hasattr(cb, "load_state_dict"):
            found[f"callback:{i}:{type(cb).__name__}"] = cb
    if trainer.schedule is not None and hasattr(trainer.schedule, "load_state_dict"):
        found["schedule"] = trainer.schedule
    return found


def trainer_state(trainer) -> tuple[dict, dict]:
    """(arrays, meta): everything a resumed run needs, meta JSON-safe."""
    arrays: dict = {}
    meta = {
        "format": FORMAT,
        "epoch": trainer.epoch,
        "step": trainer.step,
        "stop_reason": trainer.stop_reason,
        "stop_training": trainer.stop_training,
        "model": split_arrays(trainer.model.state_dict(), "model", arrays),
        "optimizer": split_arrays(trainer.optimizer.state_dict(), "optimizer", arrays),
        "generators": {k: g.bit_generator.state for k, g in _generators(trainer).items()},
        "stateful": {k: split_arrays(obj.state_dict(), k, arrays) for k, obj in _stateful(trainer).items()},
        "history": split_arrays(trainer.history.to_dict(), "history", arrays),
    }
    return arrays, meta


def restore_trainer(trainer, arrays: dict, meta: dict) -> None:
    """Put a Trainer (built with the same configuration) back into a saved state."""
    if meta.get("format") != FORMAT:
        raise ValueError(f"checkpoint format {meta.get('format')!r} is not one this ravine reads ({FORMAT})")
    trainer.model.load_state_dict(join_arrays(meta["model"], arrays))
    trainer.optimizer.load_state_dict(join_arrays(meta["optimizer"], arrays))
    generators = _generators(trainer)
    saved = meta["generators"]
    if set(saved) != set(generators):
        raise ValueError(f"the checkpoint's random generators {sorted(saved)} do not match this "
                         f"model's {sorted(generators)}")
    for key, gen in generators.items():
        gen.bit_generator.state = saved[key]
    stateful = _stateful(trainer)
    if set(meta["stateful"]) != set(stateful):
        raise ValueError(f"the checkpoint's callback states {sorted(meta['stateful'])} do not match "
                         f"this trainer's {sorted(stateful)}")
    for key, obj in stateful.items():
        obj.load_state_dict(join_arrays(meta["stateful"][key], arrays))
    trainer.history = History.from_dict(join_arrays(meta["history"], arrays))
    trainer.epoch, trainer.step = int(meta["epoch"]), int(meta["step"])
    trainer.stop_reason, trainer.stop_training = meta["stop_reason"], bool(meta["stop_training"])
