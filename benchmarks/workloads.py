"""What the epoch benchmark runs: the workloads, their data and initial weights, the shared settings.

Every implementation trains the same network from the same initial weights (ravine's Glorot-uniform
draw with seed 0) on the same seeded float32 data, with SGD (lr 0.01, momentum 0.9) and softmax +
cross-entropy. The acceptance targets of issues 2 and 3 are listed here too (reported, never asserted).
"""

from __future__ import annotations

import dataclasses

import numpy as np

import ravine as rv

LR, MOMENTUM = 0.01, 0.9
DATA_SEED, INIT_SEED = 1234, 0
GUARD_TOL = 1e-2       # ‖Δravine − Δother‖ / ‖Δravine‖ per tensor after the warm-up
WARMUP_STEPS = 20      # untimed steps before the big workload's rounds (and its guard)

# The implementations, in table order. The first three are ravine: the flow graph driven by the
# user's loop, the compiled step driven by the user's loop, and the Trainer (compiled step,
# shuffled, gathering each batch). The others are the references the ratios are taken against.
GRAPH, COMPILED, TRAINER = "ravine (graph)", "ravine (compiled)", "ravine (Trainer)"
RAVINE = (GRAPH, COMPILED, TRAINER)
REFERENCES = ("numpy", "torch", "sklearn")
IMPLS = RAVINE + REFERENCES


@dataclasses.dataclass(frozen=True)
class Target:
    """An acceptance figure: at ``workload`` / ``batch``, ravine/``other`` ≤ ``limit``."""

    workload: str
    batch: int
    other: str
    limit: float
    source: str


TARGETS = [
    Target("784-256-256-10", 128, "numpy", 1.15, "issue 2"),
    Target("2-8-8-2", 10, "numpy", 1.5, "issue 2"),
    Target("40-100-100-10", 1, "torch", 1 / 3, "issue 3 (≥ 3× faster than torch)"),
]


def target_for(workload: str, batch: int, other: str) -> Target | None:
    return next((t for t in TARGETS if (t.workload, t.batch, t.other) == (workload, batch, other)), None)


@dataclasses.dataclass
class Workload:
    name: str
    sizes: tuple[int, ...]
    activation: str
    n_samples: int
    batches: tuple[int, ...]
    rounds: int
    full_warmup: bool    # warm up (and guard) with a whole epoch; else with WARMUP_STEPS steps
    quick_samples: int

    @property
    def hidden(self) -> tuple[int, ...]:
        return self.sizes[1:-1]


WORKLOADS = [
    Workload("784-256-256-10", (784, 256, 256, 10), "relu", 20_000, (32, 128, 512), 11, False, 2_000),
    Workload("40-100-100-10", (40, 100, 100, 10), "relu", 4_000, (1, 16, 128), 13, True, 500),
    Workload("2-8-8-2", (2, 8, 8, 2), "tanh", 2_000, (10, 1), 17, True, 500),
]
PER_EXAMPLE = WORKLOADS[1]   # issue 3's per-example SGD workload (and the denormal check's)


def make_data(wl: Workload, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded standard-normal float32 features and uniform integer labels (the same for all)."""
    rng = np.random.default_rng(DATA_SEED)
    X = rng.standard_normal((n, wl.sizes[0]), dtype=np.float32)
    y = rng.integers(0, wl.sizes[-1], size=n, dtype=np.int64)
    return X, y


def ravine_model(wl: Workload):
    return rv.nn.MLP(wl.sizes[0], list(wl.hidden), wl.sizes[-1], activation=wl.activation, seed=INIT_SEED)


def initial_weights(wl: Workload):
    """ravine's initial state dict and its (weights, biases), W of shape (out, in)."""
    model = ravine_model(wl)
    state = model.state_dict()
    params = [p.data.copy() for p in model.parameters()]
    return state, params[0::2], params[1::2]


def slices(n: int, batch: int) -> list[slice]:
    return [slice(i, min(i + batch, n)) for i in range(0, n, batch)]


def interleave(weights, biases) -> list:
    """[W0, b0, W1, b1, ...]: the order of ``model.parameters()``."""
    out = []
    for W, b in zip(weights, biases):
        out += [W, b]
    return out
