"""The model: modules, layers, the MLP, losses, initialization and weight penalties."""

from . import functional, init
from .containers import Sequential
from .layers import Identity, Linear, ReLU, Sigmoid, Tanh
from .mlp import MLP
from .module import Module, Parameter
from .regularizers import L1, L2

__all__ = ["Module", "Parameter", "Linear", "Identity", "Tanh", "Sigmoid", "ReLU", "Sequential",
           "MLP", "L1", "L2", "functional", "init"]
