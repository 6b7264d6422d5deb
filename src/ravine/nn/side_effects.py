"""``no_side_effects(model)``: run a model without leaving a trace in it.

A forward pass in training mode changes the model a little besides computing its output: batch
norm updates its running statistics, dropout advances its random generator. Measuring the model
(curvature along training, gradient checks, Hessians) must not change the training it measures, so
inside this context those changes are undone on exit.

Example::

    with rv.nn.no_side_effects(model):
        H = hessian(lambda: F.cross_entropy(model(x), y), model.parameters())
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

import numpy as np

from .module import Module


@contextmanager
def no_side_effects(model: Module):
    """Restore every buffer and every module's ``rng`` state when the block ends."""
    buffers = [(module, name, np.array(value, copy=True))
               for _, module in model.named_modules() for name, value in module._buffers.items()]
    generators = [(module.rng, copy.deepcopy(module.rng.bit_generator.state))
                  for _, module in model.named_modules()
                  if isinstance(getattr(module, "rng", None), np.random.Generator)]
    try:
        yield model
    finally:
        for module, name, saved in buffers:
            current = module._buffers[name]
            if isinstance(current, np.ndarray) and current.shape == saved.shape:
                np.copyto(current, saved)
            else:
                module.register_buffer(name, saved)
        for rng, state in generators:
            rng.bit_generator.state = state
