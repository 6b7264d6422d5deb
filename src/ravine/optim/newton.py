"""Newton's method with Levenberg–Marquardt damping, and saddle-free Newton, for small nets.

Example::

    opt = rv.optim.Newton(model.named_parameters(), damping=1e-3)
    for _ in range(15):
        opt.step(lambda: F.cross_entropy(model(X), y) + rv.nn.L2(1e-3)(model))
    opt.last   # {"loss": ..., "rho": ..., "damping": ..., "accepted": ..., "eig_min": ..., ...}
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import scipy.linalg

from ..autodiff.backprop import grad
from ..autodiff.mode import enable_grad
from ..autodiff.second_order import flatten, hessian, num_parameters, unflatten
from ..autodiff.tensor import Tensor
from .._checks import check_flag, check_int, check_number, check_positive
from .optimizer import Optimizer

__all__ = ["Newton"]

# Levenberg–Marquardt adaptation of λ from ρ = actual / predicted decrease (see ``Newton``).
GOOD_RATIO = 0.75   # ρ above: the quadratic model is trusted, λ ← λ · SHRINK
POOR_RATIO = 0.25   # ρ below (or the model predicts no decrease): λ ← λ · GROW
SHRINK = 1.0 / 3.0
GROW = 2.0          # also the first rejection's factor ν; each further rejection in a row doubles ν
MIN_DAMPING = 1e-12  # λ is not shrunk below this (nor below its starting value, if smaller) ...
MAX_DAMPING = 1e20   # ... nor grown above this
# A step whose actual and predicted changes of the loss are both within this many ulps of the loss
# is accepted with λ unchanged: at a minimum, the two differences are rounding noise and their ratio
# means nothing (rejecting would only inflate λ).
NOISE_ULPS = 100.0
_OWN_KEYS = ("damping", "damping_growth")  # Newton's scalars, in the first parameter's state


def _rounding(eigenvalues: np.ndarray) -> float:
    """Eigenvalues within n·ε·max|Λ| of 0 are zero up to rounding (numpy's matrix_rank tolerance)."""
    return len(eigenvalues) * np.finfo(np.float64).eps * float(np.abs(eigenvalues).max(initial=0.0))


def _scalar(loss, when: str) -> Tensor:
    if not isinstance(loss, Tensor) or loss.size != 1:
        shape = getattr(loss, "shape", None)
        raise ValueError(f"Newton: the closure must return the loss as a scalar Tensor; {when} it returned "
                         f"{type(loss).__name__}" + (f" of shape {shape}" if shape is not None else ""))
    return loss


class Newton(Optimizer):
    r"""Newton's method θ ← θ − α (H + λI)⁻¹ g on the full Hessian, λ adapted by Levenberg–Marquardt.

    **The Newton step.** Near θ the loss is modelled by its second-order Taylor expansion,

        L(θ + s) ≈ m(s) = L(θ) + gᵀs + ½ sᵀHs,    g = ∇L(θ),  H = ∇²L(θ) (exact: double backprop)

    and when H is positive definite m is minimized by s = −H⁻¹g: one step solves a quadratic
    exactly, whatever its conditioning — the ravines that make gradient descent zig-zag (a step
    size bounded by 2/λ_max, progress along the flat directions ∝ λ_min/λ_max) do not slow Newton
    down; near a minimum it converges quadratically. The price: H has n² entries (n parameters)
    and solving costs O(n³), so this is for small nets (``max_params``).

    **Why damping.** Far from a minimum the quadratic model is poor, and where H is singular or
    nearly so (flat directions, e.g. a softmax's logits shifted by a constant) H⁻¹g is huge.
    Levenberg–Marquardt solves (H + λI) d = g instead: λ → 0 gives the Newton step, λ → ∞ gives
    the gradient step g/λ; λ interpolates and is the Lagrange multiplier of a trust region
    ‖d‖ ≤ Δ. Each step θ ← θ − αd (α = ``lr``, 1 by default) is solved by Cholesky when H + λI is
    positive definite; otherwise from the eigendecomposition H = QΛQᵀ, d = Q (Λ + λ)⁻¹ Qᵀ g (a
    direction with Λᵢ + λ exactly 0 gets no step). Note what an indefinite H + λI does: along an
    eigenvector with Λᵢ + λ < 0, d has the sign opposite to a descent direction, so *plain Newton
    climbs the directions of negative curvature*: it goes to the stationary point of the
    quadratic model, a saddle or a maximum as readily as a minimum. That is the lectures' point
    (and Dauphin et al.'s): plain Newton is attracted to saddles.

    **Saddle-free Newton** (``saddle_free=True``; Dauphin et al. 2014, "Identifying and attacking
    the saddle point problem in high-dimensional non-convex optimization") uses |H| = Q|Λ|Qᵀ:

        d = Q (|Λ| + λ)⁻¹ Qᵀ g

    Each eigen-direction is rescaled by 1/(|Λᵢ| + λ) > 0, so d is always a descent direction:
    directions of negative curvature are descended, with a step that grows as the curvature
    shrinks, and a saddle repels instead of attracting.

    **Adapting λ** (``adapt=True``): after the step the closure is evaluated again, and

        ρ = actual decrease / predicted decrease = (L(θ) − L(θ − αd)) / (αgᵀd − ½α² dᵀBd)

    where the prediction is the quadratic model of the matrix the step was computed from, without
    the damping: B = H (the true second-order model) for plain Newton, B = |H| for saddle-free
    Newton (the model that step minimizes; in directions of negative curvature the loss then falls
    faster than predicted, ρ > 1). The rule (Levenberg 1944, Marquardt 1963; in the trust-region
    form of Moré 1978 and Nocedal & Wright, *Numerical Optimization*, 2006, §4.1 and §10.3, with
    Madsen, Nielsen & Tingleff's 1/3 and 2, "Methods for non-linear least squares problems", 2004):

    - the loss did not go down (actual decrease ≤ 0, or the new loss is not finite): the step is
      **rejected** — θ is restored — and λ ← νλ, ν ← 2ν (ν = 2 after an accepted step: successive
      rejections raise λ by 2, 4, 8, ..., so a λ far too small is corrected in a few steps, as in
      Nielsen's rule). With a positive prediction this is ρ ≤ 0;
    - otherwise the step is accepted, ν ← 2, and ρ > 3/4 → λ ← λ/3 (the model is good: trust it
      more); ρ < 1/4, or a prediction ≤ 0 (the model said the loss would rise: H + λI was
      indefinite and the step headed for a saddle or maximum) → λ ← 2λ; in between λ is kept;
    - when both changes are within rounding noise of the loss (100 ulps), ρ means nothing: the
      step is accepted and λ kept (so λ does not inflate at a minimum).

    λ stays in [min(λ₀, 1e-12), 1e20]. A rejected step costs a whole ``step()`` (a new Hessian at
    the same point): call ``step`` in a loop. With ``adapt=False`` λ stays at ``damping``, the
    closure runs once per step, and nothing is rejected. An LM-damped plain Newton only accepts
    decreases, so it may still leave a saddle (slowly, once λ exceeds the most negative
    eigenvalue and the steps become gradient-like); the pure method is ``adapt=False``.

    **The closure** re-evaluates the model on the same data and returns the loss (a scalar Tensor),
    as for ``torch.optim.LBFGS``; it is required. It needn't call ``backward()``: Newton
    differentiates the loss itself (twice) and neither reads nor writes ``.grad``. For ρ to mean
    anything the closure must be deterministic (full batch, or a fixed batch; dropout off).
    ``step`` returns the loss before the step (the first evaluation), as LBFGS does.

    **State.** Newton couples every parameter, so it takes one parameter group and its λ is one
    number: as in ``torch.optim.LBFGS`` it lives in the state of the first parameter,
    ``state[first]["damping"]``, with ν as ``state[first]["damping_growth"]``; every parameter's
    ``"step"`` counts the calls to ``step()`` (accepted or rejected). So ``state_dict()`` and
    ``load_state_dict()`` resume the adaptation exactly. ``current_damping`` reads λ; setting
    ``param_groups[0]["damping"]`` between steps restarts the adaptation from the new value.

    **Diagnostics.** ``last`` holds the figures of the last step: ``loss`` (before the step),
    ``new_loss`` (after it; None without ``adapt``), ``grad_norm``, ``eig_min`` and ``eig_max``
    (of H), ``n_negative`` (eigenvalues of H below −n·ε·max|Λ|: negative beyond rounding),
    ``solver`` ("cholesky" or "eigh"), ``damping`` (the λ used), ``next_damping``, ``predicted``
    and ``actual`` (decreases of the loss; ``actual`` None without ``adapt``), ``rho`` (None
    without ``adapt``, NaN in the noise case), ``accepted``, ``step_norm`` (‖αd‖).

    Hyperparameters: ``damping=1e-3`` (λ₀ ≥ 0; > 0 when ``adapt``), ``saddle_free=False``,
    ``adapt=True``, ``lr=1.0`` (> 0). ``max_params=2000``: the construction is refused beyond it
    (H would take n²·8 bytes: 32 MB at 2000, and seconds per step).

    Example::

        model = rv.nn.MLP(4, [], 3, dtype="float64", seed=0)   # softmax regression: 15 parameters
        opt = rv.optim.Newton(model.named_parameters(), saddle_free=True)
        closure = lambda: F.cross_entropy(model(X), y) + rv.nn.L2(1e-2)(model)
        for _ in range(15):
            opt.step(closure)
        print(opt.last["loss"], opt.last["rho"], opt.current_damping, opt.last["eig_min"])
    """

    needs_closure = True  # step(closure): the Trainer hands it one that re-evaluates the batch

    hyperparameters = ("lr", "damping", "saddle_free", "adapt")

    def __init__(self, params, damping: float = 1e-3, saddle_free: bool = False, max_params: int = 2000,
                 adapt: bool = True, lr: float = 1.0):
        self.max_params = check_int("max_params", max_params, minimum=1, owner="Newton")
        if (isinstance(params, (list, tuple)) and len(params) > 1
                and all(isinstance(g, Mapping) for g in params)):
            raise ValueError(f"Newton takes one parameter group (the Hessian couples every parameter "
                             f"with every other); got {len(params)} groups: put all the parameters "
                             f"in one")
        self.last: dict = {}
        super().__init__(params, dict(lr=lr, damping=damping, saddle_free=saddle_free, adapt=adapt))
        group = self.param_groups[0]
        self._first = group["param_names"][0]
        self.state[self._first].update(damping=group["damping"], damping_growth=GROW)
        self._damping_set = group["damping"]  # the group's value λ was last (re)started from

    def check(self, h: dict) -> dict:
        name = self._name
        h["lr"] = check_positive("lr", h["lr"], owner=name)
        h["damping"] = check_number("damping", h["damping"], low=0.0, owner=name)
        h["saddle_free"] = check_flag("saddle_free", h["saddle_free"], owner=name)
        h["adapt"] = check_flag("adapt", h["adapt"], owner=name)
        if h["adapt"] and h["damping"] == 0:
            raise ValueError(f"{name}: damping must be > 0 when adapt=True (λ is adapted by "
                             f"multiplying it); got damping=0")
        return h

    def add_param_group(self, group: Mapping) -> None:
        """The one parameter group (a second one is refused), within ``max_params``."""
        if self.param_groups:
            raise ValueError(f"{self._name} takes one parameter group (the Hessian couples every "
                             f"parameter with every other); it has one already")
        super().add_param_group(group)
        params, names = self.param_groups[0]["params"], self.param_groups[0]["param_names"]
        n = num_parameters(params)
        if n > self.max_params:
            raise ValueError(
                f"{self._name}: the model has {n:,} parameters; Newton's method forms their {n:,}×{n:,} "
                f"Hessian ({n * n * 8 / 1e6:,.1f} MB in float64) and solves with it in O(n³); the "
                f"limit is max_params={self.max_params:,}: use a first-order optimizer (or "
                f"rv.diagnose.hessian_eigs for the curvature), or raise max_params")
        for name, p in zip(names, params):
            if not p.requires_grad:
                raise ValueError(f"{self._name}: parameter {name!r} does not require grad")
            if p.dtype != params[0].dtype:
                raise TypeError(f"{self._name}: parameter {name!r} has dtype {p.dtype} but "
                                f"{names[0]!r} has {params[0].dtype}; all must share one")

    @property
    def current_damping(self) -> float:
        """λ, as the next step will use it."""
        return float(self.state[self._first]["damping"])

    # --- the step --------------------------------------------------------------------------------
    def step(self, closure=None):
        """One Newton step (see the class docstring); returns the loss before it.

        ``closure``: a function of no arguments that re-evaluates the model and returns the loss.
        """
        if closure is None or not callable(closure):
            raise TypeError(f"{self._name}.step needs a closure that re-evaluates the model and returns "
                            f"the loss, as torch.optim.LBFGS: opt.step(lambda: loss_fn(model(X), y)); "
                            f"got {closure!r}")
        group = self.param_groups[0]
        group.update(self.check({k: group[k] for k in self._hyper}))  # changes between steps are checked
        params, names = group["params"], group["param_names"]
        if len(params) != len(names):
            raise ValueError(f"{self._name}: param_groups[0]['params'] was changed")
        lr, adapt, saddle_free = group["lr"], group["adapt"], group["saddle_free"]
        state = self.state[self._first]
        if group["damping"] != self._damping_set or not adapt:
            state.update(damping=group["damping"], damping_growth=GROW)
            self._damping_set = group["damping"]
        lam, growth = float(state["damping"]), float(state["damping_growth"])

        # the loss, g and H at θ: one evaluation, H by double backprop, g by a first-order pass
        evaluated: list[Tensor] = []

        def loss_fn():
            evaluated.append(_scalar(closure(), "before the step"))
            return evaluated[-1]

        H = hessian(loss_fn, params, max_size=max(self.max_params, num_parameters(params)))
        loss = evaluated[0]
        before = float(loss.data.reshape(()))
        g = flatten(grad(loss, params)).astype(np.float64)
        H = H.astype(np.float64)
        H = 0.5 * (H + H.T)  # symmetric up to rounding; make it exactly so
        if not (math.isfinite(before) and np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
            raise ValueError(f"{self._name}: the loss, its gradient or its Hessian is not finite at the "
                             f"current parameters (loss {before!r})")

        d, curvature, eigenvalues, solver = self._direction(H, g, lam, saddle_free)
        predicted = lr * float(g @ d) - 0.5 * lr * lr * curvature
        step = unflatten(-lr * d, params)
        saved = [p.data.copy() for p in params] if adapt else None
        for p, s in zip(params, step):
            p.data += s.astype(p.dtype, copy=False)
        for name in names:
            self.state[name]["step"] += 1

        after = actual = rho = None
        accepted, next_lam = True, lam
        if adapt:
            try:
                with enable_grad():
                    after = float(_scalar(closure(), "after the step").data.reshape(()))
            except BaseException:  # leave θ as it was found
                for p, old in zip(params, saved):
                    p.data[...] = old
                raise
            actual = before - after if math.isfinite(after) else -math.inf
            noise = NOISE_ULPS * np.finfo(params[0].dtype).eps * max(abs(before), abs(after) if
                                                                     math.isfinite(after) else 0.0)
            if abs(actual) <= noise and abs(predicted) <= noise:
                rho = math.nan
            else:
                rho = actual / predicted if predicted != 0 else math.copysign(math.inf, actual)
                accepted = actual > 0
                if not accepted:
                    next_lam, growth = lam * growth, 2.0 * growth
                elif predicted <= 0 or rho < POOR_RATIO:
                    next_lam = lam * GROW
                elif rho > GOOD_RATIO:
                    next_lam = max(lam * SHRINK, min(MIN_DAMPING, lam))
                next_lam = min(next_lam, max(MAX_DAMPING, lam))
                growth = min(growth, MAX_DAMPING)
            if accepted:
                growth = GROW
            else:
                for p, old in zip(params, saved):
                    p.data[...] = old
            state.update(damping=next_lam, damping_growth=growth)

        self.last = {
            "loss": before, "new_loss": after, "grad_norm": float(np.linalg.norm(g)),
            "eig_min": float(eigenvalues[0]), "eig_max": float(eigenvalues[-1]),
            "n_negative": int(np.sum(eigenvalues < -_rounding(eigenvalues))), "solver": solver,
            "damping": lam, "next_damping": next_lam, "predicted": predicted, "actual": actual,
            "rho": rho, "accepted": accepted, "step_norm": lr * float(np.linalg.norm(d)),
        }
        return loss

    @staticmethod
    def _direction(H: np.ndarray, g: np.ndarray, lam: float, saddle_free: bool):
        """d, dᵀBd (B: H, or |H| when saddle-free), H's ascending eigenvalues, the solver's name."""
        if not saddle_free:
            eigenvalues = np.linalg.eigvalsh(H)
            if eigenvalues[0] + lam > 0:
                try:
                    factor = scipy.linalg.cho_factor(H + lam * np.eye(len(g)), lower=True)
                    d = scipy.linalg.cho_solve(factor, g)
                    return d, float(d @ (H @ d)), eigenvalues, "cholesky"
                except np.linalg.LinAlgError:  # positive definite only up to rounding
                    pass
        eigenvalues, Q = np.linalg.eigh(H)
        scale = np.abs(eigenvalues) if saddle_free else eigenvalues
        denominator = scale + lam
        coefficients = Q.T @ g
        safe = denominator != 0  # an exactly singular H + λI: no step along that direction
        dq = np.zeros_like(coefficients)
        dq[safe] = coefficients[safe] / denominator[safe]
        return Q @ dq, float(np.sum(scale * dq * dq)), eigenvalues, "eigh"

    # --- state -----------------------------------------------------------------------------------
    def load_state_dict(self, state_dict: Mapping) -> None:
        """Load a state saved by ``state_dict()``, λ included (``state[first]["damping"]``)."""
        me = f"{self._name}.load_state_dict"
        first = self._first
        saved_state = state_dict.get("state") if isinstance(state_dict, Mapping) else None
        saved_first = saved_state.get(first) if isinstance(saved_state, Mapping) else None
        if not isinstance(saved_first, Mapping):  # malformed: the base class says how
            super().load_state_dict(state_dict)
            raise ValueError(f"{me}: the state of {first!r} is missing")
        missing = [k for k in _OWN_KEYS if k not in saved_first]
        if missing:
            raise ValueError(f"{me}: the state of {first!r} has no {' or '.join(map(repr, missing))} "
                             f"(λ and ν of the Levenberg–Marquardt damping); was it saved by another "
                             f"optimizer?")
        own = {}
        for key, low in zip(_OWN_KEYS, (0.0, 1.0)):  # λ ≥ 0, ν ≥ 1
            value = saved_first[key]
            if isinstance(value, np.ndarray) and value.size == 1:
                value = value.item()
            own[key] = check_number(f"state[{first!r}][{key!r}]", value, low=low, owner=me)
        groups = state_dict.get("param_groups")
        adapt = groups[0].get("adapt") if isinstance(groups, (list, tuple)) and groups and \
            isinstance(groups[0], Mapping) else None
        if adapt is True and own["damping"] == 0:
            raise ValueError(f"{me}: state[{first!r}]['damping'] must be > 0 with adapt=True; got 0")
        stripped = dict(state_dict)
        stripped["state"] = dict(saved_state)
        stripped["state"][first] = {k: v for k, v in saved_first.items() if k not in _OWN_KEYS}
        super().load_state_dict(stripped)  # checks everything else before changing anything
        self.state[first].update(own)
        self._damping_set = self.param_groups[0]["damping"]
