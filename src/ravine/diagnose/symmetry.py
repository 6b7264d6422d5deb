"""Permutation symmetry of hidden units, and why it makes the loss non-convex.

A hidden layer of n units computes h = g(W⁽ᵏ⁾ h⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾) with an elementwise g, and the next layer
reads it through W⁽ᵏ⁺¹⁾. For any n×n permutation matrix P,

    W⁽ᵏ⁺¹⁾ Pᵀ g(P W⁽ᵏ⁾ h + P b⁽ᵏ⁾) = W⁽ᵏ⁺¹⁾ Pᵀ P g(W⁽ᵏ⁾ h + b⁽ᵏ⁾) = W⁽ᵏ⁺¹⁾ g(W⁽ᵏ⁾ h + b⁽ᵏ⁾),

since g acts entry by entry (g(Pa) = P g(a)) and PᵀP = I. Relabelling the units — permuting the rows
of the incoming weights and biases and the columns of the outgoing weights together — leaves the
function, hence the loss, unchanged: every minimum θ* comes with n! equivalent copies Pθ* (per layer).

That is the lectures' argument that the training loss of a network with a hidden layer is not convex.
If L were convex, Jensen's inequality would give, for the average of the n! equivalent minima,

    L( (1/n!) Σ_P Pθ* ) ≤ (1/n!) Σ_P L(Pθ*) = L(θ*).

But the average over all permutations has a closed form: (1/n!) Σ_P P W = 1 w̄ᵀ, every row the mean row
(each unit lands in each position equally often), and likewise every outgoing column becomes the mean
column. It is a *degenerate* network whose n units are identical — in effect one unit — and on a real
problem its loss is clearly higher than L(θ*). The inequality fails, so L is not convex.

Batch normalization between the Linear layer and the activation is elementwise per unit too: its γ, β
and running statistics are permuted (and averaged) with the units. Dropout is elementwise as well; in
evaluation mode it is the identity, in training mode the permuted net is the same function in
distribution (the random mask lands on other units).

Example::

    model = rv.nn.MLP(2, [6], 2, seed=0, dtype="float64")
    rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.5, momentum=0.9),
                     progress=False).fit(X, y, epochs=100)
    twin = permute_hidden_units(model, 0, [5, 4, 3, 2, 1, 0])   # same outputs, other weights
    blob = average_over_permutations(model, 0)                   # six identical units
    print(symmetry_report(model, X, y))                          # averaged loss > loss: not convex
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_int
from .._random import as_generator
from ..autodiff.mode import no_grad
from ..autodiff.tensor import Tensor
from ..nn import losses
from ..nn.batchnorm import BatchNorm1d
from ..nn.containers import Sequential
from ..nn.dropout import Dropout
from ..nn.layers import Activation, Identity, Linear
from ..nn.module import Module
from ..nn.side_effects import no_side_effects

# Modules that act on each unit separately (g(Pa) = P g(a)) and own no per-unit state: every
# activation of the registry (all elementwise by construction), the identity and dropout.
_ELEMENTWISE = (Activation, Identity, Dropout)


@dataclass
class _HiddenLayer:
    """One hidden layer of a Sequential: its Linear, its BatchNorm1d (or None) and the next Linear."""

    linear: Linear
    batchnorm: BatchNorm1d | None
    following: Linear

    @property
    def units(self) -> int:
        return self.linear.out_features


def hidden_layers(model: Module) -> list[_HiddenLayer]:
    """The hidden layers of an MLP-shaped ``Sequential``: Linear → [BatchNorm1d] → elementwise … → Linear.

    Raises TypeError for anything else (another container, an unknown module between the Linear
    layers, a batch norm that is not right after a Linear or has the wrong size).
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be an rv.nn.MLP or an rv.nn.Sequential of Linear, activation, "
                        f"BatchNorm1d and Dropout modules; got {type(model).__name__}")
    modules = list(model)
    if not modules or not isinstance(modules[0], Linear):
        first = type(modules[0]).__name__ if modules else "nothing"
        raise TypeError(f"model must start with a Linear layer; it starts with {first}")
    if not isinstance(modules[-1], Linear):
        raise TypeError(f"model must end with a Linear (output) layer; it ends with "
                        f"{type(modules[-1]).__name__}")
    layers: list[_HiddenLayer] = []
    current: Linear = modules[0]
    bn: BatchNorm1d | None = None
    previous: Module = current
    for index, module in enumerate(modules[1:], start=1):
        if isinstance(module, Linear):
            if module.in_features != current.out_features:
                raise TypeError(f"module {index} ({module!r}) reads {module.in_features} features but "
                                f"the layer before it has {current.out_features} units")
            layers.append(_HiddenLayer(current, bn, module))
            current, bn = module, None
        elif isinstance(module, BatchNorm1d):
            if previous is not current:
                raise TypeError(f"module {index} (BatchNorm1d) must come right after a Linear layer to "
                                f"be permuted with its units; it follows {type(previous).__name__}")
            if module.num_features != current.out_features:
                raise TypeError(f"module {index} (BatchNorm1d({module.num_features})) does not match "
                                f"the {current.out_features} units of the Linear layer before it")
            bn = module
        elif not isinstance(module, _ELEMENTWISE):
            raise TypeError(
                f"module {index} is a {type(module).__name__}; hidden units can only be permuted "
                f"through elementwise modules ({', '.join(t.__name__ for t in _ELEMENTWISE)}) and "
                f"BatchNorm1d"
            )
        previous = module
    return layers


def _layer(model: Module, layer, owner: str) -> _HiddenLayer:
    layers = hidden_layers(model)
    if not layers:
        raise ValueError("model has no hidden layer: there are no hidden units to permute")
    n = len(layers)
    index = check_int("layer", layer, minimum=0, maximum=n - 1, owner=owner,
                      hint=f"a 0-based index: the model has {n} hidden layer{'s' if n != 1 else ''}")
    return layers[index]


def _check_permutation(permutation, n: int) -> np.ndarray:
    perm = np.asarray(permutation)
    if perm.ndim != 1 or perm.shape[0] != n:
        raise ValueError(f"permutation must list the {n} units of the layer once each (a 1-D array "
                         f"of length {n}); got shape {perm.shape}")
    if perm.dtype.kind not in "iu":
        if perm.dtype.kind == "f" and np.all(np.isfinite(perm)) and np.all(perm == np.round(perm)):
            perm = perm.astype(np.int64)
        else:
            raise ValueError(f"permutation must hold integers; got dtype {perm.dtype}")
    perm = perm.astype(np.int64)
    if not np.array_equal(np.sort(perm), np.arange(n)):
        raise ValueError(f"permutation must contain each of 0..{n - 1} exactly once; got {perm.tolist()}")
    return perm


def _per_unit_arrays(hidden: _HiddenLayer) -> list[np.ndarray]:
    """Every array indexed by the layer's units along axis 0 (the outgoing weights excluded)."""
    arrays = [hidden.linear.weight.data]
    if hidden.linear.bias is not None:
        arrays.append(hidden.linear.bias.data)
    bn = hidden.batchnorm
    if bn is not None:
        if bn.affine:
            arrays += [bn.weight.data, bn.bias.data]
        if bn.track_running_stats:
            arrays += [bn.running_mean, bn.running_var]
    return arrays


def permute_hidden_units(model: Module, layer: int, permutation) -> Module:
    """A copy of ``model`` with the units of hidden layer ``layer`` (0-based) relabelled.

    Unit i of the new layer is unit ``permutation[i]`` of the old one: with P the permutation matrix
    (P_{i,permutation[i]} = 1),

        W⁽ᵏ⁾ ← P W⁽ᵏ⁾,  b⁽ᵏ⁾ ← P b⁽ᵏ⁾,  (BatchNorm γ, β, running mean and variance ← P ·),
        W⁽ᵏ⁺¹⁾ ← W⁽ᵏ⁺¹⁾ Pᵀ,

    so f(x; Pθ) = f(x; θ) for every x: the same function, other parameters. ``model`` is an MLP
    (or a Sequential of Linear, activation, BatchNorm1d and Dropout modules) and is not modified;
    the copy is a deep copy (its own parameters, buffers, dropout generators and training flags).

    Example::

        twin = permute_hidden_units(model, 0, np.random.default_rng(0).permutation(6))
        np.abs(twin(X).data - model(X).data).max()      # 0 up to rounding (~1e-16 in float64)
    """
    hidden = _layer(model, layer, "permute_hidden_units")
    perm = _check_permutation(permutation, hidden.units)
    new = copy.deepcopy(model)
    target = _layer(new, layer, "permute_hidden_units")
    for array in _per_unit_arrays(target):
        array[...] = array[perm]
    out_weight = target.following.weight.data
    out_weight[...] = out_weight[:, perm]
    return new


def average_over_permutations(model: Module, layer: int) -> Module:
    """A copy of ``model`` whose hidden layer ``layer`` is averaged over all n! unit permutations.

    The mean of the permuted copies Pθ over all n! permutations P of the layer's n units is, in
    closed form (each unit occupies each position in (n−1)! of the n! permutations):

        (1/n!) Σ_P P W⁽ᵏ⁾ = 1 w̄ᵀ   with w̄ = (1/n) Σ_i W⁽ᵏ⁾_{i,:}     (every row the mean row),
        (1/n!) Σ_P P b⁽ᵏ⁾ = b̄ 1,    (1/n!) Σ_P W⁽ᵏ⁺¹⁾ Pᵀ = w̄' 1ᵀ   (every column the mean column),

    and the same mean for batch norm's γ, β and running statistics; every other parameter is left
    as it is (it is the same in all the permuted copies). No enumeration is needed.

    The result is a degenerate network: its n units are identical, so it computes what one unit
    with outgoing weights n·w̄' would. Why it matters: the loss is invariant under the n!
    permutations, L(Pθ*) = L(θ*) at a minimum θ*. If L were convex, Jensen's inequality would give
    L(mean_P Pθ*) ≤ mean_P L(Pθ*) = L(θ*): the degenerate net would be at least as good as the
    trained one. It is worse (``symmetry_report`` measures it), so the loss is not convex — the
    lectures' argument, computed on a real net.

    Example::

        blob = average_over_permutations(model, 0)
        blob[0].weight.data          # six equal rows
    """
    _layer(model, layer, "average_over_permutations")  # validate before copying
    new = copy.deepcopy(model)
    target = _layer(new, layer, "average_over_permutations")
    for array in _per_unit_arrays(target):
        array[...] = array.mean(axis=0, keepdims=True)
    out_weight = target.following.weight.data
    out_weight[...] = out_weight.mean(axis=1, keepdims=True)
    return new


# --- the report ----------------------------------------------------------------------------------

def model_outputs(model: Module, X) -> np.ndarray:
    """The model's outputs on X in evaluation mode, leaving no trace (modes, buffers, generators)."""
    with model.mode(training=False), no_side_effects(model), no_grad():
        out = model(X)
    return np.array(out.data if isinstance(out, Tensor) else out)


def _loss_value(loss, outputs: np.ndarray, y) -> float:
    """The loss of ``outputs`` on ``y``: an ``rv.nn.losses.Loss`` (which shapes the targets) or a function."""
    if isinstance(loss, losses.Loss):
        y = loss.targets(y, len(outputs), outputs.shape[1], outputs.dtype, "symmetry")
    with no_grad():
        value = loss(Tensor(outputs), y)
    return float(value.item() if isinstance(value, Tensor) else value)


@dataclass
class SymmetryReport:
    """What ``symmetry_report`` measured; ``str(report)`` is a readable summary.

    ``loss``: L(θ) of the model; ``permuted_loss``: L(Pθ) for the random ``permutation``;
    ``max_output_difference``: max |f(x; Pθ) − f(x; θ)| over the data and outputs (rounding only);
    ``averaged_loss``: L of the net averaged over all permutations of the layer's units;
    ``nonconvex``: averaged_loss > loss, the witness that L is not convex.
    """

    layer: int
    units: int
    loss_name: str
    loss: float
    permutation: np.ndarray
    permuted_loss: float
    max_output_difference: float
    averaged_loss: float
    examples: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def nonconvex(self) -> bool:
        return bool(self.averaged_loss > self.loss)

    @property
    def loss_increase(self) -> float:
        return self.averaged_loss - self.loss

    def __str__(self) -> str:
        perm = " ".join(str(int(i)) for i in self.permutation)
        n = self.units
        if self.nonconvex:
            verdict = (f"the averaged net ({n} identical units) is worse. A convex loss would give "
                       f"L(mean of the {n}! equivalent nets) <= their mean loss = L(θ): "
                       f"the loss is not convex")
        else:
            verdict = "the averaged net is not worse: no witness of non-convexity here"
        width = 46
        lines = [
            f"permutation symmetry of hidden layer {self.layer} ({n} units), "
            f"{self.loss_name} on {self.examples} examples",
            f"  {'loss of the net':<{width}}{self.loss:.6g}",
            f"  {'loss with the units permuted':<{width}}{self.permuted_loss:.6g}"
            f"   (permutation {perm}; max |output difference| {self.max_output_difference:.2g})",
            f"  {f'loss of the net averaged over all {n}! perms':<{width}}{self.averaged_loss:.6g}"
            f"   ({self.loss_increase:+.6g})",
            f"  {verdict}",
        ]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _random_permutation(n: int, seed) -> np.ndarray:
    """A random permutation of n items, other than the identity when n ≥ 2 (redrawn from the same
    generator), so the check always moves something."""
    rng = as_generator(seed)
    perm = rng.permutation(n)
    while n >= 2 and np.array_equal(perm, np.arange(n)):
        perm = rng.permutation(n)
    return perm


def symmetry_report(model: Module, X, y, loss="cross_entropy", layer: int = 0,
                    seed=0) -> SymmetryReport:
    """Measure permutation symmetry and the non-convexity it implies on data (X, y).

    Computes, in evaluation mode and without touching ``model``: L(θ); for a random permutation P
    of hidden layer ``layer`` (drawn from ``seed``; never the identity when the layer has ≥ 2
    units) L(Pθ) and max |f(X; Pθ) − f(X; θ)| (zero up to rounding); and L(θ̄) for the net θ̄
    averaged over all permutations of that layer (``average_over_permutations``). If L were convex,
    L(θ̄) ≤ L(θ) (Jensen); ``report.nonconvex`` is True when L(θ̄) > L(θ).

    ``loss``: "cross_entropy" (logits and integer labels) or "mse", or a function
    ``loss(outputs: Tensor, y) -> scalar Tensor``. Evaluation of a model with dropout or batch norm
    uses evaluation mode (no dropout, running statistics).

    Example::

        report = symmetry_report(model, X, y, layer=0, seed=0)
        print(report)
        assert report.max_output_difference < 1e-12 and report.nonconvex
    """
    if isinstance(loss, (str, losses.Loss)):
        loss_fn = losses.get(loss)
        loss_name = loss_fn.name
    elif callable(loss):
        loss_name, loss_fn = getattr(loss, "__name__", "loss"), loss
    else:
        raise TypeError(f"loss must be a name ({', '.join(losses.LOSSES)}), an rv.nn.losses.Loss or a "
                        f"function; got {type(loss).__name__}")
    hidden = _layer(model, layer, "symmetry_report")
    n = hidden.units
    perm = _random_permutation(n, seed)
    outputs = model_outputs(model, X)
    permuted_outputs = model_outputs(permute_hidden_units(model, layer, perm), X)
    averaged_outputs = model_outputs(average_over_permutations(model, layer), X)
    diff = float(np.max(np.abs(permuted_outputs - outputs))) if outputs.size else 0.0
    notes = []
    if n == 1:
        notes.append("a layer of one unit has a single permutation: nothing to average")
    report = SymmetryReport(
        layer=int(layer), units=n, loss_name=loss_name,
        loss=_loss_value(loss_fn, outputs, y), permutation=perm,
        permuted_loss=_loss_value(loss_fn, permuted_outputs, y), max_output_difference=diff,
        averaged_loss=_loss_value(loss_fn, averaged_outputs, y), examples=len(outputs), notes=notes,
    )
    if not all(math.isfinite(v) for v in (report.loss, report.permuted_loss, report.averaged_loss)):
        report.notes.append("a loss is not finite; the comparison is meaningless")
    return report


__all__ = ["permute_hidden_units", "average_over_permutations", "symmetry_report",
           "SymmetryReport", "hidden_layers", "model_outputs"]
