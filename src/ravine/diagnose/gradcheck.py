"""Gradient checking: the analytic gradient of backprop against central finite differences.

For a scalar loss f(θ) and each checked entry θᵢ of a parameter, Taylor's theorem gives

    f(θ ± ε eᵢ) = f(θ) ± ε ∂ᵢf + (ε²/2) ∂ᵢ²f ± (ε³/6) ∂ᵢ³f + O(ε⁴),

so the even terms cancel in the central difference

    nᵢ = (f(θ + ε eᵢ) − f(θ − ε eᵢ)) / 2ε = ∂ᵢf + (ε²/6) ∂ᵢ³f + O(ε⁴):

its truncation error is O(ε²) (a one-sided difference is only O(ε)). Rounding pulls the other way:
each value of f carries an error of about u·|f| (u, the unit roundoff, is 1.1e-16 in float64 and
6.0e-8 in float32), which the quotient divides by 2ε, so nᵢ is off by about u·|f|/ε. With the
default ε = 1e-6 in float64 that is ~1e-10·|f| against a truncation error of ~1e-13·|∂ᵢ³f|: for a
loss of order 1 the numerical gradient is good to ~1e-10 absolute. In float32 the same rounding
term is ~0.06·|f| — larger than most gradient entries — so float32 parameters are refused.

The step actually taken is (θᵢ + ε) − (θᵢ − ε) as rounded in float64, not exactly 2ε; the quotient
divides by that step.

Per entry, with a the analytic and n the numerical derivative:

    absolute error  |a − n|
    relative error  |a − n| / max(|a|, |n|, tiny)    (tiny = 2.2e-308, the smallest normal
                                                      float64; 0 when both are 0, at most 2)
    the entry fails when  |a − n| > atol + rtol · max(|a|, |n|)   (or either value is NaN or inf).

The relative error alone is not the test: where the true derivative is 0 (a unit that never fires),
n is rounding noise and the relative error is ~1 however right the code is; ``atol`` covers that.

Example::

    F, rng = rv.nn.functional, np.random.default_rng(0)
    model = rv.nn.MLP(4, [8], 3, dtype="float64", seed=0)
    x, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    report = rv.diagnose.gradcheck(lambda: F.cross_entropy(model(x), y), model)
    print(report)            # one row per parameter: max abs/rel error, the worst entry
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._checks import check_flag, check_int, check_number, check_optional, check_positive
from .._random import as_generator
from ..autodiff.backprop import grad
from ..autodiff.mode import enable_grad, no_grad
from ..autodiff.params import named_params
from ..autodiff.tensor import Tensor

__all__ = ["gradcheck", "GradcheckError", "GradcheckReport", "GradcheckRow"]

_TINY = float(np.finfo(np.float64).tiny)
_FLOAT32_ROUNDOFF = float(np.finfo(np.float32).eps) / 2


@dataclass(frozen=True)
class GradcheckRow:
    """The check of one parameter tensor.

    ``checked`` of its ``size`` entries were compared (all unless ``max_entries`` was given);
    ``failures`` of them were over tolerance. ``worst_index`` is the entry whose error is largest
    compared with its tolerance, |a − n| / (atol + rtol·max(|a|, |n|)), with its analytic and
    numerical derivatives (``None`` and NaN when nothing was checked).
    """

    name: str
    shape: tuple
    size: int
    checked: int
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple | None
    worst_analytic: float
    worst_numerical: float
    failures: int

    @property
    def ok(self) -> bool:
        return self.failures == 0


@dataclass(frozen=True)
class GradcheckReport:
    """The result of ``gradcheck``: one ``GradcheckRow`` per parameter tensor, in the given order.

    ``ok`` is true when no checked entry of any parameter is over tolerance. ``loss`` is f(θ) at
    the unperturbed parameters; ``evaluations`` counts the calls of ``loss_fn`` (1 + 2 per entry).
    ``report["0.weight"]`` is the row of that parameter; ``str(report)`` is a table.
    """

    rows: tuple
    eps: float
    rtol: float
    atol: float
    loss: float
    evaluations: int = 0

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def failed(self) -> list:
        """The rows of the parameters with at least one entry over tolerance."""
        return [row for row in self.rows if not row.ok]

    def __getitem__(self, name: str) -> GradcheckRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no parameter named {name!r} in this report; "
                       f"it has {', '.join(r.name for r in self.rows)}")

    def __str__(self) -> str:
        header = ("parameter", "shape", "checked", "max abs err", "max rel err", "worst entry",
                  "analytic", "numerical", "")
        lines = [header]
        for r in self.rows:
            lines.append((
                r.name, str(r.shape), f"{r.checked}/{r.size}", f"{r.max_abs_error:.2e}",
                f"{r.max_rel_error:.2e}", "-" if r.worst_index is None else str(r.worst_index),
                f"{r.worst_analytic:.9g}", f"{r.worst_numerical:.9g}",
                "ok" if r.ok else f"FAILED ({r.failures})",
            ))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        table = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
        title = (f"gradient check {'passed' if self.ok else 'FAILED'}: loss {self.loss:.9g}, "
                 f"eps {self.eps:g}, rtol {self.rtol:g}, atol {self.atol:g}, "
                 f"{self.evaluations} evaluations of the loss")
        return "\n".join([title, *table])


class GradcheckError(AssertionError):
    """A gradient check found an entry over tolerance; ``err.report`` is the full GradcheckReport."""

    def __init__(self, message: str, report: GradcheckReport):
        super().__init__(message)
        self.report = report


# --- input validation ----------------------------------------------------------------------------

def _named_tensors(params, eps: float) -> list[tuple[str, Tensor]]:
    """(name, Tensor) pairs (``named_params`` reads every form), checked for what a gradient check
    needs: unique names, distinct float64 leaves that require grad and can be written."""
    items = named_params(params, owner="gradcheck")
    if not items:
        raise ValueError("gradcheck: params is empty; there is nothing to check")

    seen_names: dict[str, int] = {}
    seen_tensors: dict[int, str] = {}
    for name, t in items:
        if name in seen_names:
            raise ValueError(f"gradcheck: two parameters are named {name}; names must be unique")
        if id(t) in seen_tensors:
            raise ValueError(f"gradcheck: parameters {seen_tensors[id(t)]} and {name} are the same "
                             f"Tensor; pass each parameter once")
        seen_names[name] = 1
        seen_tensors[id(t)] = name
        if not t.requires_grad:
            raise ValueError(f"gradcheck: parameter {name} does not require grad, so it has no "
                             f"analytic gradient; create it with requires_grad=True")
        if not t.is_leaf:
            raise ValueError(f"gradcheck: parameter {name} is not a leaf (it was computed by an "
                             f"operation); pass the leaf Tensors the loss is computed from")
        if t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: parameter {name} is {t.dtype}, but gradient checking needs float64: "
                f"in float32 each value of the loss f carries a rounding error of about "
                f"{_FLOAT32_ROUNDOFF:.0e}·|f|, which the central difference divides by 2ε, so with "
                f"ε = {eps:g} the numerical gradient would be off by about "
                f"{_FLOAT32_ROUNDOFF / eps:.2g}·|f| — it swamps the difference f(θ+ε) − f(θ−ε). "
                f"Build the model with dtype=\"float64\" (rv.nn.MLP(..., dtype=\"float64\")) and "
                f"give it float64 inputs"
            )
        if not t.data.flags.writeable:
            raise ValueError(f"gradcheck: parameter {name} is read-only; gradcheck perturbs its "
                             f"entries in place (and restores them)")
    return items


def _loss_value(loss, when: str) -> float:
    if not isinstance(loss, Tensor):
        raise TypeError(f"gradcheck: loss_fn() must return a scalar Tensor; {when} it returned "
                        f"{type(loss).__name__}")
    if loss.size != 1:
        raise ValueError(f"gradcheck: loss_fn() must return a scalar Tensor; {when} it returned "
                         f"a Tensor of shape {loss.shape}")
    return float(loss.data.reshape(()))


# --- the check ----------------------------------------------------------------------------------

def _entries(shape: tuple, size: int, max_entries, rng) -> list[tuple]:
    """Index tuples of the entries to check: all, or a random subset of ``max_entries``."""
    if max_entries is None or max_entries >= size:
        flat = np.arange(size)
    else:
        flat = np.sort(rng.choice(size, size=max_entries, replace=False))
    if not shape:
        return [()] * len(flat)  # a 0-d parameter has one entry, indexed by ()
    return [tuple(int(i) for i in idx) for idx in zip(*np.unravel_index(flat, shape))]


def _compare(name, t, analytic, indices, numerical, rtol, atol) -> GradcheckRow:
    if not indices:
        return GradcheckRow(name, t.shape, t.size, 0, 0.0, 0.0, None, math.nan, math.nan, 0)
    a = np.array([analytic[idx] for idx in indices], dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.abs(a - n)
        scale = np.maximum(np.abs(a), np.abs(n))
        rel = err / np.maximum(scale, _TINY)
        tol = atol + rtol * scale
        bad = ~(err <= tol) | ~np.isfinite(a) | ~np.isfinite(n)  # NaN and inf fail
        score = np.where(err == 0, 0.0, err / tol)  # > 1 fails; inf where tol is 0
    worst = int(np.argmax(np.where(np.isnan(score), np.inf, score)))
    return GradcheckRow(
        name=name, shape=t.shape, size=t.size, checked=len(indices),
        max_abs_error=float(err.max()), max_rel_error=float(rel.max()),  # NaN if any entry is NaN
        worst_index=indices[worst], worst_analytic=float(a[worst]), worst_numerical=float(n[worst]),
        failures=int(bad.sum()),
    )


def _over_tolerance(row: GradcheckRow, rtol: float, atol: float) -> tuple[float, float, float, float]:
    """(abs error, rel error, tolerance, abs error / tolerance) at a row's worst entry."""
    a, n = row.worst_analytic, row.worst_numerical
    err = abs(a - n)
    scale = max(abs(a), abs(n))
    tol = atol + rtol * scale
    ratio = err / tol if tol > 0 else (0.0 if err == 0 else math.inf)
    return err, err / max(scale, _TINY), tol, ratio if math.isfinite(err) else math.inf


def _failure_message(report: GradcheckReport) -> str:
    failed = report.failed
    # name the parameter whose worst entry is furthest over its tolerance, list the others
    row = max(failed, key=lambda r: _over_tolerance(r, report.rtol, report.atol)[3])
    abs_err, rel_err, tol, _ = _over_tolerance(row, report.rtol, report.atol)
    message = (
        f"gradient check failed for {row.name} at entry {row.worst_index}: "
        f"analytic {row.worst_analytic:.9g}, numerical {row.worst_numerical:.9g} "
        f"(abs error {abs_err:.3g}, rel error {rel_err:.3g}; tolerance "
        f"atol + rtol·max(|a|, |n|) = {tol:.3g}); "
        f"{row.failures} of {row.checked} checked entries of {row.name} over tolerance"
    )
    others = [f"{r.name} ({r.failures} of {r.checked})" for r in failed if r is not row]
    if others:
        message += "; also failed: " + ", ".join(others)
    return message + "\n" + str(report)


def gradcheck(loss_fn, params, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8,
              max_entries: int | None = None, seed=None,
              raise_on_failure: bool = True) -> GradcheckReport:
    """Compare backprop's gradient of ``loss_fn()`` with central finite differences, in float64.

    ``loss_fn``: a function of no arguments returning a scalar Tensor computed from ``params``
    (a fixed batch; deterministic — no dropout drawing fresh masks).
    ``params``: a ``Module`` (its named parameters), a dict name → Tensor, a Tensor, or a list
    of Tensors (named ``params[i]``, or by the names ``model.parameters()`` carries) or of
    (name, Tensor) pairs — any form ``named_params`` reads; leaf float64 Tensors requiring grad.

    The analytic gradient is ``rv.grad(loss_fn(), params)``. For each checked entry θᵢ the
    numerical derivative is

        nᵢ = (f(θ + ε eᵢ) − f(θ − ε eᵢ)) / 2ε,        error O(ε²) + O(u·|f|/ε),

    with ``loss_fn`` evaluated under ``rv.no_grad()`` and θᵢ perturbed in place and restored bit for
    bit afterwards, also when ``loss_fn`` raises. An entry fails when
    |a − n| > ``atol`` + ``rtol``·max(|a|, |n|); the reported relative error is
    |a − n| / max(|a|, |n|, tiny). The defaults suit float64 models of moderate size with a loss of
    order 1 (a mean, not a sum over a large batch: the rounding term grows with |f|).

    ``max_entries``: check at most this many entries of each tensor, a random subset drawn with
    ``seed`` (an int or a Generator; None draws fresh entropy); None checks every entry.
    Costs 1 + 2·(entries checked) evaluations of ``loss_fn``.

    Returns a ``GradcheckReport`` (one row per parameter: max absolute and relative error, the worst
    entry). If an entry fails and ``raise_on_failure`` is true (the default), raises
    ``GradcheckError`` (an AssertionError) naming the parameter and the entry, with the report as
    ``err.report``.

    Example::

        model = rv.nn.MLP(4, [8], 3, activation="tanh", dtype="float64", seed=0)
        loss_fn = lambda: F.cross_entropy(model(x), y) + rv.nn.L2(1e-3)(model)
        report = rv.diagnose.gradcheck(loss_fn, model)        # raises if a gradient is wrong
        report["0.weight"].max_abs_error                      # ~1e-10
    """
    if not callable(loss_fn):
        raise TypeError(f"gradcheck: loss_fn must be a function of no arguments returning a scalar "
                        f"Tensor; got {type(loss_fn).__name__}")
    owner = "gradcheck"
    eps = check_positive("eps", eps, owner=owner)
    rtol = check_number("rtol", rtol, low=0.0, owner=owner)
    atol = check_number("atol", atol, low=0.0, owner=owner)
    max_entries = check_optional(check_int, "max_entries", max_entries, minimum=1, owner=owner)
    raise_on_failure = check_flag("raise_on_failure", raise_on_failure, owner=owner)
    rng = as_generator(seed, owner=owner)
    items = _named_tensors(params, eps)
    tensors = [t for _, t in items]

    with enable_grad():  # the analytic pass needs the graph, even if called inside no_grad()
        loss = loss_fn()
    f0 = _loss_value(loss, "at the unperturbed parameters")
    if loss.dtype != np.float64:
        raise TypeError(f"gradcheck: loss_fn() returned a {loss.dtype} loss from float64 parameters; "
                        f"compute the loss in float64 (its rounding error decides the check)")
    if not math.isfinite(f0):
        raise ValueError(f"gradcheck: loss_fn() is {f0} at the unperturbed parameters; "
                         f"the check needs a finite loss")
    if not loss.requires_grad:
        raise ValueError("gradcheck: loss_fn() returned a Tensor that does not depend on any of "
                         "params (it does not require grad)")
    analytic = [np.asarray(g.data, dtype=np.float64) for g in grad(loss, tensors)]
    del loss  # free the graph before the many evaluations below
    evaluations = 1

    rows = []
    with no_grad():
        for (name, t), a in zip(items, analytic):
            data = t.data
            indices = _entries(t.shape, t.size, max_entries, rng)
            numerical = []
            for idx in indices:
                original = data[idx]  # a NumPy scalar: a copy, restored exactly below
                plus, minus = original + eps, original - eps
                try:
                    data[idx] = plus
                    f_plus = _loss_value(loss_fn(), f"with {name}{list(idx)} perturbed")
                    data[idx] = minus
                    f_minus = _loss_value(loss_fn(), f"with {name}{list(idx)} perturbed")
                finally:
                    data[idx] = original
                evaluations += 2
                numerical.append((f_plus - f_minus) / (plus - minus))
            rows.append(_compare(name, t, a, indices, numerical, rtol, atol))

    report = GradcheckReport(rows=tuple(rows), eps=eps, rtol=rtol, atol=atol, loss=f0,
                             evaluations=evaluations)
    if raise_on_failure and not report.ok:
        raise GradcheckError(_failure_message(report), report)
    return report
