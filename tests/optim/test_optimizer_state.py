"""Optimizer state and bookkeeping: names, groups, state_dict round trips, validation, denormals."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ravine as rv
from ravine.nn import functional as F
from ravine.optim import transforms as T

NAMES = ["0.weight", "0.bias", "2.weight", "2.bias"]


def make_model(dtype="float64"):
    return rv.nn.MLP(4, [5], 3, activation="tanh", seed=0, dtype=dtype)


def data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)), rng.integers(0, 3, size=n)


def train(model, opt, X, y, steps, start=0, batch=4):
    for step in range(start, start + steps):
        i = (step * batch) % len(X)
        opt.zero_grad()
        F.cross_entropy(model(X[i:i + batch]), y[i:i + batch]).backward()
        opt.step()


VARIANTS = {
    "SGD-nesterov": (rv.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "SGD-dampening": (rv.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.5)),
    "AdaGrad": (rv.optim.AdaGrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    "RMSProp": (rv.optim.RMSProp, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    "Adam": (rv.optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    "AdamW": (rv.optim.AdamW, dict(lr=0.01, betas=(0.8, 0.99))),
}


# --- state_dict ----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", list(VARIANTS))
def test_save_load_mid_training_continues_bit_for_bit(variant):
    cls, kwargs = VARIANTS[variant]
    X, y = data()
    model = make_model()
    opt = cls(model.named_parameters(), **kwargs)
    train(model, opt, X, y, 10)
    saved_model, saved_opt = model.state_dict(), opt.state_dict()
    frozen = json.dumps(saved_opt["param_groups"]), {n: {k: np.copy(v) for k, v in s.items()}
                                                     for n, s in saved_opt["state"].items()}
    train(model, opt, X, y, 10, start=10)

    assert list(saved_opt["state"]) == NAMES  # keyed by parameter name
    assert saved_opt["param_groups"][0]["params"] == NAMES
    assert all(s["step"] == 10 for s in saved_opt["state"].values())
    # the saved dict holds copies: training on did not change it
    assert json.dumps(saved_opt["param_groups"]) == frozen[0]
    for name, state in saved_opt["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(value, frozen[1][name][key])

    other = make_model()
    other.load_state_dict(saved_model)
    fresh = cls(other.named_parameters())  # default hyperparameters: loading restores the saved ones
    fresh.load_state_dict(saved_opt)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    train(other, fresh, X, y, 10, start=10)
    for (name, p), (_, q) in zip(model.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    for name in NAMES:
        for key, value in opt.state[name].items():
            np.testing.assert_array_equal(fresh.state[name][key], value, err_msg=f"{name} {key}")


def test_state_survives_json_and_npz_style_conversion():
    """Lists for tuples, 0-d arrays for numbers, float64 arrays into a float32 model: all load."""
    X, y = data()
    model = make_model("float32")
    opt = rv.optim.Adam(model, lr=0.01)
    train(model, opt, X.astype(np.float32), y, 3)
    saved = opt.state_dict()
    groups = json.loads(json.dumps(saved["param_groups"]))  # betas become a list
    state = {n: {k: np.asarray(v, dtype=np.float64) for k, v in s.items()} for n, s in saved["state"].items()}
    again = rv.optim.Adam(model)
    again.load_state_dict({"state": state, "param_groups": groups})
    assert again.param_groups[0]["betas"] == (0.9, 0.999)
    assert again.state["0.weight"]["step"] == 3 and isinstance(again.state["0.weight"]["step"], int)
    assert again.state["0.weight"]["exp_avg"].dtype == np.float32
    np.testing.assert_array_equal(again.state["0.weight"]["exp_avg"], opt.state["0.weight"]["exp_avg"])


def loaded(opt_state, edit):
    state = {"state": {n: dict(s) for n, s in opt_state["state"].items()},
             "param_groups": [dict(g) for g in opt_state["param_groups"]]}
    edit(state)
    return state


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["state"].pop("2.bias"), r"parameters missing from 'state': 2\.bias"),
    (lambda s: s["state"].update({"3.weight": s["state"]["0.weight"]}),
     r"unknown parameter names in 'state': 3\.weight"),
    (lambda s: s["state"]["0.weight"].update(momentum_buffer=np.zeros((4, 5))),
     r"state of '0\.weight': momentum_buffer has shape \(4, 5\); the parameter has shape \(5, 4\)"),
    (lambda s: s["state"]["0.bias"].pop("momentum_buffer"), r"state of '0\.bias': missing keys: momentum_buffer"),
    (lambda s: s["state"]["0.bias"].update(exp_avg=np.zeros(5)), r"state of '0\.bias': unexpected keys: exp_avg"),
    (lambda s: s["state"]["0.bias"].update(step=-1), r"step must be a non-negative integer; got -1"),
    (lambda s: s["param_groups"][0].pop("momentum"), r"param_groups\[0\]: missing hyperparameters: momentum"),
    (lambda s: s["param_groups"][0].update(betas=(0.9, 0.99)), r"param_groups\[0\]: unexpected hyperparameters: betas"),
    (lambda s: s["param_groups"][0].update(params=NAMES[:3] + ["2.bais"]),
     r"missing parameter names: 2\.bias; unexpected parameter names: 2\.bais"),
    (lambda s: s["param_groups"][0].update(momentum=-0.5), r"SGD: momentum must be ≥ 0; got -0\.5"),
    (lambda s: s["param_groups"].append(dict(s["param_groups"][0])),
     r"the state has 2 parameter groups; this optimizer has 1"),
    (lambda s: s.pop("state"), r"missing keys: state"),
])
def test_loading_a_bad_state_names_the_problem_and_changes_nothing(edit, message):
    X, y = data()
    model = make_model()
    opt = rv.optim.SGD(model, lr=0.1, momentum=0.9)
    train(model, opt, X, y, 2)
    good = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(loaded(good, edit))
    after = opt.state_dict()
    assert after["param_groups"] == good["param_groups"]
    for name in NAMES:
        np.testing.assert_array_equal(after["state"][name]["momentum_buffer"], good["state"][name]["momentum_buffer"])


def test_extra_group_keys_such_as_initial_lr_are_carried_over():
    model = make_model()
    opt = rv.optim.SGD(model, lr=0.1)
    opt.param_groups[0]["initial_lr"] = 0.1  # what the Trainer's schedules add
    other = rv.optim.SGD(model, lr=0.5)
    other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["initial_lr"] == 0.1 and other.param_groups[0]["lr"] == 0.1


# --- names and groups --------------------------------------------------------------------------

def test_names_from_a_module_named_parameters_pairs_or_positions():
    model = make_model()
    assert list(rv.optim.SGD(model).state) == NAMES
    assert list(rv.optim.SGD(model.named_parameters()).state) == NAMES
    assert list(rv.optim.SGD(list(model.named_parameters())).state) == NAMES
    assert list(rv.optim.SGD(list(model.parameters())).state) == ["0.0", "0.1", "0.2", "0.3"]

    class Named(list):  # a parameter list that knows its names (a proposal for Module.parameters())
        names = NAMES

    assert list(rv.optim.SGD(Named(model.parameters())).state) == NAMES
    plain = list(model.parameters())
    groups = [{"params": plain[:2]}, {"params": plain[2:], "lr": 0.5}]
    opt = rv.optim.SGD(groups, lr=0.1)
    assert list(opt.state) == ["0.0", "0.1", "1.0", "1.1"]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["param_names"] == ["1.0", "1.1"]
    assert opt.param_groups[1]["params"][0] is plain[2]


def test_decay_groups_keep_weight_decay_off_biases():
    model = make_model()
    opt = rv.optim.AdamW(rv.optim.decay_groups(model, 0.1, lr=0.01))
    assert [(g["param_names"], g["weight_decay"], g["lr"]) for g in opt.param_groups] == [
        (["0.weight", "2.weight"], 0.1, 0.01), (["0.bias", "2.bias"], 0.0, 0.01)]


@pytest.mark.parametrize("make, error, message", [
    (lambda m: rv.optim.SGD([]), ValueError, "SGD got an empty parameter list"),
    (lambda m: rv.optim.SGD(m.parameters()[0]), TypeError, "got a single Tensor"),
    (lambda m: rv.optim.SGD(list(m.parameters()) + list(m.parameters())[:1]), ValueError,
     "parameter '0.4' is the same Tensor as '0.0'"),
    (lambda m: rv.optim.SGD([("w", m.parameters()[0]), ("w", m.parameters()[1])]), ValueError,
     "two parameters are named 'w'"),
    (lambda m: rv.optim.SGD([{"params": m.parameters()[:1]}, {"params": m.parameters()[:1]}]), ValueError,
     "the same Tensor"),
    (lambda m: rv.optim.SGD([{"params": m.parameters(), "momentun": 0.9}]), ValueError,
     "unknown hyperparameter 'momentun' in parameter group 0"),
    (lambda m: rv.optim.SGD([{"lr": 0.1}]), ValueError, "parameter group 0 has no 'params'"),
    (lambda m: rv.optim.SGD([m.parameters()[0] * 2]), ValueError, "not a leaf Tensor"),
    (lambda m: rv.optim.SGD([1.0, 2.0]), TypeError, "item 0 of parameter group 0 must be a Tensor"),
])
def test_bad_parameter_lists_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make(make_model())


# --- hyperparameters ------------------------------------------------------------------------------

@pytest.mark.parametrize("cls, kwargs, message", [
    (rv.optim.SGD, dict(lr=-1), "SGD: lr must be ≥ 0; got -1"),
    (rv.optim.SGD, dict(lr=float("nan")), "SGD: lr must be a finite number ≥ 0; got nan"),
    (rv.optim.SGD, dict(lr=float("inf")), "SGD: lr must be a finite number ≥ 0; got inf"),
    (rv.optim.SGD, dict(momentum=-0.1), "SGD: momentum must be ≥ 0; got -0.1"),
    (rv.optim.SGD, dict(momentum=0.9, dampening=1.5), r"SGD: dampening must be in \[0, 1\]; got 1.5"),
    (rv.optim.SGD, dict(weight_decay=-1e-4), "SGD: weight_decay must be ≥ 0; got -0.0001"),
    (rv.optim.SGD, dict(nesterov=True), "SGD: nesterov=True needs momentum > 0 and dampening = 0; got momentum=0.0"),
    (rv.optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "needs momentum > 0 and dampening = 0"),
    (rv.optim.AdaGrad, dict(lr_decay=-1), "AdaGrad: lr_decay must be ≥ 0; got -1"),
    (rv.optim.AdaGrad, dict(initial_accumulator_value=-1), "AdaGrad: initial_accumulator_value must be ≥ 0; got -1"),
    (rv.optim.AdaGrad, dict(eps=-1e-10), "AdaGrad: eps must be ≥ 0; got -1e-10"),
    (rv.optim.RMSProp, dict(alpha=-0.9), "RMSProp: alpha must be ≥ 0; got -0.9"),
    (rv.optim.RMSProp, dict(momentum=-1), "RMSProp: momentum must be ≥ 0; got -1"),
    (rv.optim.RMSProp, dict(eps=-1.0), "RMSProp: eps must be ≥ 0; got -1.0"),
    (rv.optim.Adam, dict(betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\); got 1.0"),
    (rv.optim.Adam, dict(betas=(0.9, -0.1)), r"Adam: betas\[1\] must be in \[0, 1\); got -0.1"),
    (rv.optim.Adam, dict(betas=0.9), r"Adam: betas must be a pair \(β₁, β₂\); got 0.9"),
    (rv.optim.Adam, dict(eps=-1e-8), "Adam: eps must be ≥ 0; got -1e-08"),
    (rv.optim.AdamW, dict(weight_decay=-0.01), "AdamW: weight_decay must be ≥ 0; got -0.01"),
])
def test_hyperparameters_are_checked_with_a_message_naming_them(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(make_model(), **kwargs)


@pytest.mark.parametrize("cls, kwargs, message", [
    (rv.optim.SGD, dict(lr="0.1"), "SGD: lr must be a number ≥ 0; got '0.1'"),
    (rv.optim.SGD, dict(momentum=0.9, nesterov=1), "SGD: nesterov must be True or False; got 1"),
    (rv.optim.RMSProp, dict(centered="yes"), "RMSProp: centered must be True or False"),
    (rv.optim.Adam, dict(amsgrad=None), "Adam: amsgrad must be True or False; got None"),
])
def test_hyperparameters_of_the_wrong_type_are_refused(cls, kwargs, message):
    with pytest.raises(TypeError, match=message):
        cls(make_model(), **kwargs)


def test_editing_param_groups_takes_effect_at_the_next_step():
    X, y = data()
    model = make_model()
    opt = rv.optim.SGD(model, lr=0.1, momentum=0.9)
    train(model, opt, X, y, 2)
    before = [p.data.copy() for p in model.parameters()]
    opt.param_groups[0]["lr"] = 0.0
    train(model, opt, X, y, 2)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)
    assert opt.lr == 0.0
    opt.lr = 0.05
    assert opt.param_groups[0]["lr"] == 0.05
    opt.param_groups[0]["momentum"] = 0.0  # plain SGD from now on: θ ← θ − α∇
    opt.zero_grad()
    F.cross_entropy(model(X[:4]), y[:4]).backward()
    expected = [p.data - 0.05 * p.grad.data for p in model.parameters()]
    opt.step()
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.data, e, rtol=0, atol=1e-15)
    assert "momentum_buffer" not in opt.state["0.weight"]
    opt.param_groups[0]["momentum"] = -1.0  # checked when it is used
    with pytest.raises(ValueError, match="SGD: momentum must be ≥ 0; got -1.0"):
        opt.step()
    opt.param_groups[0]["momentum"] = 0.9
    opt.param_groups[0]["lr"] = -0.1
    with pytest.raises(ValueError, match="SGD: lr must be ≥ 0; got -0.1"):
        opt.step()


def test_zero_grad_and_parameters_without_gradient():
    X, y = data()
    model = make_model()
    opt = rv.optim.Adam(model, lr=0.1)
    F.cross_entropy(model(X), y).backward()
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    before = [p.data.copy() for p in model.parameters()]
    opt.step()  # no gradients at all: nothing moves, no state changes
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)
    assert all(s["step"] == 0 and not s["exp_avg"].any() for s in opt.state.values())


def test_transforms_never_write_into_their_input():
    rng = np.random.default_rng(0)
    theta = rng.standard_normal((3, 4))
    for t in [T.add_decayed_weights(0.1), T.trace(0.9), T.trace(0.9, 0.5), T.trace(0.9, nesterov=True),
              T.scale_by_adagrad(0.1), T.scale_by_rms(centered=True), T.scale_by_adam(amsgrad=True),
              T.scale(0.5), T.scale_by_schedule(lambda t: 1 / t)]:
        state = t.init(theta)
        for step in (1, 2, 3):
            g = rng.standard_normal((3, 4))
            kept = g.copy()
            out = np.empty_like(theta)
            u = t.cast(np.float64).update(g, state, theta, step, out)
            np.testing.assert_array_equal(g, kept, err_msg=repr(t))
            assert u is out or any(u is v for v in state.values()), repr(t)


def test_chain_refuses_two_transforms_with_the_same_state():
    with pytest.raises(ValueError, match="state key 'momentum_buffer' is used by both"):
        T.chain(T.trace(0.9), T.trace(0.5))


# --- denormals ----------------------------------------------------------------------------------

def test_subnormal_state_entries_are_flushed_to_zero_every_flush_every_steps():
    model = make_model("float32")
    opt = rv.optim.SGD(model, lr=0.1, momentum=0.9)
    tiny = np.finfo(np.float32).tiny
    for p in model.parameters():
        p.grad = rv.Tensor(np.zeros_like(p.data))
    for state in opt.state.values():
        state["momentum_buffer"][...] = 1e-3
        state["momentum_buffer"].flat[0] = 1e-39  # subnormal from the start
    for _ in range(opt.flush_every - 1):
        opt.step()
    buffers = [s["momentum_buffer"] for s in opt.state.values()]
    assert all(b.flat[0] != 0 for b in buffers)  # not yet
    opt.step()
    assert all(b.flat[0] == 0 for b in buffers)
    assert all(np.all(np.abs(b.flat[1:]) >= tiny) for b in buffers)  # normal numbers untouched

    opt.flush_every = None
    for state in opt.state.values():
        state["momentum_buffer"][...] = 1e-39
    for _ in range(200):
        opt.step()
    assert all(np.all(b != 0) for b in buffers)  # 0.9ⁿ·1e-39 stays stuck above 0 without flushing


def test_add_param_group_later_and_copies_of_an_optimizer():
    import copy

    X, y = data()
    model = rv.nn.MLP(4, [50], 3, activation="tanh", seed=0, dtype="float64")  # the larger weight comes later
    first, second = list(model.named_parameters())[:2], list(model.named_parameters())[2:]
    opt = rv.optim.SGD(first[1:], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": first[:1] + second, "lr": 0.05})
    assert [g["param_names"] for g in opt.param_groups] == [["0.bias"], ["0.weight", "2.weight", "2.bias"]]
    train(model, opt, X, y, 3)
    twin_model, twin_opt = copy.deepcopy((model, opt))  # a copy trains on the copied model
    train(model, opt, X, y, 3, start=3)
    train(twin_model, twin_opt, X, y, 3, start=3)
    for (name, p), (_, q) in zip(model.named_parameters(), twin_model.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        assert p is not q
    with pytest.raises(ValueError, match="parameter '2.bias' is the same Tensor as '2.bias'"):
        opt.add_param_group({"params": second[1:]})
    with pytest.raises(ValueError, match="two parameters are named '2.bias'"):
        opt.add_param_group({"params": [("2.bias", rv.nn.Parameter(np.zeros(3)))]})
