"""The model: modules, layers, the MLP, losses, initialization and weight penalties."""

from . import functional, init, losses
from .batchnorm import BatchNorm1d
from .containers import Sequential
from .dropout import Dropout
from .layers import ACTIVATION_MODULES as _ACTIVATION_MODULES, Activation, Identity, Linear
from .mlp import MLP
from .module import Module, Parameter, named_params, pack_parameters
from .regularizers import L1, L2
from .side_effects import no_side_effects

# Tanh, Sigmoid, ReLU, Softplus, ...: one module class per entry of the activation registry.
globals().update({cls.__name__: cls for cls in _ACTIVATION_MODULES.values()})

__all__ = ["Module", "Parameter", "Linear", "Identity", "Activation",
           *(cls.__name__ for cls in _ACTIVATION_MODULES.values()), "BatchNorm1d",
           "Dropout", "Sequential", "MLP", "L1", "L2", "functional", "init", "losses", "named_params", "pack_parameters", "no_side_effects"]
