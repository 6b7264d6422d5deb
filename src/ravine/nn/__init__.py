"""The model: modules, layers, the MLP, losses, initialization and weight penalties."""

from . import functional, init
from .batchnorm import BatchNorm1d
from .containers import Sequential
from .dropout import Dropout
from .layers import Identity, Linear, ReLU, Sigmoid, Tanh
from .mlp import MLP
from .module import Module, Parameter
from .regularizers import L1, L2
from .side_effects import no_side_effects

__all__ = ["Module", "Parameter", "Linear", "Identity", "Tanh", "Sigmoid", "ReLU", "BatchNorm1d",
           "Dropout", "Sequential", "MLP", "L1", "L2", "functional", "init", "no_side_effects"]
