"""Learning-rate schedules: equal to torch.optim.lr_scheduler where torch has the same schedule,
convergence answers per family and regime, purity, validation, the spec grammar, plain-data round trips.

Torch is the oracle: an SGD on one dummy parameter with lr α₀, its scheduler stepped t times, and
``optimizer.param_groups[0]["lr"]`` read after each step is compared with ``schedule(t)``.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import json
import math
import pkgutil
import random
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as L

from ravine.optim import schedules as S

# Both sides compute the same closed form, torch mostly by a recursion (lr_t = lr_{t-1} · ratio):
# each step adds an ulp or so, so after 200 steps they agree to ~1e-14. 1e-12 leaves room.
REL = 1e-12
STEPS = 200


def torch_lrs(make, lr, steps=STEPS, group_lrs=None):
    """The lr of each param group after 0..steps scheduler steps: a list (or list of lists)."""
    params = [torch.zeros(1, requires_grad=True) for _ in (group_lrs or [lr])]
    groups = [{"params": [p], "lr": g} for p, g in zip(params, group_lrs or [lr])]
    opt = torch.optim.SGD(groups, lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "lr_scheduler.step() before optimizer.step()"
        scheduler = make(opt)
        out = [[g["lr"] for g in opt.param_groups]]
        for _ in range(steps):
            opt.step()
            scheduler.step()
            out.append([g["lr"] for g in opt.param_groups])
    return out if group_lrs else [row[0] for row in out]


def assert_close(ours, theirs, rel=REL):
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs)):
        assert abs(a - b) <= rel * abs(b) or a == b, f"t={t}: ours {a!r}, torch {b!r}"


# (id, our schedule, torch scheduler factory, number of steps); α₀ = schedule.base_lr
TORCH_CASES = [
    ("step_decay", S.step_decay(0.1, step_size=30, gamma=0.1),
     lambda o: L.StepLR(o, step_size=30, gamma=0.1), STEPS),
    ("step_decay_7_half", S.step_decay(0.3, step_size=7, gamma=0.5),
     lambda o: L.StepLR(o, step_size=7, gamma=0.5), STEPS),
    ("exponential", S.exponential(0.1, gamma=0.97), lambda o: L.ExponentialLR(o, gamma=0.97), STEPS),
    ("exponential_1", S.exponential(0.05, gamma=1.0), lambda o: L.ExponentialLR(o, gamma=1.0), STEPS),
    ("inverse_time", S.inverse_time(0.1, decay=0.03),
     lambda o: L.LambdaLR(o, lambda t: 1 / (1 + 0.03 * t)), STEPS),
    ("inverse_time_p", S.inverse_time(0.2, decay=0.1, power=0.75),
     lambda o: L.LambdaLR(o, lambda t: (1 + 0.1 * t) ** -0.75), STEPS),
    ("constant", S.constant(0.1), lambda o: L.LambdaLR(o, lambda t: 1.0), STEPS),
    ("linear_decay", S.linear_decay(0.1, steps=150),
     lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.01, total_iters=150), STEPS),
    ("linear_decay_to_0", S.linear_decay(0.1, steps=120, final_lr=0.0),
     lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=120), STEPS),
    ("linear_decay_to_half", S.linear_decay(0.4, steps=50, final_lr=0.2),
     lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.5, total_iters=50), STEPS),
    ("warmup_constant", S.warmup(25, S.constant(0.1)),
     lambda o: L.LinearLR(o, total_iters=25), STEPS),  # torch's default start_factor 1/3 too
    ("warmup_cosine", S.warmup(20, S.cosine(0.1, steps=100), start_factor=0.25),
     lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.25, total_iters=20),
                                  L.CosineAnnealingLR(o, T_max=100)], milestones=[20]), 120),
    ("warmup_step", S.warmup(10, S.step_decay(0.1, 40, 0.5), start_factor=0.1),
     lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=10),
                                  L.StepLR(o, step_size=40, gamma=0.5)], milestones=[10]), STEPS),
    ("hold_constant", S.hold(50, S.constant(0.1)),
     lambda o: L.ConstantLR(o, factor=1.0, total_iters=50), STEPS),
    ("hold_step", S.hold(20, S.step_decay(0.1, 10, 0.5)),
     lambda o: L.SequentialLR(o, [L.ConstantLR(o, factor=1.0, total_iters=20),
                                  L.StepLR(o, step_size=10, gamma=0.5)], milestones=[20]), STEPS),
    ("hold_exponential", S.hold(30, S.exponential(0.1, 0.98)),
     lambda o: L.SequentialLR(o, [L.ConstantLR(o, factor=1.0, total_iters=30),
                                  L.ExponentialLR(o, gamma=0.98)], milestones=[30]), STEPS),
    ("hold_linear", S.hold(40, S.linear_decay(0.1, 100, 0.0)),
     lambda o: L.SequentialLR(o, [L.ConstantLR(o, factor=1.0, total_iters=40),
                                  L.LinearLR(o, 1.0, 0.0, total_iters=100)], milestones=[40]), STEPS),
    ("warmup_hold_cosine", S.warmup(10, S.hold(20, S.cosine(0.1, 150, 0.001)), start_factor=0.5),
     lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.5, total_iters=10),
                                  L.ConstantLR(o, factor=1.0, total_iters=20),
                                  L.CosineAnnealingLR(o, T_max=150, eta_min=0.001)],
                              milestones=[10, 30]), 180),
]
# Cosine only for t <= T_max: torch then climbs a second half-period, ours stays at ε_τ.
# Torch multiplies ratios (1 + cos πt/T)/(1 + cos π(t−1)/T) whose rounding grows as the lr nears 0
# (measured ≤ 9e-14 relative at T = 200, eta_min = 0); ours is accurate to a few ulps (see below).
TORCH_CASES += [
    (f"cosine_T{T}_min{eta_min}", S.cosine(0.1, steps=T, final_lr=eta_min),
     lambda o, T=T, eta_min=eta_min: L.CosineAnnealingLR(o, T_max=T, eta_min=eta_min), T)
    for T in (1, 7, 50, 200) for eta_min in (0.0, 0.004)
]


@pytest.mark.parametrize("schedule, make, steps", [c[1:] for c in TORCH_CASES],
                         ids=[c[0] for c in TORCH_CASES])
def test_equals_torch_lr_scheduler(schedule, make, steps):
    assert_close([schedule(t) for t in range(steps + 1)], torch_lrs(make, schedule.base_lr, steps))


def test_multiplier_scales_param_groups_as_torch_does():
    """The Trainer's rule, group lr = group's initial lr · multiplier(t), is torch's base_lr · factor."""
    s = S.warmup(10, S.cosine(0.1, 100, final_lr=0.0), start_factor=0.2)
    make = lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.2, total_iters=10),  # noqa: E731
                                        L.CosineAnnealingLR(o, T_max=100)], milestones=[10])
    theirs = torch_lrs(make, 0.1, 110, group_lrs=[0.1, 0.02])
    for t, (lr_a, lr_b) in enumerate(theirs):
        assert_close([0.1 * s.multiplier(t), 0.02 * s.multiplier(t)], [lr_a, lr_b])
    assert s.base_lr == 0.1 and s(0) == pytest.approx(0.02, rel=1e-15)


def test_cosine_closed_form_is_accurate_to_a_few_ulps():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    for T, eta in [(5000, 0.0), (5000, 1e-3), (3, 0.0)]:
        s = S.cosine(0.1, T, final_lr=eta)
        for t in list(range(0, T + 1, max(1, T // 97))) + [T - 1, T]:
            exact = eta + (mpmath.mpf("0.1") - eta) * (1 + mpmath.cos(mpmath.pi * t / T)) / 2
            assert abs(s(t) - float(exact)) <= 8e-16 * max(float(exact), 1e-300), (T, eta, t)


# -- reduce on plateau ------------------------------------------------------------------------------

def torch_plateau(metrics, lr, **kwargs):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = L.ReduceLROnPlateau(opt, **kwargs)
    out = []
    for m in metrics:
        scheduler.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out


# Planted: improvement, a long plateau, a small "improvement" inside the threshold, recovery, ...
PLANTED_MIN = [1.0, 0.8, 0.7, 0.7, 0.69999, 0.71, 0.72, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5,
               0.59, 0.58, 0.57, 0.56, 0.55, 0.55, 0.55, 0.55, 0.54995, 0.55, float("nan"), 0.55,
               0.55, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
PLANTED_MAX = [0.5, 0.6, 0.6, 0.60001, 0.6, 0.61, 0.61, 0.61, 0.61, 0.7, 0.69, 0.7, 0.7, 0.7, 0.7,
               0.71, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
# torch's "rel" comparisons with a negative best: best·(1 − threshold) lies above best, so in "min"
# mode a repeat of the best counts as an improvement, and only a clear rise is a bad epoch.
PLANTED_NEGATIVE = [-1.0, -1.1, -1.1, -1.2, -1.19, -1.2, -1.2, -1.3, -1.3, -1.3, -1.0, -1.0, -1.0,
                    -0.5, -0.5, -1.3, -1.3, -1.3, -1.3]
PLATEAU_CASES = [
    ("defaults", PLANTED_MIN, dict()),
    ("min_rel", PLANTED_MIN, dict(factor=0.5, patience=2)),
    ("min_abs", PLANTED_MIN, dict(factor=0.5, patience=2, threshold_mode="abs", threshold=0.02)),
    ("min_rel_big", PLANTED_MIN, dict(factor=0.3, patience=1, threshold=0.1)),
    ("patience_0", PLANTED_MIN, dict(factor=0.5, patience=0)),
    ("cooldown", PLANTED_MIN, dict(factor=0.5, patience=1, cooldown=3)),
    ("min_lr", PLANTED_MIN, dict(factor=0.5, patience=0, min_lr=0.02)),
    ("min_lr_cooldown_abs", PLANTED_MIN,
     dict(factor=0.2, patience=1, min_lr=0.001, cooldown=2, threshold_mode="abs", threshold=0.0)),
    ("eps_blocks", PLANTED_MIN, dict(factor=0.5, patience=0, eps=0.02)),
    ("max_rel", PLANTED_MAX, dict(mode="max", factor=0.5, patience=2)),
    ("max_abs", PLANTED_MAX, dict(mode="max", factor=0.5, patience=1, threshold_mode="abs",
                                  threshold=0.005)),
    ("max_cooldown_min_lr", PLANTED_MAX, dict(mode="max", factor=0.1, patience=0, cooldown=2,
                                              min_lr=0.005)),
    ("negative_min_rel", PLANTED_NEGATIVE, dict(factor=0.5, patience=1, threshold=0.05)),
    ("negative_max_rel", PLANTED_NEGATIVE, dict(mode="max", factor=0.5, patience=1)),
]


@pytest.mark.parametrize("metrics, kwargs", [c[1:] for c in PLATEAU_CASES],
                         ids=[c[0] for c in PLATEAU_CASES])
def test_reduce_on_plateau_equals_torch(metrics, kwargs):
    s = S.reduce_on_plateau(0.1, **kwargs)
    ours = []
    for t, m in enumerate(metrics):
        ours.append(s.observe(m))
        assert s(t + 1) == ours[-1]  # the step does not matter, the metrics do
    theirs = torch_plateau(metrics, 0.1, **kwargs)
    assert ours == theirs  # the same multiplications in the same order: bit for bit
    assert len(set(theirs)) > 1 or kwargs.get("eps"), "the planted sequence should reduce the lr"


@settings(max_examples=60)
@given(metrics=st.lists(st.sampled_from([0.5, 0.6, 0.6, 0.7, 1.0, -0.2, 0.59999]), max_size=40),
       mode=st.sampled_from(["min", "max"]), threshold_mode=st.sampled_from(["rel", "abs"]),
       threshold=st.sampled_from([0.0, 1e-4, 0.05]), patience=st.integers(0, 3),
       cooldown=st.integers(0, 3), min_lr=st.sampled_from([0.0, 0.003]),
       factor=st.sampled_from([0.1, 0.5, 0.9]), eps=st.sampled_from([0.0, 1e-8, 1e-3]))
def test_reduce_on_plateau_equals_torch_on_random_metrics(metrics, **kwargs):
    s = S.reduce_on_plateau(0.1, **kwargs)
    assert [s.observe(m) for m in metrics] == torch_plateau(metrics, 0.1, **kwargs)


def test_reduce_on_plateau_state_round_trip_resumes_exactly():
    kwargs = dict(factor=0.5, patience=1, cooldown=2, min_lr=1e-3)
    whole = S.reduce_on_plateau(0.1, **kwargs)
    expected = [whole.observe(m) for m in PLANTED_MIN]
    first = S.reduce_on_plateau(0.1, **kwargs)
    head = [first.observe(m) for m in PLANTED_MIN[:17]]
    saved = json.loads(json.dumps(first.state_dict()))  # plain data
    resumed = S.reduce_on_plateau(0.1, **kwargs)
    resumed.load_state_dict(saved)
    assert head + [resumed.observe(m) for m in PLANTED_MIN[17:]] == expected
    assert resumed.state_dict() == whole.state_dict()
    resumed.reset()
    assert resumed.state_dict() == S.reduce_on_plateau(0.1, **kwargs).state_dict()


def test_reduce_on_plateau_load_state_dict_reports_bad_keys_and_values():
    s = S.reduce_on_plateau(0.1)
    state = s.state_dict()
    with pytest.raises(ValueError, match=r"missing keys \['best'\], unexpected keys \['bset'\]"):
        s.load_state_dict({**{k: v for k, v in state.items() if k != "best"}, "bset": 1.0})
    with pytest.raises(ValueError, match=r"reduce_on_plateau\.load_state_dict: num_bad_epochs must be an "
                                         r"integer ≥ 0; got -1"):
        s.load_state_dict({**state, "num_bad_epochs": -1})
    with pytest.raises(ValueError, match=r"reduce_on_plateau\.load_state_dict: lr must be > 0; got 0.0"):
        s.load_state_dict({**state, "lr": 0.0})
    with pytest.raises(TypeError, match="state must be a dict"):
        s.load_state_dict([1, 2])
    assert s.state_dict() == state  # nothing half-loaded


def test_reduce_on_plateau_observe_checks_the_metric():
    s = S.reduce_on_plateau(0.1)
    with pytest.raises(TypeError, match="metric must be a real number; got 'low'"):
        s.observe("low")
    with pytest.raises(TypeError, match="metric must be a real number"):
        s.observe(True)
    assert s.observe(np.float32(0.5)) == 0.1 and s.observe(np.array(0.4)) == 0.1
    assert s.observe(torch.tensor(0.3)) == 0.1 and s.best == pytest.approx(0.3)


# -- convergence ------------------------------------------------------------------------------------

# (schedule, Σα_t = ∞?, Σα_t² < ∞?)
CONVERGENCE_CASES = [
    (S.constant(0.1), True, False),
    (S.inverse_time(0.1, 0.01), True, True),
    (S.inverse_time(0.1, 0.01, power=0.75), True, True),
    (S.inverse_time(0.1, 0.01, power=0.5), True, False),
    (S.inverse_time(0.1, 0.01, power=0.3), True, False),
    (S.inverse_time(0.1, 0.01, power=1.5), False, True),
    (S.inverse_time(0.1, 0.0, power=0.75), True, False),
    (S.linear_decay(0.1, 100), True, False),
    (S.linear_decay(0.1, 100, final_lr=0.0), False, True),
    (S.cosine(0.1, 100), False, True),
    (S.cosine(0.1, 100, final_lr=1e-4), True, False),
    (S.step_decay(0.1, 30), False, True),
    (S.step_decay(0.1, 30, gamma=1.0), True, False),
    (S.exponential(0.1, 0.99), False, True),
    (S.exponential(0.1, 1.0), True, False),
    (S.hold(100, S.inverse_time(0.1, 0.01)), True, True),
    (S.hold(100, S.exponential(0.1, 0.9)), False, True),
    (S.hold(0, S.constant(0.1)), True, False),
    (S.warmup(100, S.inverse_time(0.1, 0.01, power=0.6)), True, True),
    (S.warmup(100, S.cosine(0.1, 1000)), False, True),
    (S.warmup(10, S.hold(20, S.linear_decay(0.1, 50, 0.0)), start_factor=0.5), False, True),
    (S.reduce_on_plateau(0.1), True, False),
    (S.reduce_on_plateau(0.1, min_lr=1e-5, eps=0.0), True, False),
    (S.reduce_on_plateau(0.1, eps=0.0), None, None),
]


@pytest.mark.parametrize("schedule, diverges, squares_converge", CONVERGENCE_CASES, ids=repr)
def test_convergence_answer_per_family_and_regime(schedule, diverges, squares_converge):
    c = schedule.convergence()
    assert (c.sum_diverges, c.sum_of_squares_converges) == (diverges, squares_converge)
    rm = None if diverges is None else (diverges and squares_converge)
    assert c.satisfies_robbins_monro is rm and schedule.satisfies_robbins_monro is rm
    assert isinstance(c.reason, str) and len(c.reason) > 20
    assert (c.sum_bound is not None) == (diverges is False)


FINITE_SUMS = [c[0] for c in CONVERGENCE_CASES if c[1] is False]


@pytest.mark.parametrize("schedule", FINITE_SUMS, ids=repr)
def test_a_finite_sum_claim_bounds_the_partial_sums(schedule):
    bound = schedule.convergence().sum_bound
    partial = math.fsum(schedule(t) for t in range(20_000))
    assert partial <= bound * (1 + 1e-12)
    if not isinstance(schedule, S.InverseTime):  # these bounds are the exact sums
        assert partial == pytest.approx(bound, rel=1e-9)


def test_exponential_partial_sums_approach_the_geometric_sum():
    s = S.exponential(0.1, 0.9)
    bound = s.convergence().sum_bound
    assert bound == pytest.approx(1.0, rel=1e-15)
    assert math.fsum(s(t) for t in range(50)) < bound
    # the tail after 400 terms is 0.9^400 ≈ 5e-19: what is left is the rounding of α₀/(1 − γ)
    assert 0 <= bound - math.fsum(s(t) for t in range(400)) < 1e-15


@settings(max_examples=50)
@given(metrics=st.lists(st.floats(-2, 2), max_size=80), factor=st.sampled_from([0.1, 0.5]),
       min_lr=st.sampled_from([0.0, 1e-3]), eps=st.sampled_from([0.0, 1e-8, 1e-2]))
def test_plateau_lr_never_rises_and_never_falls_below_the_derived_floor(metrics, factor, min_lr,
                                                                         eps):
    s = S.reduce_on_plateau(0.1, factor=factor, patience=0, min_lr=min_lr, eps=eps)
    floor, previous = s.lower_bound(), 0.1
    for m in metrics:
        lr = s.observe(m)
        assert floor <= lr <= previous
        previous = lr
    assert (floor > 0) == (s.convergence().sum_diverges is True)


# -- purity, validation -----------------------------------------------------------------------------

PURE = [c[1] for c in TORCH_CASES] + [c[0] for c in CONVERGENCE_CASES if not c[0].stateful]


@pytest.mark.parametrize("schedule", PURE, ids=repr)
def test_pure_schedules_give_the_same_value_in_any_order(schedule):
    steps = list(range(300)) + [10**6, 10**12]
    in_order = {t: schedule(t) for t in steps}
    shuffled = steps * 2
    random.Random(0).shuffle(shuffled)
    assert all(schedule(t) == in_order[t] for t in shuffled)
    assert all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in in_order.values())
    assert schedule(np.int64(7)) == in_order[7]
    with pytest.raises(AttributeError, match="immutable"):
        schedule.lr = 1.0


@pytest.mark.parametrize("schedule", [S.constant(0.1), S.reduce_on_plateau(0.1)], ids=repr)
@pytest.mark.parametrize("step, error, message", [
    (-1, ValueError, r"step must be an integer ≥ 0 \(the number of updates done so far\); got -1"),
    (1.0, TypeError, r"step must be an integer ≥ 0 \(the number of updates done so far\); got 1.0"),
    (True, TypeError, r"step must be an integer ≥ 0 \(.*\); got True"),
    ("3", TypeError, r"step must be an integer ≥ 0 \(.*\); got '3'"),
    (None, TypeError, r"step must be an integer ≥ 0 \(.*\); got None"),
])
def test_step_is_validated(schedule, step, error, message):
    with pytest.raises(error, match=message):
        schedule(step)


BAD_ARGUMENTS = [
    (lambda: S.constant(0), ValueError, "constant: lr must be > 0; got 0"),
    (lambda: S.constant(-0.1), ValueError, "constant: lr must be > 0; got -0.1"),
    (lambda: S.constant(float("nan")), ValueError, "constant: lr must be a finite number > 0; got nan"),
    (lambda: S.constant("0.1"), TypeError, "constant: lr must be a number > 0; got '0.1'"),
    (lambda: S.inverse_time(0.1, -1), ValueError,
     r"inverse_time: decay must be ≥ 0 \(the decrease constant δ\); got -1"),
    (lambda: S.inverse_time(0.1, 0.1, power=0), ValueError, "inverse_time: power must be > 0; got 0"),
    (lambda: S.linear_decay(0.1, 0), ValueError, "linear_decay: steps must be an integer ≥ 1; got 0"),
    (lambda: S.linear_decay(0.1, 10.0), TypeError, "linear_decay: steps must be an integer ≥ 1; got 10.0"),
    (lambda: S.linear_decay(0.1, 10, final_lr=0.2), ValueError,
     r"linear_decay: final_lr must be in \[0, 0.1\] \(between 0 and lr = 0.1\); got 0.2"),
    (lambda: S.cosine(0.1, 10, final_lr=-1e-3), ValueError,
     r"cosine: final_lr must be in \[0, 0.1\] \(between 0 and lr = 0.1\); got -0.001"),
    (lambda: S.step_decay(0.1, 0), ValueError, "step_decay: step_size must be an integer ≥ 1; got 0"),
    (lambda: S.step_decay(0.1, 10, gamma=1.5), ValueError,
     r"step_decay: gamma must be in \(0, 1\] \(a decay factor\); got 1.5"),
    (lambda: S.exponential(0.1, 0.0), ValueError, r"exponential: gamma must be in \(0, 1\]"),
    (lambda: S.exponential(0.1, True), TypeError,
     r"exponential: gamma must be a number in \(0, 1\] \(a decay factor\); got True"),
    (lambda: S.hold(-1, S.constant(0.1)), ValueError, "hold: k must be an integer ≥ 0; got -1"),
    (lambda: S.hold(5, lambda t: 0.1), TypeError, "hold: then must be a ravine schedule"),
    (lambda: S.hold(5, S.reduce_on_plateau(0.1)), TypeError,
     "hold: then must be a pure schedule; reduce_on_plateau changes with a metric"),
    (lambda: S.warmup(5, S.constant(0.1), start_factor=0), ValueError,
     r"warmup: start_factor must be in \(0, 1\]; got 0"),
    (lambda: S.warmup(5, 0.1), TypeError, "warmup: then must be a ravine schedule"),
    (lambda: S.reduce_on_plateau(0.1, factor=1.0), ValueError,
     r"reduce_on_plateau: factor must be in \(0, 1\); got 1.0"),
    (lambda: S.reduce_on_plateau(0.1, mode="mni"), ValueError,
     "reduce_on_plateau: mode must be one of 'min', 'max'; got 'mni'"),
    (lambda: S.reduce_on_plateau(0.1, threshold_mode="relative"), ValueError,
     "reduce_on_plateau: threshold_mode must be one of 'rel', 'abs'; got 'relative'"),
    (lambda: S.reduce_on_plateau(0.1, patience=-1), ValueError,
     "reduce_on_plateau: patience must be an integer ≥ 0; got -1"),
    (lambda: S.reduce_on_plateau(0.1, patience=True), TypeError,
     "reduce_on_plateau: patience must be an integer ≥ 0; got True"),
    (lambda: S.reduce_on_plateau(0.1, min_lr=-1), ValueError, "reduce_on_plateau: min_lr must be ≥ 0; got -1"),
]


@pytest.mark.parametrize("build, error, message", BAD_ARGUMENTS, ids=[m for _, _, m in BAD_ARGUMENTS])
def test_arguments_are_validated_with_clear_messages(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_defaults_repr_and_base_lr():
    assert S.linear_decay(0.1, 100).final_lr == pytest.approx(0.001, rel=1e-15)
    assert repr(S.inverse_time(0.1, 0.01)) == "inverse_time(lr=0.1, decay=0.01, power=1.0)"
    assert repr(S.hold(3, S.cosine(0.1, 9))) == "hold(k=3, then=cosine(lr=0.1, steps=9, final_lr=0.0))"
    assert repr(S.warmup(5, S.constant(0.2))).startswith("warmup(steps=5, then=constant(lr=0.2), ")
    w = S.warmup(5, S.constant(0.2), start_factor=0.5)
    assert (w.base_lr, w(0), w.multiplier(0), w.multiplier(5)) == (0.2, 0.1, 0.5, 1.0)
    assert S.hold(5, S.exponential(0.3, 0.5)).base_lr == 0.3
    assert S.lr_at(S.step_decay(0.1, 2, 0.5), 4) == 0.025
    assert S.hold(4, S.linear_decay(0.1, 4, 0.0))(8) == 0.0
    assert S.warmup(0, S.constant(0.1))(0) == 0.1  # no warm-up at all
    assert S.exponential(0.1, 0.5)(10**6) == 0.0  # underflows quietly to 0


# -- the spec grammar, plain data -------------------------------------------------------------------

GOOD_SPECS = [
    ("constant:lr=0.1", S.constant(0.1)),
    ("inverse_time:lr=0.1,decay=1e-3", S.inverse_time(0.1, 1e-3)),
    ("inverse_time:lr=0.1,decay=1e-3,power=0.6", S.inverse_time(0.1, 1e-3, 0.6)),
    ("linear_decay:lr=0.1,steps=1000", S.linear_decay(0.1, 1000)),
    ("linear_decay:lr=0.1,steps=1e3,final_lr=0", S.linear_decay(0.1, 1000, 0.0)),
    ("cosine:lr=0.1,steps=5000", S.cosine(0.1, 5000)),
    ("step_decay:lr=0.1,step_size=30,gamma=0.1", S.step_decay(0.1, 30, 0.1)),
    ("exponential:gamma=0.99,lr=0.1", S.exponential(0.1, 0.99)),
    (" cosine : lr = 0.1 , steps = 50 ", S.cosine(0.1, 50)),
    ("hold:k=100,then=inverse_time:lr=0.1,decay=0.01", S.hold(100, S.inverse_time(0.1, 0.01))),
    ("warmup:steps=10,start_factor=0.5,then=hold:k=5,then=cosine:lr=0.1,steps=100",
     S.warmup(10, S.hold(5, S.cosine(0.1, 100)), start_factor=0.5)),
]


@pytest.mark.parametrize("spec, expected", GOOD_SPECS, ids=[s for s, _ in GOOD_SPECS])
def test_get_parses_the_cli_form(spec, expected):
    assert S.get(spec) == expected
    assert S.get(expected.to_spec()) == expected


def test_get_parses_reduce_on_plateau_and_passes_objects_through():
    s = S.get("reduce_on_plateau:lr=0.1,factor=0.5,patience=3,mode=max,threshold_mode=abs")
    assert (s.factor, s.patience, s.mode, s.threshold_mode, s.cooldown) == (0.5, 3, "max", "abs", 0)
    assert S.get(s) is s
    assert S.get({"name": "constant", "lr": 0.1}) == S.constant(0.1)
    with pytest.raises(TypeError, match="a schedule spec must be a string"):
        S.get(0.1)


BAD_SPECS = [
    ("", "no schedule name"),
    ("cosin:lr=0.1,steps=10", "unknown schedule 'cosin' .*did you mean 'cosine'"),
    ("cosine", "cosine needs lr, steps"),
    ("cosine:", "nothing after 'cosine:'"),
    ("cosine:lr=0.1,stps=5000", "cosine has no argument 'stps' \\(its arguments: lr, steps, final_lr\\)"),
    ("cosine:lr=0.1,steps5000", "cosine: 'steps5000' is not key=value"),
    ("cosine:lr=0.1,steps=", "cosine: steps= has no value"),
    ("cosine:lr=0.1,steps=1.5", "cosine: steps must be an integer; got '1.5'"),
    ("cosine:lr=fast,steps=10", "cosine: lr must be a number; got 'fast'"),
    ("cosine:lr=0.1,lr=0.2,steps=10", "cosine: lr is given twice"),
    ("cosine:lr=0.1,steps=10,", "cosine: a ',' with no argument after it"),
    ("cosine:lr=-0.1,steps=10", "cosine: lr must be > 0; got -0.1"),
    ("cosine:lr=inf,steps=10", "cosine: lr must be a finite number > 0; got inf"),
    ("hold:k=100", "hold needs then"),
    ("hold:then=constant:lr=0.1,k=100",
     "in hold's then='constant:lr=0.1,k=100' \\(which takes the rest of the spec, so it goes "
     "last\\): constant has no argument 'k'"),
    ("hold:k=10,then=warmup:steps=5,then=cosine:lr=0.1",
     "in hold's then=.*in warmup's then='cosine:lr=0.1'.*cosine needs steps"),
    ("hold:k=10,then=reduce_on_plateau:lr=0.1", "hold: then must be a pure schedule"),
    ("reduce_on_plateau:lr=0.1,mode=maximum",
     "reduce_on_plateau: mode must be one of 'min', 'max'; got 'maximum'"),
]


@pytest.mark.parametrize("spec, message", BAD_SPECS, ids=[s or "empty" for s, _ in BAD_SPECS])
def test_get_errors_quote_the_spec_and_name_the_bad_part(spec, message):
    with pytest.raises(ValueError, match="bad schedule spec ") as info:
        S.get(spec)
    assert repr(spec) in str(info.value)
    assert info.match(message)


ALL = PURE + [S.reduce_on_plateau(0.2, factor=0.5, patience=3, mode="max", threshold=0.01,
                                  threshold_mode="abs", cooldown=2, min_lr=1e-4, eps=0.0)]


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_to_dict_from_dict_and_spec_round_trip(schedule):
    data = schedule.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain data
    for rebuilt in (S.from_dict(data), type(schedule).from_dict(data), S.get(schedule.to_spec())):
        assert type(rebuilt) is type(schedule) and rebuilt.to_dict() == data
        assert repr(rebuilt) == repr(schedule)
        assert all(rebuilt(t) == schedule(t) for t in (0, 1, 17, 250))
        if not schedule.stateful:
            assert rebuilt == schedule and hash(rebuilt) == hash(schedule)


def test_from_dict_errors():
    with pytest.raises(ValueError, match="no 'name' key"):
        S.from_dict({"lr": 0.1})
    with pytest.raises(ValueError, match="unknown schedule 'cosin'"):
        S.from_dict({"name": "cosin"})
    with pytest.raises(ValueError, match="constant has no argument 'decay'"):
        S.from_dict({"name": "constant", "lr": 0.1, "decay": 0.1})
    with pytest.raises(ValueError, match="exponential needs gamma"):
        S.from_dict({"name": "exponential", "lr": 0.1})
    with pytest.raises(ValueError, match="cosine.from_dict got a dict for 'constant'"):
        S.Cosine.from_dict({"name": "constant", "lr": 0.1})
    with pytest.raises(TypeError, match="must be a dict"):
        S.from_dict("constant:lr=0.1")


# -- documentation ----------------------------------------------------------------------------------

MODULES = ["ravine.optim.schedules"] + [
    f"ravine.optim.schedules.{m.name}" for m in pkgutil.iter_modules(S.__path__)]


@pytest.mark.parametrize("module", MODULES)
def test_doctests_pass(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("name", [n for n in S.__all__ if n[0].islower() or n in ("Schedule",)])
def test_public_names_document_their_formula_with_an_example(name):
    doc = inspect.getdoc(getattr(S, name)) or ""
    assert ">>>" in doc, f"{name} has no example"
    if name in S.Schedule.registry:
        assert "α_t" in doc and "Convergence" in doc, f"{name} does not state its formula/derivation"
