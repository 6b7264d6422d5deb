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
    """(name, Tensor) pairs from a Module, Tensors, (name, Tensor) pairs or a list with ``names``."""
    where = f"parameter group {group_index}"
    if isinstance(params, Tensor):
        items, names = [params], None
    elif hasattr(params, "named_parameters") and callable(params.named_parameters):
        return list(params.named_parameters())
    elif isinstance(params, (str, bytes, Mapping)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{owner}: the params of {where} must be a Module or an iterable of Tensors "
                        f"or (name, Tensor) pairs; got {type(params).__name__}")
    else:
        items, names = list(params), getattr(params, "names", None)
    pairs = []
    for i, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            pairs.append(item)
        elif isinstance(item, Tensor):
            pairs.append((None, item))
        else:
            raise TypeError(f"{owner}: item {i} of {where} must be a Tensor or a (name, Tensor) pair; "
                            f"got {type(item).__name__}")
    if pairs and any(n is None for n, _ in pairs) and any(n is not None for n, _ in pairs):
        raise TypeError(f"{owner}: {where} mixes named and unnamed parameters")
    if pairs and pairs[0][0] is None:
        if names is not None:
            names = list(names)
            if len(names) != len(pairs) or not all(isinstance(n, str) for n in names):
                raise ValueError(f"{owner}: {where} carries {len(names)} names for {len(pairs)} parameters")
        else:
            names = [f"{group_index}.{i}" for i in range(len(pairs))]
        pairs = [(n, p) for n, (_, p) in zip(names, pairs)]
    return pairs


class _NamedList(list):
    """A list of Tensors that keeps the ``names`` of the list it was made from."""

    def __init__(self, items, names):
        super().__init__(items)
        self.names = names
