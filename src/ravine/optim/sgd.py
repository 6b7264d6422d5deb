"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

With momentum μ, dampening τ and weight decay wd, at each step and for each parameter θ:
    g ← ∇θ + wd·θ
    b ← g (first step),  b ← μ b + (1 − τ) g (later steps)
    g ← g + μ b (Nesterov)  or  g ← b
    θ ← θ − α g
which is the velocity form v ← μv − α∇, θ ← θ + v with v = −α b when α is constant.

Example::

    opt = rv.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.zero_grad(); loss.backward(); opt.step()
"""

from __future__ import annotations

import numpy as np


class SGD:
    """Mini-batch (or per-example, with batches of one) stochastic gradient descent."""

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        self.params = list(params)
        if not self.params:
            raise ValueError("SGD got an empty parameter list")
        if not lr > 0:
            raise ValueError(f"SGD: lr must be > 0; got {lr!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1); got {momentum!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        self.lr, self.momentum, self.dampening = float(lr), float(momentum), float(dampening)
        self.nesterov, self.weight_decay = bool(nesterov), float(weight_decay)
        self.buffers: list[np.ndarray | None] = [None] * len(self.params)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        lr, mu = self.lr, self.momentum
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad.data
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if mu:
                buf = self.buffers[i]
                if buf is None:
                    buf = self.buffers[i] = np.array(g, copy=True)
                else:
                    buf *= mu
                    if self.dampening:
                        buf += (1 - self.dampening) * g
                    else:
                        buf += g
                g = g + mu * buf if self.nesterov else buf
            p.data -= lr * g
