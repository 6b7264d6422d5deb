"""Search spaces: pure trials, grid enumeration, Sobol, log-uniform sampling, refine, search files."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import qmc

from ravine.select.space import (Choice, IntUniform, LogUniform, SearchSpec, Space, Uniform, load_search,
                                 parse_search, refine)


def mixed_space(kind="random", trials=20):
    return Space({"lr": LogUniform(1e-3, 0.3), "momentum": Uniform(0.5, 0.99),
                  "batch_size": [16, 32, 64], "activation": Choice(["tanh", "relu"]),
                  "l2": Uniform(0.0, 1e-3), "dropout": Uniform(0.0, 0.5)},
                 kind=kind, trials=trials, base={"data": "digits", "hidden": [32]})


# --- purity ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["random", "sobol"])
def test_trial_is_pure_whatever_the_order(kind):
    forward = [mixed_space(kind).trial(i, 7) for i in range(20)]
    order = np.random.default_rng(0).permutation(20)
    fresh = mixed_space(kind)  # a new object, asked in a shuffled order, some twice
    shuffled = {int(i): fresh.trial(int(i), 7) for i in order}
    again = fresh.trial(3, 7)
    assert [shuffled[i] for i in range(20)] == forward
    assert again == forward[3]
    assert len({seed for _, seed in forward}) == 20  # every trial its own training seed


def test_trial_depends_on_seed_and_space():
    space = mixed_space()
    assert space.trial(0, 0) != space.trial(0, 1)
    other = mixed_space(trials=21)  # a different space: a different digest, different trials
    assert other.digest() != space.digest()
    assert other.trial(0, 0) != space.trial(0, 0)


def test_name_order_changes_neither_digest_nor_trials():
    a = Space({"lr": LogUniform(1e-3, 0.3), "momentum": Uniform(0.5, 0.9)}, kind="random", trials=4)
    b = Space({"momentum": Uniform(0.5, 0.9), "lr": LogUniform(1e-3, 0.3)}, kind="random", trials=4)
    assert a.digest() == b.digest()
    assert [a.trial(i, 3) for i in range(4)] == [b.trial(i, 3) for i in range(4)]


def test_digest_is_sha256_hex_and_stable():
    digest = mixed_space().digest()
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == mixed_space().digest()
    assert mixed_space().digest() != Space(mixed_space().dimensions, kind="random", trials=20,
                                           base={"data": "iris"}).digest()


def test_samples_lie_in_their_dimensions():
    space = mixed_space(trials=200)
    for i in range(space.size):
        params, seed = space.trial(i, 0)
        assert set(params) == set(space.names)
        assert all(space.dimensions[n].contains(v) for n, v in params.items())
        assert isinstance(seed, int) and 0 <= seed < 2 ** 32


# --- grid -----------------------------------------------------------------------------------------

def test_grid_enumerates_every_combination_once():
    axes = {"lr": [0.1, 0.01, 0.001], "batch_size": [16, 32], "activation": ["tanh", "relu"],
            "hidden": [[32], [64, 64]]}
    space = Space(axes, base={"data": "digits"})
    assert space.size == 3 * 2 * 2 * 2
    seen = [space.trial(i, 0)[0] for i in range(space.size)]
    keys = sorted(axes)
    as_tuples = [tuple(repr(p[k]) for k in keys) for p in seen]
    expected = {tuple(repr(v) for v in combo) for combo in itertools.product(*(axes[k] for k in keys))}
    assert len(set(as_tuples)) == space.size and set(as_tuples) == expected
    assert seen == space.grid()
    # the order is fixed: sorted names, the last varying fastest
    assert seen[0] == {"activation": "tanh", "batch_size": 16, "hidden": [32], "lr": 0.1}
    assert seen[1] == {"activation": "tanh", "batch_size": 16, "hidden": [32], "lr": 0.01}
    assert seen[3] == {"activation": "tanh", "batch_size": 16, "hidden": [64, 64], "lr": 0.1}


def test_grid_without_axes_is_one_trial_of_the_base():
    space = Space({}, base={"lr": 0.1})
    assert space.size == 1 and space.trial(0, 0)[0] == {}


# --- Sobol ----------------------------------------------------------------------------------------

def sobol_space(trials=64):
    return Space({"momentum": Uniform(0.0, 1.0), "l2": Uniform(0.0, 1.0), "lr": LogUniform(1e-4, 1.0)},
                 kind="sobol", trials=trials)


def test_sobol_is_scrambled_seeded_and_within_bounds():
    space = sobol_space()
    points = [space.trial(i, 5)[0] for i in range(space.size)]
    for p in points:
        assert 0 <= p["momentum"] <= 1 and 0 <= p["l2"] <= 1 and 1e-4 <= p["lr"] <= 1
    # scrambled: an unscrambled Sobol sequence starts at the origin
    assert points[0]["momentum"] != 0 and points[0]["l2"] != 0
    # seeded: the same seed gives the same points, another seed others
    assert points == [sobol_space().trial(i, 5)[0] for i in range(space.size)]
    assert points[0] != space.trial(0, 6)[0]
    # a (0, m, 1)-net in each coordinate: the first 2^m points fill each of 2^m bins exactly once
    for name in ("momentum", "l2"):
        bins = sorted(int(p[name] * 8) for p in points[:8])
        assert bins == list(range(8))


def test_sobol_point_index_is_that_of_the_whole_sequence():
    space = sobol_space(trials=16)
    seeded = np.random.SeedSequence(space._entropy(5))
    sequence = qmc.Sobol(3, scramble=True, seed=np.random.default_rng(seeded)).random(16)
    names = space.names  # sorted: l2, lr, momentum
    for i in (0, 1, 5, 15):
        params = space.trial(i, 5)[0]
        assert params["l2"] == pytest.approx(sequence[i][names.index("l2")], abs=1e-15)
        assert params["momentum"] == pytest.approx(sequence[i][names.index("momentum")], abs=1e-15)


# --- dimensions -----------------------------------------------------------------------------------

def test_log_uniform_samples_are_uniform_in_log_space():
    """Kolmogorov–Smirnov against U(0, 1) of t = (log x − log a)/(log b − log a).

    Under the null hypothesis P(√n·D > 1.95) ≈ 0.001, so D < 1.95/√n is a loose bound that a
    correct sampler passes (with this fixed seed, for certain); uniform in x instead of log x gives
    D ≈ 0.6 here and fails it by far, so the check has power.
    """
    a, b, n = 1e-4, 1.0, 4000
    space = Space({"lr": LogUniform(a, b)}, kind="random", trials=n)
    x = np.array([space.trial(i, 11)[0]["lr"] for i in range(n)])
    t = np.sort((np.log(x) - math.log(a)) / (math.log(b) - math.log(a)))
    cdf = np.arange(1, n + 1) / n
    ks = max(np.max(cdf - t), np.max(t - (cdf - 1 / n)))
    assert ks < 1.95 / math.sqrt(n)
    linear = np.sort((x - a) / (b - a))
    assert max(np.max(cdf - linear), np.max(linear - (cdf - 1 / n))) > 10 * 1.95 / math.sqrt(n)


def test_inverse_cdfs():
    assert Choice(["a", "b", "c"]).sample(0.0) == "a" and Choice(["a", "b", "c"]).sample(0.99) == "c"
    assert Uniform(2, 4).sample(0.25) == 2.5
    assert LogUniform(1e-3, 1e-1).sample(0.5) == pytest.approx(1e-2)
    assert [IntUniform(1, 4).sample(u) for u in (0, 0.24, 0.25, 0.999)] == [1, 1, 2, 4]
    assert IntUniform(1, 1023, log=True).sample(0.25) == 5  # ⌊exp(log(1024)/4)⌋ = ⌊5.66⌋
    assert IntUniform(1, 4).contains(3) and not IntUniform(1, 4).contains(3.0)
    assert not Uniform(0, 1).contains(True) and LogUniform(1e-3, 1).log_scale
    assert IntUniform(1, 8, log=True).log_scale and not IntUniform(1, 8).log_scale


def test_to_dict_round_trips_through_a_search_file():
    dims = {"lr": LogUniform(1e-3, 0.3), "batch_size": IntUniform(8, 64, log=True),
            "activation": Choice(["tanh", "relu"])}
    space = Space(dims, kind="random", trials=4)
    again = Space({n: d.to_dict() for n, d in dims.items()}, kind="random", trials=4)
    assert again.digest() == space.digest()


# --- refine ---------------------------------------------------------------------------------------

def test_refine_box_contains_the_best_and_lies_inside_the_original_bounds():
    space = mixed_space(trials=30)
    rows = [space.trial(i, 2)[0] for i in range(space.size)]
    best = sorted(rows, key=lambda p: abs(math.log(p["lr"] / 0.02)))[:5]  # some "best" trials
    new = refine(space, best)
    assert new.kind == "random" and new.size == 30 and new.base == space.base
    for name, dim in new.dimensions.items():
        values = [p[name] for p in best]
        old = space.dimensions[name]
        if isinstance(dim, Choice):
            assert all(dim.contains(v) for v in values)
            assert all(v in values for v in dim.values)  # kept only if among the best
            assert all(old.contains(v) for v in dim.values)
        else:
            assert type(dim) is type(old)
            assert dim.low == min(values) and dim.high == max(values)
            assert old.low <= dim.low < dim.high <= old.high
    for i in range(new.size):  # and its trials stay in the box
        params, _ = new.trial(i, 0)
        assert all(new.dimensions[n].contains(v) for n, v in params.items())


def test_refine_by_hand():
    space = Space({"lr": LogUniform(1e-4, 1.0), "batch_size": IntUniform(8, 256, log=True),
                   "activation": ["tanh", "relu", "sigmoid"], "momentum": Uniform(0.0, 0.99)},
                  kind="sobol", trials=16)
    best = [{"lr": 0.01, "batch_size": 32, "activation": "relu", "momentum": 0.9},
            {"lr": 0.003, "batch_size": 64, "activation": "relu", "momentum": 0.9},
            {"lr": 0.05, "batch_size": 16, "activation": "tanh", "momentum": 0.5}]
    new = refine(space, best, k=2, trials=8)
    assert new.kind == "sobol" and new.size == 8
    assert repr(new.dimensions["lr"]) == repr(LogUniform(0.003, 0.01))
    assert repr(new.dimensions["batch_size"]) == repr(IntUniform(32, 64, log=True))
    assert new.dimensions["activation"].values == ["relu"]   # one value: a one-value Choice
    assert new.dimensions["momentum"].values == [0.9]
    wide = refine(space, best)
    assert wide.dimensions["activation"].values == ["tanh", "relu"]  # the original order


@pytest.mark.parametrize("best, key", [
    ([], "best"),
    ([{"lr": 0.01}], "momentum"),                                  # a dimension missing
    ([{"lr": 2.0, "momentum": 0.5}], "lr"),                         # outside the space
    ([{"lr": 0.01, "momentum": 0.5, "l1": 0.1}], "l1"),             # not searched
])
def test_refine_refuses_bad_best(best, key):
    space = Space({"lr": LogUniform(1e-4, 1.0), "momentum": Uniform(0, 0.99)}, kind="random", trials=4)
    with pytest.raises(ValueError, match=key):
        refine(space, best)


# --- bad spaces -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, key", [
    (lambda: Space({"learning_rate": [0.1]}), ValueError, "learning_rate: unknown hyper-parameter"),
    (lambda: Space({}, base={"colour": "red"}), ValueError, "base.colour: unknown"),
    (lambda: Space({"seed": [1, 2]}), ValueError, "seed: cannot be set"),
    (lambda: Space({"lr": Uniform(0.1, 0.1)}, kind="random", trials=2), ValueError, "empty range"),
    (lambda: Space({"lr": {"uniform": [0.3, 0.1]}}, kind="random", trials=2), ValueError, "lr: .*empty"),
    (lambda: Space({"batch_size": []}), ValueError, "batch_size: .*empty"),
    (lambda: Space({"batch_size": {"intuniform": [9, 8]}}, kind="random", trials=2), ValueError,
     "batch_size: IntUniform: an empty range"),
    (lambda: IntUniform(9, 8), ValueError, "empty range: low must be ≤ high"),
    (lambda: Space({"lr": {"loguniform": [0, 0.1]}}, kind="random", trials=2), ValueError, "lr: .*> 0"),
    (lambda: Space({"lr": LogUniform(-1, 0.1)}, kind="random", trials=2), ValueError, "low must be > 0"),
    (lambda: Space({"lr": [0.1]}, kind="random", trials=0), ValueError, "trials must be"),
    (lambda: Space({"lr": [0.1]}, kind="random"), ValueError, "trials"),
    (lambda: Space({"lr": [0.1]}, trials=3), ValueError, "trials: a grid"),
    (lambda: Space({"lr": Uniform(0, 1)}), ValueError, "lr: a grid axis"),
    (lambda: Space({"lr": [0.1]}, kind="bayes"), ValueError, "kind must be one of"),
    (lambda: Space({"lr": [0.1, 0.1]}), ValueError, "lr: .*distinct"),
    (lambda: Space({"lr": [0.1]}, base={"lr": 0.2}), ValueError, "lr: both"),
    (lambda: Space({"lr": {"gauss": [0, 1]}}, kind="random", trials=2), ValueError, "lr: must be one of"),
    (lambda: Space({}, base={"lr": object()}), TypeError, "base.lr: must be a TOML"),
])
def test_bad_space_is_refused_naming_the_key(make, error, key):
    with pytest.raises(error, match=key):
        make()


def test_bad_trial_index_and_seed():
    space = mixed_space(trials=3)
    with pytest.raises(ValueError, match="index"):
        space.trial(3, 0)
    with pytest.raises(ValueError, match="search_seed"):
        space.trial(0, -1)


# --- search files ---------------------------------------------------------------------------------

EXAMPLE = """
[search]
kind = "random"
trials = 16
seed = 0
epochs = 20
metric = "val_error"
pruning = "none"
eta = 3
min_epochs = 2
refine_rounds = 0
refine_top = 4
reruns = 0

[base]
data = "digits"
hidden = [32]

[space]
lr = { loguniform = [1e-3, 0.3] }
momentum = { uniform = [0.5, 0.99] }
batch_size = [16, 32, 64]
activation = { choice = ["tanh", "relu"] }
"""


def test_load_search_reads_the_example(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(EXAMPLE)
    spec = load_search(path)
    assert isinstance(spec, SearchSpec)
    assert (spec.seed, spec.epochs, spec.metric, spec.pruning, spec.eta, spec.min_epochs) == \
        (0, 20, "val_error", "none", 3, 2)
    assert (spec.refine_rounds, spec.refine_top, spec.rerun_top, spec.rerun_seeds) == (0, 4, 0, 3)
    assert spec.space.kind == "random" and spec.space.size == 16
    assert spec.space.base == {"data": "digits", "hidden": [32]}
    assert isinstance(spec.space.dimensions["lr"], LogUniform)
    assert spec.space.dimensions["batch_size"].values == [16, 32, 64]
    assert spec.digest() == load_search(path).digest()
    path.write_text(EXAMPLE.replace("epochs = 20", "epochs = 21"))
    assert load_search(path).digest() != spec.digest()  # settings count, not only the space
    assert load_search(path).space.digest() == spec.space.digest()


@pytest.mark.parametrize("old, new, key", [
    ("lr = {", "learning_rate = {", "space.learning_rate: unknown hyper-parameter"),
    ('data = "digits"', 'dataset = "digits"', "base.dataset: unknown"),
    ("[1e-3, 0.3]", "[0.0, 0.3]", "space.lr: .*> 0"),
    ("[0.5, 0.99]", "[0.99, 0.5]", "space.momentum: .*empty range"),
    ("[16, 32, 64]", "[]", "space.batch_size: .*empty"),
    ("trials = 16", "trials = 0", "search.trials must be"),
    ('kind = "random"', 'kind = "bayes"', "search.kind must be one of"),
    ('pruning = "none"', 'pruning = "median"', "search.pruning must be one of"),
    ('metric = "val_error"', 'metric = "test_error"', "search.metric must be one of"),
    ("eta = 3", "eta = 1", "search.eta must be"),
    ("min_epochs = 2", "min_epochs = 50", "search.min_epochs must be ≤"),
    ("seed = 0", "sead = 0", "search.sead: unknown setting"),
    ("[base]", "[bass]", "unknown table bass"),
    ("reruns = 0", "reruns = 0\nrerun_top = 1", "search.reruns"),
])
def test_bad_search_file_names_the_key(tmp_path, old, new, key):
    path = tmp_path / "space.toml"
    assert old in EXAMPLE
    path.write_text(EXAMPLE.replace(old, new, 1))
    with pytest.raises((ValueError, TypeError), match=key) as error:
        load_search(path)
    assert str(path) in str(error.value)


def test_not_toml(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text("[search\n")
    with pytest.raises(ValueError, match="not a valid TOML"):
        load_search(path)


def test_parse_search_defaults_to_a_grid():
    spec = parse_search({"space": {"lr": [0.1, 0.01]}})
    assert spec.space.kind == "grid" and spec.space.size == 2 and spec.pruning == "none"
