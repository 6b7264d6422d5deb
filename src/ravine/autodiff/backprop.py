"""Backprop: call ``bprop`` on every box of the flow graph in reverse order.

Every recorded box carries its creation number. A box is always created after the boxes that made its
inputs, so popping boxes from a max-heap of creation numbers visits each one after every box that
consumes its output: a reverse topological order, found while walking the graph once, iteratively
(a 10,000-box chain needs no recursion) and with no separate sort.

The gradient reaching a box is the sum of what its consumers send back (the multivariate chain rule).
When ``create_graph`` is false, ``bprop`` runs on raw arrays and records nothing; when it is true,
``bprop`` runs on Tensors with recording on, so the gradients it returns can be differentiated again:
a Hessian-vector product is ``grad(dot(grad(L, w, create_graph=True), v), w)``.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Iterable

import numpy as np

from .mode import enable_grad
from .tensor import Tensor, constant, recorded_output


def _as_list(tensors, what: str) -> list[Tensor]:
    items = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}[{i}] must be a Tensor; got {type(t).__name__}")
    return items


# dL/dL = 1 for a scalar loss, shared read-only (a bprop never writes into the gradient it receives)
_ONES = {np.dtype(dt): np.ones((), dtype=dt) for dt in (np.float32, np.float64)}
for _one in _ONES.values():
    _one.flags.writeable = False


def _seed(output: Tensor, grad_output, record: bool, index: int):
    """The gradient arriving at an output: 1 for a scalar, else the given ``grad_output``."""
    if grad_output is None:
        if output.data.size != 1:
            raise ValueError(
                f"the gradient of a non-scalar output (output {index}, shape {output.shape}) "
                f"needs grad_output of the same shape"
            )
        ones = _ONES[output.dtype] if output.shape == () else np.ones(output.shape, dtype=output.dtype)
        return constant(ones) if record else ones
    given = grad_output.data if isinstance(grad_output, Tensor) else np.asarray(grad_output)
    if given.shape != output.shape:
        raise ValueError(
            f"grad_output {index} has shape {given.shape} but its output has shape {output.shape}"
        )
    if given.dtype != output.dtype:
        raise TypeError(
            f"grad_output {index} has dtype {given.dtype} but its output has dtype {output.dtype}"
        )
    if record:
        return grad_output if isinstance(grad_output, Tensor) else constant(given)
    return given


def _run(seeds: Iterable[tuple[Tensor, object]], record: bool, watched: dict | None = None) -> dict:
    """Propagate the seed gradients down the graph; return {leaf Tensor: its gradient}.

    Only leaves that require grad are returned. ``watched`` maps boxes to a one-item list that
    receives the complete gradient of that box's output (``grad`` with respect to a non-leaf).
    """
    pending: dict = {}
    leaves: dict = {}
    heap: list = []
    for tensor, g in seeds:
        node = tensor._node
        if node is None:
            if tensor.requires_grad:
                leaves[tensor] = leaves[tensor] + g if tensor in leaves else g
        elif node in pending:
            pending[node] = pending[node] + g
        else:
            pending[node] = g
            heappush(heap, (-node.seq, node))

    while heap:
        node = heappop(heap)[1]
        g = pending.pop(node)
        if watched is not None and node in watched:
            watched[node][0] = g
        if record:
            grads = node.bprop(g, *node.inputs, recorded_output(node))
        else:
            grads = node.bprop(g, *node.args, node.out)
        for t, gi in zip(node.inputs, grads):
            if gi is None:
                continue
            child = t._node
            if child is None:
                if t.requires_grad:
                    leaves[t] = leaves[t] + gi if t in leaves else gi
            elif child in pending:
                pending[child] = pending[child] + gi
            else:
                pending[child] = gi
                heappush(heap, (-child.seq, child))
    return leaves


def _propagate(seeds, record: bool, watched: dict | None = None) -> dict:
    if not record:
        return _run(seeds, False, watched)
    with enable_grad():  # the backward pass is recorded, even inside no_grad()
        return _run(seeds, True, watched)


def grad(output, inputs, grad_output=None, create_graph: bool = False) -> list[Tensor]:
    """Gradients of ``output`` with respect to ``inputs``: ``[∂L/∂x for x in inputs]``.

    ``output`` is a Tensor or a sequence of them (their gradients add up); ``grad_output`` is the
    gradient arriving at it (default 1 for a scalar; a sequence for a sequence of outputs), so
    ``grad(y, x, v)`` is the vector-Jacobian product vᵀ ∂y/∂x. With ``create_graph=True`` the
    returned gradients are themselves on the graph and can be differentiated again. An input the
    output does not depend on gets a zero gradient. Nothing is written to ``.grad``.

    Example (a Hessian-vector product)::

        g, = rv.grad(loss, [w], create_graph=True)
        Hv, = rv.grad((g * v).sum(), [w])
    """
    outs = _as_list(output, "output")
    wanted = _as_list(inputs, "inputs")
    for i, t in enumerate(wanted):
        if not t.requires_grad:
            raise ValueError(f"inputs[{i}] does not require grad, so it has no gradient")
    if grad_output is None:
        grad_outputs = [None] * len(outs)
    elif isinstance(grad_output, (Tensor, np.ndarray)):
        grad_outputs = [grad_output]
    else:
        grad_outputs = list(grad_output)
    if len(grad_outputs) != len(outs):
        raise ValueError(f"got {len(grad_outputs)} grad_output for {len(outs)} outputs")
    record = bool(create_graph)
    seeds = [(o, _seed(o, go, record, i)) for i, (o, go) in enumerate(zip(outs, grad_outputs))]

    watched = {t._node: [None] for t in wanted if t._node is not None}
    leaves = _propagate(seeds, record, watched or None)
    result = []
    for t in wanted:
        g = watched[t._node][0] if t._node is not None else leaves.get(t)
        if g is None:
            result.append(constant(np.zeros(t.shape, dtype=t.dtype)))
        else:
            result.append(g if record else constant(np.asarray(g)))
    return result


def backward(output: Tensor, grad_output=None, create_graph: bool = False) -> None:
    """Accumulate ∂output/∂leaf into ``leaf.grad`` for every leaf that requires grad.

    As in PyTorch, gradients add up across calls until ``zero_grad()`` clears them.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"backward() needs a Tensor; got {type(output).__name__}")
    if not output.requires_grad:
        raise ValueError("backward(): the output does not require grad (nothing to differentiate)")
    record = bool(create_graph)
    seed = _seed(output, grad_output, record, 0)
    leaves = _propagate([(output, seed)], record)
    if record:
        for t, g in leaves.items():
            t.grad = g if t.grad is None else t.grad + g
        return
    seen: set = {id(seed)}  # the caller's grad_output stays theirs: a leaf gets a copy
    for t, g in leaves.items():
        if t.grad is not None:
            t.grad = constant(t.grad.data + g)
            continue
        # A leaf's .grad must not share memory with another's, or an in-place update of one
        # (gradient clipping) would silently change the other: a bprop may pass the same array
        # to two inputs (a + b sends g to both) or return a view.
        if type(g) is not np.ndarray:
            g = np.asarray(g)
        if g.base is not None or id(g) in seen:  # (read-only broadcasts are views: base is set)
            g = g.copy()
        seen.add(id(g))
        t.grad = constant(g)
