"""The flow graph: ``Tensor``, its primitive boxes, and backprop (``grad``, ``backward``).

Every box has ``fprop`` (value of the output from the inputs) and ``bprop`` (gradient of the loss
with respect to the inputs from the gradient with respect to the output). Calling ``bprop`` in reverse
order is backprop; with ``create_graph=True`` that pass is itself recorded, so it can be
differentiated again (exact Hessian-vector products).
"""

from . import methods as _methods  # noqa: F401 - binds Tensor's operators
from .backprop import backward, grad
from .activations import FUNCTIONS as _ACTIVATION_FUNCTIONS
from .elementwise import (abs, add, astype, div, exp, log, maximum, minimum, mul, neg, power, sign,
                          sqrt, sub, where)
from .linalg import dense, linear, matmul
from .mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .reductions import broadcast_to, max, mean, sum, sum_to, vdot
from .shape import getitem, reshape, transpose
from .softmax import cross_entropy, log_softmax, softmax
from .tensor import Op, Tensor, apply, constant

__all__ = [
    "Tensor", "Op", "apply", "constant", "grad", "backward", "no_grad", "enable_grad",
    "is_grad_enabled", "set_grad_enabled",
    "add", "sub", "mul", "div", "neg", "power", "exp", "log", "sqrt", "abs", "sign", "maximum",
    "minimum", "where", *_ACTIVATION_FUNCTIONS, "astype", "sum", "mean", "max", "sum_to",
    "broadcast_to", "vdot", "reshape", "transpose", "getitem", "matmul", "linear", "dense", "softmax",
    "log_softmax", "cross_entropy",
]

# tanh, sigmoid, relu, softplus, ...: one function per entry of the activation registry.
globals().update(_ACTIVATION_FUNCTIONS)
