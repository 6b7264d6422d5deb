"""ravine: train neural networks from first principles, and see what the optimizer is going through."""

__version__ = "0.1.0"

from .autodiff import (Tensor, enable_grad, grad, is_grad_enabled, no_grad,  # noqa: E402
                       set_grad_enabled)
from .autodiff import (abs, exp, log, matmul, maximum, minimum, sign,  # noqa: E402
                       softmax, log_softmax, sqrt, where)
from .autodiff.activations import FUNCTIONS as _ACTIVATION_FUNCTIONS  # noqa: E402
from . import autodiff, data, nn, optim, fast, diagnose, train, runs, select  # noqa: E402

globals().update(_ACTIVATION_FUNCTIONS)  # rv.tanh, rv.relu, rv.softplus ...: one per registry entry

__all__ = ["Tensor", "grad", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
           "abs", "exp", "log", "matmul", "maximum", "minimum", *_ACTIVATION_FUNCTIONS, "sign",
           "softmax", "log_softmax", "sqrt", "where",
           "autodiff", "data", "nn", "optim", "fast", "runs", "diagnose", "train", "select", "__version__"]


def __getattr__(name):
    # ravine.sklearn imports scikit-learn's estimator machinery: loaded on first use only.
    if name == "sklearn":
        import importlib

        return importlib.import_module(".sklearn", __name__)
    raise AttributeError(f"module 'ravine' has no attribute {name!r}")
