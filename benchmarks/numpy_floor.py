"""The floor: one MLP training step written by hand in NumPy, as tight as straightforward code gets.

No graph, no Tensors, no checks: forward a = h Wᵀ + b and the activation in place, a stable
softmax, the mean cross-entropy, the backward pass written out, and the momentum update in place
(torch.optim.SGD's form: buf ← μ·buf + ∇, θ ← θ − α·buf; buffers start at zero, so the first
step is buf = ∇ exactly, as torch's clone). Reductions call the ufuncs (``np.add.reduce``) rather
than the ``.sum()`` methods, whose Python wrappers cost ~1 µs each: that matters at small sizes,
and a floor should not be beatable by a trick an engine can use. A NumPy engine cannot beat this
by much; the benchmark reports how far above it ravine's flow graph runs.

Example::

    floor = NumpyMLP(weights, biases, "relu", lr=0.01, momentum=0.9)
    total = sum(floor.step(xb, yb) for xb, yb in batches)
"""

from __future__ import annotations

import numpy as np


class NumpyMLP:
    """A softmax MLP trained by SGD with momentum; ``weights[k]`` has shape (out, in), as ravine's.

    ``weights`` and ``biases`` are copied; ``activation`` is "relu" or "tanh" (hidden layers only,
    the output layer is linear and feeds the fused softmax + cross-entropy).
    """

    def __init__(self, weights, biases, activation: str, lr: float, momentum: float):
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh'; got {activation!r}")
        self.W = [np.array(w, copy=True) for w in weights]
        self.b = [np.array(b, copy=True) for b in biases]
        self.vW = [np.zeros_like(w) for w in self.W]
        self.vb = [np.zeros_like(b) for b in self.b]
        self.relu = activation == "relu"
        self.lr, self.mu = lr, momentum
        self._rows: dict[int, np.ndarray] = {}

    def load(self, weights, biases, momentum_W=None, momentum_b=None) -> None:
        """Reset to the given weights, with the given momentum buffers (default: zero)."""
        for dst, src in zip(self.W + self.b, list(weights) + list(biases)):
            np.copyto(dst, src)
        if momentum_W is None:
            for v in self.vW + self.vb:
                v.fill(0)
        else:
            for dst, src in zip(self.vW + self.vb, list(momentum_W) + list(momentum_b)):
                np.copyto(dst, src)

    def fill_momentum(self, value: float) -> None:
        """Set every momentum buffer entry to ``value`` (the denormal check uses this)."""
        for v in self.vW + self.vb:
            v.fill(value)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One step on the batch (x, y); returns the batch's mean cross-entropy before the update."""
        W, b, vW, vb = self.W, self.b, self.vW, self.vb
        lr, mu = self.lr, self.mu
        m = len(y)
        rows = self._rows.get(m)
        if rows is None:
            rows = self._rows[m] = np.arange(m)
        last = len(W) - 1

        # forward: hs[k] is the input of layer k
        hs = [x]
        h = x
        for k in range(last):
            a = h @ W[k].T
            a += b[k]
            if self.relu:
                np.maximum(a, 0, out=a)
            else:
                np.tanh(a, out=a)
            hs.append(a)
            h = a
        z = h @ W[last].T
        z += b[last]

        # stable softmax and the loss −(1/m) Σ log softmax(z)_y
        z -= np.maximum.reduce(z, axis=1, keepdims=True)
        e = np.exp(z)
        s = np.add.reduce(e, axis=1, keepdims=True)
        loss = float(np.add.reduce(np.log(s[:, 0]) - z[rows, y])) / m

        # backward: δ = (softmax(z) − e(y)) / m at the output pre-activation
        d = e
        d /= s
        d[rows, y] -= 1
        d *= 1.0 / m
        for k in range(last, -1, -1):
            h = hs[k]
            gW = d.T @ h
            gb = np.add.reduce(d, axis=0)
            if k:  # δ for the layer below, with W[k] before its update
                d = d @ W[k]
                if self.relu:
                    d *= h > 0
                else:
                    d *= 1 - h * h
            vW[k] *= mu
            vW[k] += gW
            W[k] -= lr * vW[k]
            vb[k] *= mu
            vb[k] += gb
            b[k] -= lr * vb[k]
        return loss

    def update(self, grads_W, grads_b) -> None:
        """The momentum update alone, with given gradients (the denormal check times this)."""
        lr, mu = self.lr, self.mu
        for p, v, g in zip(self.W + self.b, self.vW + self.vb, list(grads_W) + list(grads_b)):
            v *= mu
            v += g
            p -= lr * v

    def epoch(self, batches) -> float:
        """One pass over ``batches`` (a list of (x, y)); returns the sum of the batch losses."""
        total = 0.0
        step = self.step
        for xb, yb in batches:
            total += step(xb, yb)
        return total
