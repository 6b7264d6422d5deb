"""Search spaces: dimensions, grid / random / Sobol trials, refine, and the TOML search file.

A trial is a pure function of (search seed, space, trial index): nothing depends on which worker
asks, in which order, or how many trials were asked before, so any number of workers and either
executor produce the same table.

Every dimension maps a number ``u ∈ [0, 1)`` to a value through its inverse CDF, so random search
(``u`` from a Generator) and Sobol search (``u`` from a scrambled Sobol point) share one rule:

- ``Choice(v₀ … v_{n-1})``:       ``v_⌊n·u⌋``
- ``Uniform(a, b)``:              ``a + u·(b − a)``
- ``LogUniform(a, b)``, a > 0:    ``exp(log a + u·(log b − log a))`` — uniform in ``log x``
- ``IntUniform(a, b)``:           ``⌊a + u·(b − a + 1)⌋`` — each of the b − a + 1 integers with
  probability 1/(b − a + 1); with ``log=True``, ``⌊exp(log a + u·(log(b + 1) − log a))⌋``.

Example::

    space = Space({"lr": LogUniform(1e-3, 0.3), "batch_size": [16, 32]}, kind="random", trials=8)
    params, seed = space.trial(3, search_seed=0)   # the same on every machine, in any order
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import check_choice, check_int, check_number, check_seed

KINDS = ("grid", "random", "sobol")
PRUNINGS = ("none", "halving", "hyperband", "asha")
METRICS = ("val_error", "val_loss")
# Set by the search itself, not searched: each trial's seed comes from the search seed, and its
# epoch budget from [search] epochs (and pruning).
_RESERVED = {"seed": "each trial's training seed is derived from [search] seed",
             "epochs": "the epoch budget is [search] epochs"}


def canonical_json(value) -> str:
    """JSON with sorted keys and no spaces: the same text for the same value, for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _bound(owner: str, name: str, value) -> float:
    return check_number(name, value, owner=owner)


# --- Dimensions ----------------------------------------------------------------------------------

class Choice:
    """One of a list of values, each with probability 1/n: ``sample(u) = values[⌊n·u⌋]``."""

    log_scale = False

    def __init__(self, values):
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise TypeError(f"Choice: values must be a list; got {values!r}")
        values = list(values)
        if not values:
            raise ValueError("Choice: values must not be empty (an empty range); got []")
        seen = set()
        for value in values:
            text = canonical_json(value)  # also refuses values a search file could not hold
            if text in seen:
                raise ValueError(f"Choice: values must be distinct; got {value!r} twice")
            seen.add(text)
        self.values = values

    def sample(self, u: float):
        return self.values[min(int(u * len(self.values)), len(self.values) - 1)]

    def contains(self, value) -> bool:
        try:
            text = canonical_json(value)
        except (TypeError, ValueError):
            return False
        return any(text == canonical_json(v) for v in self.values)

    def to_dict(self) -> dict:
        return {"choice": list(self.values)}

    def __repr__(self):
        return f"Choice({self.values!r})"


class Uniform:
    """A real number uniform on [low, high]: ``sample(u) = low + u·(high − low)``."""

    log_scale = False
    _key = "uniform"

    def __init__(self, low, high):
        name = type(self).__name__
        self.low, self.high = _bound(name, "low", low), _bound(name, "high", high)
        if not self.low < self.high:
            raise ValueError(f"{name}: an empty range: low must be < high; got [{low!r}, {high!r}]")

    def sample(self, u: float) -> float:
        return min(self.low + u * (self.high - self.low), self.high)

    def contains(self, value) -> bool:
        return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
                and self.low <= value <= self.high)

    def to_dict(self) -> dict:
        return {self._key: [self.low, self.high]}

    def __repr__(self):
        return f"{type(self).__name__}({self.low!r}, {self.high!r})"


class LogUniform(Uniform):
    """A real number whose logarithm is uniform on [log low, log high] (low > 0):
    ``sample(u) = exp(log low + u·(log high − log low))``. Right for scales such as ``lr``."""

    log_scale = True
    _key = "loguniform"

    def __init__(self, low, high):
        super().__init__(low, high)
        if self.low <= 0:
            raise ValueError(f"LogUniform: low must be > 0 (the bounds of a log scale); got {low!r}")

    def sample(self, u: float) -> float:
        log_low, log_high = math.log(self.low), math.log(self.high)
        return min(max(math.exp(log_low + u * (log_high - log_low)), self.low), self.high)


class IntUniform:
    """An integer in [low, high], each equally likely: ``sample(u) = ⌊low + u·(high − low + 1)⌋``;
    with ``log=True`` (low ≥ 1) uniform in log space: ``⌊exp(log low + u·(log(high + 1) − log low))⌋``."""

    def __init__(self, low, high, log: bool = False):
        self.low = check_int("low", low, owner="IntUniform")
        self.high = check_int("high", high, owner="IntUniform")
        if not isinstance(log, bool):
            raise TypeError(f"IntUniform: log must be True or False; got {log!r}")
        if self.low > self.high:
            raise ValueError(f"IntUniform: an empty range: low must be ≤ high; got [{low!r}, {high!r}]")
        if log and self.low <= 0:
            raise ValueError(f"IntUniform: low must be > 0 on a log scale; got {low!r}")
        self.log = log

    @property
    def log_scale(self) -> bool:
        return self.log

    def sample(self, u: float) -> int:
        if self.log:
            log_low = math.log(self.low)
            value = math.floor(math.exp(log_low + u * (math.log(self.high + 1) - log_low)))
        else:
            value = math.floor(self.low + u * (self.high - self.low + 1))
        return int(min(max(value, self.low), self.high))

    def contains(self, value) -> bool:
        return (isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
                and self.low <= value <= self.high)

    def to_dict(self) -> dict:
        return {"intuniform": [self.low, self.high], "log": self.log}

    def __repr__(self):
        return f"IntUniform({self.low!r}, {self.high!r}, log={self.log!r})"


Dimension = Choice | Uniform | LogUniform | IntUniform


def dimension_from_dict(spec) -> Dimension:
    """A dimension from its search-file form: a list (a grid axis), ``{choice = [...]}``,
    ``{uniform = [a, b]}``, ``{loguniform = [a, b]}``, ``{intuniform = [a, b], log = false}``."""
    if isinstance(spec, (Choice, Uniform, IntUniform)):
        return spec
    if isinstance(spec, (list, tuple)):
        return Choice(spec)
    if not isinstance(spec, dict):
        raise TypeError(f"must be a list or a table such as {{ uniform = [0, 1] }}; got {spec!r}")
    kinds = [k for k in ("choice", "uniform", "loguniform", "intuniform") if k in spec]
    extra = sorted(set(spec) - {"choice", "uniform", "loguniform", "intuniform", "log"})
    if len(kinds) != 1 or extra or ("log" in spec and kinds != ["intuniform"]):
        raise ValueError("must be one of { choice = [...] }, { uniform = [a, b] }, { loguniform = [a, b] }"
                         f", {{ intuniform = [a, b], log = false }}; got {spec!r}")
    kind, args = kinds[0], spec[kinds[0]]
    if kind == "choice":
        return Choice(args)
    if not isinstance(args, (list, tuple)) or len(args) != 2:
        raise ValueError(f"{kind} must be a pair [low, high]; got {args!r}")
    if kind == "intuniform":
        return IntUniform(*args, log=spec.get("log", False))
    return (Uniform if kind == "uniform" else LogUniform)(*args)


def _keyed(name: str, error: Exception) -> Exception:
    """The same error, with the key it concerns in front."""
    return type(error)(f"{name}: {error}")


def train_keys() -> list[str]:
    """The options of ``ravine train`` (imported late: the CLI sits above this layer)."""
    from ..cli.config import TrainConfig
    return TrainConfig.keys()


def _check_key(name, where: str) -> None:
    keys = train_keys()
    if name not in keys:
        raise ValueError(f"{where}{name}: unknown hyper-parameter (not an option of ravine train; "
                         f"known: {', '.join(keys)})")
    if name in _RESERVED:
        raise ValueError(f"{where}{name}: cannot be set here ({_RESERVED[name]})")


# --- The space -----------------------------------------------------------------------------------

class Space:
    """The hyper-parameters searched (``dimensions``), how (``kind``), how many trials, and the
    fixed options of ``ravine train`` (``base``).

    Names are kept sorted, so the order they were written in changes neither trials nor digest.
    A grid is every combination of its axes (lists or ``Choice``), the last name varying fastest;
    random and Sobol spaces take ``trials`` points, a list there being a ``Choice``.
    """

    def __init__(self, dimensions: dict, kind: str = "grid", trials: int | None = None,
                 base: dict | None = None):
        if not isinstance(dimensions, dict):
            raise TypeError(f"Space: dimensions must be a dict of name -> dimension; got {dimensions!r}")
        self.kind = check_choice("kind", kind, KINDS, owner="Space")
        base = {} if base is None else base
        if not isinstance(base, dict):
            raise TypeError(f"Space: base must be a dict of ravine train options; got {base!r}")
        for name in base:
            _check_key(name, "Space: base.")
        dims = {}
        for name in sorted(dimensions):
            _check_key(name, "Space: ")
            if name in base:
                raise ValueError(f"Space: {name}: both searched and fixed in base; give it once")
            try:
                dims[name] = dimension_from_dict(dimensions[name])
            except (TypeError, ValueError) as error:
                raise _keyed(f"Space: {name}", error) from None
            if self.kind == "grid" and not isinstance(dims[name], Choice):
                raise ValueError(f"Space: {name}: a grid axis must be a list of values; got "
                                 f"{dims[name]!r} (use kind 'random' or 'sobol' for ranges)")
        self.dimensions = dims
        self.base = dict(base)
        for name, value in self.base.items():  # what a search file cannot hold is refused now
            try:
                canonical_json(value)
            except (TypeError, ValueError):
                raise TypeError(f"Space: base.{name}: must be a TOML/JSON value; got {value!r}") from None
        grid_size = math.prod(len(d.values) for d in dims.values()) if self.kind == "grid" else None
        if self.kind == "grid":
            if trials is not None and check_int("trials", trials, owner="Space") != grid_size:
                raise ValueError(f"Space: trials: a grid runs every combination ({grid_size}); "
                                 f"leave trials out; got {trials!r}")
            self.trials = None
        else:
            if trials is None:
                raise ValueError(f"Space: trials: a {self.kind} space needs a number of trials ≥ 1; got None")
            self.trials = check_int("trials", trials, minimum=1, owner="Space",
                                    hint="a space with no trials runs nothing")
        self.size = grid_size if self.kind == "grid" else self.trials

    @property
    def names(self) -> list[str]:
        return list(self.dimensions)

    def to_dict(self) -> dict:
        return {"dimensions": {n: d.to_dict() for n, d in self.dimensions.items()},
                "kind": self.kind, "trials": self.trials, "base": self.base}

    def digest(self) -> str:
        """sha256 (hex) of the canonical JSON of dimensions, kind, trials and base."""
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()

    def _entropy(self, search_seed: int) -> list[int]:
        # The seed and the digest's 256 bits: two spaces never share a stream by accident.
        digest = int(self.digest(), 16)
        return [search_seed] + [(digest >> (32 * i)) & 0xFFFFFFFF for i in range(8)]

    def trial(self, index: int, search_seed: int) -> tuple[dict, int]:
        """Trial ``index``'s searched hyper-parameters and its training seed.

        A pure function of (search seed, digest, index): ``SeedSequence(entropy=[seed, digest…],
        spawn_key=(index,))`` splits into a stream for the parameters (random search) and one for
        the training seed (a 32-bit integer). Sobol: point ``index`` of one scrambled Sobol sequence
        (``scipy.stats.qmc.Sobol(d, scramble=True)``) seeded from (search seed, digest).
        """
        index = check_int("index", index, minimum=0, maximum=self.size - 1, owner="Space.trial")
        search_seed = check_seed("search_seed", search_seed, owner="Space.trial", allow_none=False)
        if not isinstance(search_seed, int):
            raise TypeError(f"Space.trial: search_seed must be an integer ≥ 0; got {search_seed!r}")
        entropy = self._entropy(search_seed)
        params_seq, seed_seq = np.random.SeedSequence(entropy, spawn_key=(index,)).spawn(2)
        seed = int(seed_seq.generate_state(1, np.uint32)[0])
        dims = list(self.dimensions.values())
        if self.kind == "grid":
            params, rest = {}, index
            for name in reversed(self.names):  # mixed radix: the last name varies fastest
                rest, digit = divmod(rest, len(self.dimensions[name].values))
                params[name] = self.dimensions[name].values[digit]
            return {n: params[n] for n in self.names}, seed
        if self.kind == "random":
            u = np.random.default_rng(params_seq).random(len(dims))
        else:
            u = _sobol_point(len(dims), index, np.random.SeedSequence(entropy))
        return {n: d.sample(float(x)) for n, d, x in zip(self.names, dims, u)}, seed

    def grid(self) -> list[dict]:
        """Every combination of a grid, in trial order (a convenience; ``trial`` needs no list)."""
        if self.kind != "grid":
            raise ValueError(f"Space.grid: kind must be 'grid'; got {self.kind!r}")
        axes = [self.dimensions[n].values for n in self.names]
        return [dict(zip(self.names, combo)) for combo in itertools.product(*axes)]

    def __repr__(self):
        return f"Space({self.dimensions!r}, kind={self.kind!r}, trials={self.trials!r}, base={self.base!r})"


def _sobol_point(d: int, index: int, seq: np.random.SeedSequence) -> np.ndarray:
    if d == 0:
        return np.zeros(0)
    from scipy.stats import qmc
    sampler = qmc.Sobol(d, scramble=True, seed=np.random.default_rng(seq))
    if index:  # scipy cannot fast-forward by zero points
        sampler.fast_forward(index)
    with warnings.catch_warnings():  # one point at a time: the balance warning does not apply
        warnings.simplefilter("ignore")
        return sampler.random(1)[0]


# --- Refine --------------------------------------------------------------------------------------

def refine(space: Space, best: list[dict], k: int | None = None, trials: int | None = None) -> Space:
    """A new round on the box spanned by the best trials' values.

    ``best``: the searched parameters of the best trials, best first; ``k``: use only the first k
    (all if None). Per dimension, with ``V`` the best values: a range becomes ``[min V, max V]``
    (log-uniform stays log-uniform, so the box is taken in log space), clipped to the original
    bounds; a ``Choice`` keeps, in its order, only the values in ``V``; one distinct value becomes
    a one-value ``Choice``. The new space is random (Sobol if the old one was), with ``trials``
    trials (default: the old space's size) and the same base.

    Example::

        refine(space, [{"lr": 0.01}, {"lr": 0.03}])   # lr ~ LogUniform(0.01, 0.03)
    """
    if not isinstance(best, (list, tuple)) or not best:
        raise ValueError(f"refine: best must be a non-empty list of trial parameters; got {best!r}")
    if k is not None:
        best = best[:check_int("k", k, minimum=1, owner="refine")]
    new = {}
    for name, dim in space.dimensions.items():
        values = []
        for i, params in enumerate(best):
            if not isinstance(params, dict) or name not in params:
                raise ValueError(f"refine: {name}: missing from best[{i}]; got {params!r}")
            if not dim.contains(params[name]):
                raise ValueError(f"refine: {name}: best[{i}] has {params[name]!r}, outside {dim!r}")
            values.append(params[name])
        if isinstance(dim, Choice):
            new[name] = Choice([v for v in dim.values if any(Choice([v]).contains(b) for b in values)])
            continue
        low, high = max(min(values), dim.low), min(max(values), dim.high)
        if low == high:
            new[name] = Choice([low])
        elif isinstance(dim, IntUniform):
            new[name] = IntUniform(low, high, log=dim.log)
        else:
            new[name] = type(dim)(low, high)
    for i, params in enumerate(best):
        for name in sorted(set(params) - set(space.dimensions) - set(space.base)):
            raise ValueError(f"refine: {name}: in best[{i}] but not a searched dimension")
    kind = "sobol" if space.kind == "sobol" else "random"
    return Space(new, kind=kind, trials=space.size if trials is None else trials, base=space.base)


# --- The search file -----------------------------------------------------------------------------

_SETTINGS = {"kind", "trials", "seed", "epochs", "metric", "pruning", "eta", "min_epochs",
             "refine_rounds", "refine_top", "rerun_top", "rerun_seeds", "reruns"}


@dataclass(frozen=True)
class SearchSpec:
    """A search file, checked: the space and the [search] settings."""

    space: Space
    seed: int = 0
    epochs: int = 30
    metric: str = "val_error"
    pruning: str = "none"
    eta: int = 3
    min_epochs: int = 1
    refine_rounds: int = 0
    refine_top: int = 4
    rerun_top: int = 0
    rerun_seeds: int = 3

    def settings(self) -> dict:
        return {"seed": self.seed, "epochs": self.epochs, "metric": self.metric, "pruning": self.pruning,
                "eta": self.eta, "min_epochs": self.min_epochs, "refine_rounds": self.refine_rounds,
                "refine_top": self.refine_top, "rerun_top": self.rerun_top, "rerun_seeds": self.rerun_seeds}

    def digest(self) -> str:
        """sha256 (hex) of the canonical JSON of the space's digest and the settings."""
        text = canonical_json({"space": self.space.digest(), "settings": self.settings()})
        return hashlib.sha256(text.encode()).hexdigest()


def parse_search(document: dict, source: str = "search file") -> SearchSpec:
    """A ``SearchSpec`` from a parsed search file (tables search, base, space); every error names
    ``source`` and the key (``space.lr: ...``)."""
    unknown = sorted(set(document) - {"search", "base", "space"})
    if unknown:
        raise ValueError(f"{source}: unknown table {unknown[0]} (known: search, base, space)")
    tables = {}
    for table in ("search", "base", "space"):
        tables[table] = document.get(table, {})
        if not isinstance(tables[table], dict):
            raise TypeError(f"{source}: {table} must be a table; got {tables[table]!r}")
    search = dict(tables["search"])
    for key in sorted(set(search) - _SETTINGS):
        raise ValueError(f"{source}: search.{key}: unknown setting (known: {', '.join(sorted(_SETTINGS))})")
    if "reruns" in search:  # the short spelling of rerun_top
        if "rerun_top" in search:
            raise ValueError(f"{source}: search.reruns: give reruns or rerun_top, not both")
        search["rerun_top"] = search.pop("reruns")
    owner = f"{source}: search"

    def integer(key, default, minimum):
        return check_int(key, search.get(key, default), minimum=minimum, owner=owner)

    try:
        kind = check_choice("kind", search.get("kind", "grid"), KINDS, owner=owner)
        settings = dict(
            seed=integer("seed", 0, 0), epochs=integer("epochs", 30, 1),
            metric=check_choice("metric", search.get("metric", "val_error"), METRICS, owner=owner),
            pruning=check_choice("pruning", search.get("pruning", "none"), PRUNINGS, owner=owner),
            eta=integer("eta", 3, 2), min_epochs=integer("min_epochs", 1, 1),
            refine_rounds=integer("refine_rounds", 0, 0), refine_top=integer("refine_top", 4, 1),
            rerun_top=integer("rerun_top", 0, 0), rerun_seeds=integer("rerun_seeds", 3, 1))
    except (TypeError, ValueError) as error:  # "<source>: search: eta must ..." -> "search.eta"
        raise type(error)(str(error).replace(f"{owner}: ", f"{source}: search.", 1)) from None
    if settings["min_epochs"] > settings["epochs"]:
        raise ValueError(f"{source}: search.min_epochs must be ≤ search.epochs ({settings['epochs']}); "
                         f"got {settings['min_epochs']}")
    try:
        space = Space(tables["space"], kind=kind, trials=search.get("trials"), base=tables["base"])
    except (TypeError, ValueError) as error:
        message = str(error).removeprefix("Space: ")
        if message.startswith("base."):
            pass
        elif message.startswith(("trials", "kind")):
            message = "search." + message
        else:
            message = "space." + message
        raise type(error)(f"{source}: {message}") from None
    return SearchSpec(space=space, **settings)


def load_search(path) -> SearchSpec:
    """Read and check a TOML search file (see the module's INTERFACES.md for its tables)."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not a valid TOML file: {error}") from None
    return parse_search(document, source=str(path))
