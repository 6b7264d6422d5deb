"""Reading "the parameters" however they are given: one reader for every layer that takes them.

Optimizers, gradient clipping, Hessian-vector products and the diagnostics all accept the same
forms, read here into a list of (name, Tensor) pairs:

* a Module (anything with a callable ``named_parameters()``): its dotted names;
* ``model.named_parameters()``, or any iterable of (name, Tensor) pairs;
* a mapping name → Tensor;
* ``model.parameters()``, or any iterable of Tensors: the names a ``names`` attribute of the
  iterable carries (one per Tensor, as ``model.parameters()`` does), otherwise positional names
  ``positional.format(i)`` (``"params[0]"``, ...);
* a single Tensor, when ``single=True``: named ``positional.format(0)``.

It lives in the flow-graph layer (the lowest that needs it: ``second_order`` does), and knows a
Module only by its ``named_parameters`` method; ``ravine.nn.named_params`` is the same function.
Errors are TypeErrors naming the caller, what was expected and what was given. An empty input gives
an empty list: whether that is an error is the caller's to say.

Example::

    named_params(model)                        # [("0.weight", W), ("0.bias", b), ...]
    named_params(model.parameters())           # the same names, carried by the list
    named_params([W, b])                       # [("params[0]", W), ("params[1]", b)]
    named_params([("w", W)], owner="SGD")      # [("w", W)]
"""

from __future__ import annotations

from collections.abc import Mapping

from .tensor import Tensor

__all__ = ["named_params"]

_FORMS = "a Module, an iterable of Tensors or of (name, Tensor) pairs, or a dict name → Tensor"


def named_params(params, *, owner: str | None = None, what: str = "params",
                 positional: str = "params[{}]", single: bool = True) -> list[tuple[str, Tensor]]:
    """(name, Tensor) pairs from a Module, Tensors, (name, Tensor) pairs or a dict name → Tensor.

    ``owner`` and ``what`` name the caller and the argument in errors (``"SGD: params must be
    ..."``); ``positional`` names unnamed Tensors by their index; ``single=False`` refuses a lone
    Tensor. Names are not checked for uniqueness here, nor Tensors for ``requires_grad``.

    Example::

        named_params([W, b], positional="0.{}")    # [("0.0", W), ("0.1", b)]
    """
    who = f"{owner}: " if owner else ""
    if isinstance(params, Tensor):
        if not single:
            raise TypeError(f"{who}{what} must be {_FORMS}; got a single Tensor (wrap it in a list)")
        return [(positional.format(0), params)]
    named = getattr(params, "named_parameters", None)
    if callable(named):
        return _checked_pairs(list(named()), who, what)
    if isinstance(params, Mapping):
        return _checked_pairs(list(params.items()), who, what)
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{who}{what} must be {_FORMS}; got {type(params).__name__}")
    items = list(params)
    names = getattr(params, "names", None)
    pairs: list = []
    for i, item in enumerate(items):
        if isinstance(item, Tensor):
            pairs.append((None, item))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
            pairs.append(tuple(item))
        else:
            raise TypeError(f"{who}item {i} of {what} must be a Tensor or a (name, Tensor) pair; "
                            f"got {type(item).__name__}")
    unnamed = [n is None for n, _ in pairs]
    if any(unnamed) and not all(unnamed):
        raise TypeError(f"{who}{what} mixes named and unnamed parameters; give all names or none")
    if pairs and all(unnamed):
        if names is None:
            names = [positional.format(i) for i in range(len(pairs))]
        else:
            names = list(names)
            if len(names) != len(pairs) or not all(isinstance(n, str) for n in names):
                raise ValueError(f"{who}{what} carries {len(names)} names for {len(pairs)} parameters")
        pairs = [(n, p) for n, (_, p) in zip(names, pairs)]
    return _checked_pairs(pairs, who, what)


def _checked_pairs(pairs: list, who: str, what: str) -> list[tuple[str, Tensor]]:
    for name, p in pairs:
        if not isinstance(name, str):
            raise TypeError(f"{who}{what}: parameter names must be strings; got {name!r}")
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}{what}: parameter {name!r} must be a Tensor; got {type(p).__name__}")
    return pairs
