"""The parameters an optimizer is given, read into groups of (name, Tensor) pairs.

``params`` may be a Module, an iterable of Tensors, of (name, Tensor) pairs, or of group dicts
``{"params": ..., "lr": ..., ...}``. Names come from the Module (``model.named_parameters()``), from
the pairs, or from a ``names`` attribute of the list (one name per Tensor); plain Tensors get
positional names ``"<group>.<index>"`` (``"0.3"``). See the module docstring of ``optimizer.py``.

Example::

    _groups_of(model.parameters(), "SGD")          # [{"params": [...]}]: one group
    _named(model, 0, "SGD")                        # [("0.weight", W), ("0.bias", b), ...]
    _named([W, b], 1, "SGD")                       # [("1.0", W), ("1.1", b)]
"""

from __future__ import annotations

from collections.abc import Mapping

from ..autodiff.params import named_params
from ..autodiff.tensor import Tensor


def _groups_of(params, owner: str) -> list:
    """The group dicts ``params`` stands for: itself, or one group holding it (names kept)."""
    if isinstance(params, Tensor):
        raise TypeError(f"{owner}: params must be a Module or an iterable of Tensors, "
                        f"(name, Tensor) pairs or group dicts; got a single Tensor (wrap it in a list)")
    if isinstance(params, Mapping):
        return [params]
    if hasattr(params, "named_parameters"):
        return [{"params": params}]
    items = list(params) if hasattr(params, "__iter__") else None
    if items is None:
        raise TypeError(f"{owner}: params must be a Module or an iterable; "
                        f"got {type(params).__name__}")
    if not items:
        raise ValueError(f"{owner} got an empty parameter list")
    if all(isinstance(g, Mapping) for g in items):
        return items
    if any(isinstance(g, Mapping) for g in items):
        raise TypeError(f"{owner}: params mixes group dicts and parameters")
    names = getattr(params, "names", None)
    if names is not None:  # keep a list's names (see the module docstring)
        items = _NamedList(items, names)
    return [{"params": items}]


def _named(params, group_index: int, owner: str) -> list[tuple[str, Tensor]]:
    """(name, Tensor) pairs of one group, read by ``named_params``; plain Tensors get
    ``"<group>.<index>"``."""
    return named_params(params, owner=owner, what=f"parameter group {group_index}",
                        positional=f"{group_index}.{{}}")


class _NamedList(list):
    """A list of Tensors that keeps the ``names`` of the list it was made from."""

    def __init__(self, items, names):
        super().__init__(items)
        self.names = names
