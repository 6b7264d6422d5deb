"""One contiguous block per parameter group and dtype, so that one NumPy call updates them all.

A small network spends most of an update in the per-call overhead of NumPy, not in arithmetic:
SGD with momentum is four calls per parameter (b ← μb, b += g, α·b, θ −= α·b), 24 calls for a
three-layer MLP. Since every update rule here is elementwise, the optimizer can instead keep the
state buffers of a group (momentum, moving averages) as views into one flat array each, gather the
gradients into one flat array, run the rule once over the block, and subtract each parameter's
slice of the step from its array. The parameters' arrays are never replaced: ``p.data`` is the same
array before and after an optimizer is built, so a reference the user kept stays live.
The arithmetic is identical entry by entry, so results are bit for bit those of the per-parameter
loop, which remains the path taken whenever the block does not apply: a parameter without a
gradient this step, step counts that differ, or a parameter whose ``.data`` was replaced by
another array since the block was made.

When the parameters already lie back to back in one array, in order (``rv.nn.module.
pack_parameters`` lays a model out so, while it is built), the block updates them there with one
call and no copy. Otherwise each parameter's slice of the step is subtracted on its own, one NumPy
call more per parameter: measured on ``step()`` alone, ~0.25 µs each (plain SGD on 2-8-8-2: 4.5 µs
packed, 6.0 µs not). Re-homing the parameters here instead (``p.data = view of one flat θ``, as
this file once did) would save those calls but silently detach any ``p.data`` the user held.
"""

from __future__ import annotations

import numpy as np


# Gathering the gradients into the block copies every entry once (~0.3 ns each); one NumPy call
# saved is ~0.7 µs, four per parameter per step. So a block pays while the parameters average
# fewer than about 8,000 entries (measured: 40-100-100-10 gains, 784-256-256-10 loses ~5%).
MAX_MEAN_SIZE = 8192


def worth_a_block(sizes: list[int]) -> bool:
    """Whether parameters of these sizes update faster as one block than one by one."""
    return len(sizes) > 1 and sum(sizes) <= MAX_MEAN_SIZE * len(sizes)


class FlatBlock:
    """The state arrays (under ``keys``) of parameters of one dtype, re-homed into flat arrays.

    The parameters' own arrays are never replaced: ``p.data`` stays the array the user holds.
    After construction each ``state[key]`` is a view into ``state[key]`` of this block; ``grad``
    and ``work`` are scratch arrays, and ``theta`` (only when a transform reads the parameters:
    weight decay) receives a copy of the parameters each step. The step is written back with one
    in-place subtraction per parameter (``apply``).
    """

    __slots__ = ("theta", "state", "grad", "work", "checks", "pieces", "arrays", "anchors")

    def __init__(self, params, states, keys, dtype, reads_params: bool = True):
        sizes = [p.data.size for p in params]
        total = sum(sizes)
        self.theta = np.empty(total, dtype) if reads_params else None
        self.state = {k: np.empty(total, dtype) for k in keys}
        self.grad = np.empty(total, dtype)
        self.work = (np.empty(total, dtype), np.empty(total, dtype))
        checks, pieces, start = [], ([], []), 0
        for p, state, size in zip(params, states, sizes):
            shape, stop = p.data.shape, start + size
            for k in keys:
                flat = self.state[k]
                flat[start:stop] = np.asarray(state[k]).reshape(-1)
                state[k] = flat[start:stop].reshape(shape)
            for work, views in zip(self.work, pieces):
                views.append((p.data, work[start:stop].reshape(shape)))
            checks.append((p, state, p.data))
            start = stop
        self.checks = tuple(checks)
        self.arrays = [p.data for p in params]
        run = one_run(self.arrays, dtype)
        if run is not None:  # the parameters lie back to back already: update them in place
            self.theta, self.pieces = run, ()
        else:
            self.pieces = tuple(tuple(views) for views in pieces)
        # Views that a copy of the optimizer (copy.deepcopy) turns into arrays of their own: then
        # the block no longer matches its parameters and their state, and the loop takes over.
        anchors = [(run, run.base)] if run is not None else [(pieces[0][0][1], self.work[0])]
        if keys:
            anchors.append((states[0][keys[0]], self.state[keys[0]]))
        self.anchors = tuple(anchors)

    def step_if_ready(self) -> int:
        """The common step count t + 1 if every parameter can take the block path now, else 0."""
        for view, base in self.anchors:
            if view.base is not base:
                return 0
        checks = self.checks
        t = checks[0][1]["step"]
        for p, state, data in checks:
            # (``p.data = ...`` since the block was made: the loop updates the new array)
            if p.grad is None or p.data is not data or state["step"] != t:
                return 0
        t += 1
        for _, state, _ in checks:
            state["step"] = t
        return t

    def gather_gradients(self) -> np.ndarray:
        """Every parameter's gradient, flattened into ``grad`` (one call)."""
        return np.concatenate([p.grad.data for p, _, _ in self.checks], axis=None, out=self.grad)

    def gather_params(self):
        """The parameters as one flat array: ``theta`` itself when they lie back to back, else a
        copy in ``theta`` (None when no transform reads them)."""
        theta = self.theta
        if theta is None or not self.pieces:
            return theta
        return np.concatenate(self.arrays, axis=None, out=theta)

    def apply(self, step: np.ndarray) -> None:
        """θ ← θ − step for every parameter, in its own array; ``step`` is one of ``work``."""
        if not self.pieces:
            self.theta -= step
            return
        for data, piece in self.pieces[0 if step is self.work[0] else 1]:
            data -= piece


def one_run(arrays, dtype):
    """A flat view spanning ``arrays`` if they are C-contiguous pieces of one buffer, back to back
    in this order (as ``ravine.nn.module.pack_parameters`` lays them out); else None."""
    first = arrays[0]
    owner = first.base if first.base is not None else first
    if not (isinstance(owner, np.ndarray) and owner.dtype == dtype and owner.flags.c_contiguous):
        return None
    at = first.ctypes.data
    for a in arrays:
        if not (a.base is owner or a is owner) or not a.flags.c_contiguous or a.ctypes.data != at:
            return None
        at += a.nbytes
    start = (first.ctypes.data - owner.ctypes.data) // owner.itemsize
    return owner.reshape(-1)[start:start + sum(a.size for a in arrays)]
