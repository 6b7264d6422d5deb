"""The implementations the epoch benchmark times, one class each, with one interface.

Each has ``reset()`` (the initial weights, fresh momentum; untimed), ``epoch(limit=None)`` -> the
summed batch losses of one pass over the first ``limit`` batches (timed) and ``weights()`` ->
``[(W (out, in), b)]`` for the correctness guard (None where the network differs).

ravine runs three ways: ``GraphRunner`` (the plain user loop on the flow graph),
``CompiledRunner`` (the user loop with ``rv.fast.CompiledGradient``) and ``TrainerRunner``
(``rv.train.Trainer.fit``, which runs the compiled step on shuffled, gathered mini-batches).
"""

from __future__ import annotations

import warnings

import numpy as np

import ravine as rv
from numpy_floor import NumpyMLP
from workloads import COMPILED, GRAPH, LR, MOMENTUM, TRAINER, ravine_model, slices


class GraphRunner:
    """The plain user loop on the flow graph: forward, loss, zero_grad, backward, step, loss.item()."""

    name = GRAPH

    def __init__(self, wl, init, X, y, batch):
        self.state = init[0]
        self.model = ravine_model(wl)
        self.batches = [(X[s], y[s]) for s in slices(len(X), batch)]
        self.opt = None

    def reset(self):
        self.model.load_state_dict(self.state)
        self.opt = rv.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def epoch(self, limit=None):
        model, opt = self.model, self.opt
        cross_entropy = rv.nn.functional.cross_entropy
        total = 0.0
        for xb, yb in self.batches[:limit]:
            logits = model(xb)
            loss = cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return total

    def weights(self):
        ps = [p.data for p in self.model.parameters()]
        return list(zip(ps[0::2], ps[1::2]))


class CompiledRunner(GraphRunner):
    """The user loop with ``rv.fast.CompiledGradient``: the graph's own boxes in a fixed order.

    The step sets every ``.grad`` (as zero_grad + backward would) and returns the loss as a float:
    exactly what ``rv.train.Trainer`` runs per batch for a plain MLP.
    """

    name = COMPILED

    def __init__(self, wl, init, X, y, batch):
        super().__init__(wl, init, X, y, batch)
        self.step = rv.fast.CompiledGradient(self.model, "cross_entropy")

    def epoch(self, limit=None):
        step, opt = self.step, self.opt
        total = 0.0
        for xb, yb in self.batches[:limit]:
            loss, _, _ = step(xb, yb)
            opt.step()
            total += loss
        return total


class TrainerRunner:
    """``rv.train.Trainer(model, opt, batch_size=B, seed=0, progress=False).fit(X, y, epochs=1)``.

    On top of the compiled step, the Trainer checks the data once per ``fit``, shuffles (a seeded
    permutation), gathers each batch's rows (``X[index]``, a copy), counts the misclassified
    examples and keeps a snapshot of the weights for its divergence guard. Its batches come in
    another order than the other runners', so the correctness guard cannot compare its weights
    with theirs; ``guard.trainer_check`` compares it with the compiled loop run in its order.
    """

    name = TRAINER

    def __init__(self, wl, init, X, y, batch):
        self.state = init[0]
        self.model = ravine_model(wl)
        self.X, self.y, self.batch = X, y, batch
        self.trainer = None

    def reset(self):
        self.model.load_state_dict(self.state)
        opt = rv.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
        self.trainer = rv.train.Trainer(self.model, opt, batch_size=self.batch, seed=0, progress=False)
        # Timing the Trainer on another path would mislabel the row.
        if self.trainer.step_kind != "compiled":
            raise RuntimeError(f"the Trainer would run a {self.trainer.step_kind!r} step here, not the "
                               f"compiled one: {rv.fast.why_not_compiled(self.model, 'cross_entropy', ())}")

    def rows(self, limit=None) -> int:
        return len(self.X) if limit is None else min(len(self.X), limit * self.batch)

    def epoch(self, limit=None):
        n = self.rows(limit)
        history = self.trainer.fit(self.X[:n], self.y[:n], epochs=1)
        return history["loss"][-1] * n

    def weights(self):
        ps = [p.data for p in self.model.parameters()]
        return list(zip(ps[0::2], ps[1::2]))


class NumpyRunner:
    name = "numpy"

    def __init__(self, wl, init, X, y, batch):
        self.init = init
        self.net = NumpyMLP(init[1], init[2], wl.activation, lr=LR, momentum=MOMENTUM)
        self.batches = [(X[s], y[s]) for s in slices(len(X), batch)]

    def reset(self):
        self.net.load(self.init[1], self.init[2])

    def epoch(self, limit=None):
        return self.net.epoch(self.batches[:limit])

    def weights(self):
        return list(zip(self.net.W, self.net.b))


class TorchRunner:
    name = "torch"

    def __init__(self, wl, init, X, y, batch):
        import torch
        self.torch = torch
        act = torch.nn.ReLU if wl.activation == "relu" else torch.nn.Tanh
        layers = []
        for k, (fan_in, fan_out) in enumerate(zip(wl.sizes[:-1], wl.sizes[1:])):
            layers.append(torch.nn.Linear(fan_in, fan_out))
            if k < len(wl.sizes) - 2:
                layers.append(act())
        self.model = torch.nn.Sequential(*layers)
        self.linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        self.init = [(torch.from_numpy(W.copy()), torch.from_numpy(b.copy())) for W, b in zip(init[1], init[2])]
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        self.batches = [(Xt[s], yt[s]) for s in slices(len(X), batch)]
        self.opt = None

    def reset(self):
        with self.torch.no_grad():
            for layer, (W, b) in zip(self.linears, self.init):
                layer.weight.copy_(W)
                layer.bias.copy_(b)
        self.opt = self.torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def epoch(self, limit=None):
        model, opt = self.model, self.opt
        cross_entropy = self.torch.nn.functional.cross_entropy
        total = 0.0
        for xb, yb in self.batches[:limit]:
            logits = model(xb)
            loss = cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return total

    def weights(self):
        return [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in self.linears]


class SklearnRunner:
    """MLPClassifier.partial_fit: exactly one epoch per call, with our weights and zeroed momentum.

    With two classes scikit-learn uses one logistic output unit instead of a 2-way softmax; its output
    weights are set to w₁ − w₀ (the same initial function, since softmax(z)₁ = σ(z₁ − z₀)), but the
    training differs slightly, so that workload is timed but not compared.
    """

    name = "sklearn"

    def __init__(self, wl, init, X, y, batch):
        from sklearn.neural_network import MLPClassifier
        self.X, self.y, self.batch = X, y, batch
        self.clf = MLPClassifier(
            hidden_layer_sizes=wl.hidden, activation=wl.activation, solver="sgd", alpha=0.0,
            batch_size=batch, learning_rate="constant", learning_rate_init=LR, momentum=MOMENTUM,
            nesterovs_momentum=False, shuffle=False, max_iter=1, tol=0.0, n_iter_no_change=10**9,
            early_stopping=False, random_state=0,
        )
        self.binary = wl.sizes[-1] == 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # a first call on a few rows only builds the layers and the optimizer
            self.clf.partial_fit(X[:2], y[:2], classes=np.arange(wl.sizes[-1]))
        Ws, bs = list(init[1]), list(init[2])
        if self.binary:
            Ws[-1] = Ws[-1][1:] - Ws[-1][:1]
            bs[-1] = bs[-1][1:] - bs[-1][:1]
        self.init = [W.T.copy() for W in Ws], [b.copy() for b in bs]
        for c, W in zip(self.clf.coefs_, self.init[0]):
            if c.shape != W.shape or c.dtype != W.dtype:
                raise RuntimeError(f"sklearn layer {c.shape} {c.dtype} does not match {W.shape} {W.dtype}")

    def reset(self):
        for c, W in zip(self.clf.coefs_, self.init[0]):
            np.copyto(c, W)
        for c, b in zip(self.clf.intercepts_, self.init[1]):
            np.copyto(c, b)
        opt = self.clf._optimizer  # scikit-learn keeps its momentum here; a new run starts at zero
        opt.velocities = [np.zeros_like(v) for v in opt.velocities]

    def epoch(self, limit=None):
        n = len(self.X) if limit is None else min(len(self.X), limit * self.batch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning and friends
            self.clf.partial_fit(self.X[:n], self.y[:n])
        return self.clf.loss_ * n

    def weights(self):
        if self.binary:
            return None
        return [(c.T, b) for c, b in zip(self.clf.coefs_, self.clf.intercepts_)]


RUNNERS = {cls.name: cls for cls in (GraphRunner, CompiledRunner, TrainerRunner,
                                     NumpyRunner, TorchRunner, SklearnRunner)}
