"""The playground's message schema (PROTOCOL.md): limits, options, defaults and one validator per
message type.

Every validator takes the decoded JSON object and returns a clean dict (defaults filled in, numbers
as Python floats/ints), or raises ``ProtocolError`` whose ``field`` is the path of the offending
value (``config.network.hidden[2]``) and whose message says what was expected and what was given.

Example::

    kind, values = validate_message({"type": "set", "values": {"lr": 0.1}})
    # ("set", {"values": {"lr": 0.1}})
"""

from __future__ import annotations

import copy
import json
import math
import re

from ..autodiff.activations import ACTIVATIONS as _ACTIVATION_REGISTRY
from ..nn.init import INITIALIZERS

# --- limits (hello.limits; the server enforces each) ------------------------------------------------
MESSAGE_BYTES = 262_144
MAX_POINTS = 2000
MAX_LAYERS = 6
MAX_UNITS = 16
MAX_SESSIONS = 8
MESSAGES_PER_SECOND = 50
STEPS_PER_SECOND = 20_000
FRAMES_PER_SECOND = 30
NEWTON_PARAMETERS = 400
RACE_LANES = 4
MAX_BATCH = 512
MAX_CSV_LINES = MAX_POINTS + 1

LIMITS = {
    "message_bytes": MESSAGE_BYTES, "points": MAX_POINTS, "layers": MAX_LAYERS, "units": MAX_UNITS,
    "sessions": MAX_SESSIONS, "messages_per_second": MESSAGES_PER_SECOND,
    "steps_per_second": STEPS_PER_SECOND, "frames_per_second": FRAMES_PER_SECOND,
    "newton_parameters": NEWTON_PARAMETERS, "race_lanes": RACE_LANES, "batch_size": MAX_BATCH,
}

EXTENT = 6.0
CLASSIFICATION_SETS = ("moons", "circles", "spirals", "xor", "blobs")
DATASETS = CLASSIFICATION_SETS + ("regression", "custom")
MULTICLASS_SETS = ("spirals", "blobs", "custom")
FUNCTIONS = ("saddle", "sine", "ripple")
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
ACTIVATIONS = (*_ACTIVATION_REGISTRY, "identity")
INITS = (*INITIALIZERS, "constant:0.1")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "newton")
SCHEDULES = ("constant", "inverse_time:decay=0.01", "linear_decay:steps=2000", "cosine:steps=2000",
             "step_decay:step_size=1000,gamma=0.5", "exponential:gamma=0.999",
             "warmup:steps=200,then=constant")
OPTIONS = {"datasets": list(DATASETS), "functions": list(FUNCTIONS), "features": list(FEATURES),
           "activations": list(ACTIVATIONS), "inits": list(INITS), "optimizers": list(OPTIMIZERS),
           "schedules": list(SCHEDULES)}
SETTABLE = ("optimizer", "lr", "momentum", "beta1", "beta2", "weight_decay", "damping", "l1", "l2", "clip_norm",
            "schedule", "batch_size")
TRAINING_KEYS = ("optimizer", "lr", "momentum", "beta1", "beta2", "weight_decay", "damping", "schedule",
                 "batch_size", "l1", "l2", "clip_norm", "seed")

DEFAULT_CONFIG = {
    "data": {"dataset": "spirals", "classes": 3, "noise": 0.1, "train_share": 0.7, "seed": 0,
             "points": 300, "function": "saddle"},
    "features": ["x1", "x2"],
    "network": {"hidden": [8, 8], "activation": "tanh", "init": "glorot_uniform", "batchnorm": False,
                "dropout": 0.0},
    "training": {"optimizer": "adam", "lr": 0.01, "momentum": 0.9, "beta1": 0.9, "beta2": 0.999,
                 "weight_decay": 0.0, "damping": 0.001, "schedule": "constant", "batch_size": 10,
                 "l1": 0.0, "l2": 0.0, "clip_norm": None, "seed": 0},
}

SEED_MAX = 2**31 - 1
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


class ProtocolError(ValueError):
    """A message that breaks the schema: ``field`` names where (None: the message as a whole)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def _path(parent: str, key) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _show(value) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- field checks ---------------------------------------------------------------------------------
def number(value, field: str, low=None, high=None, low_open=False, high_open=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProtocolError(f"{field} must be a finite number; got {_show(value)}", field)
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        where = f"in {lo}, {hi}" if low is not None and high is not None else (
            f"{'>' if low_open else '≥'} {low:g}" if low is not None else f"{'<' if high_open else '≤'} {high:g}")
        raise ProtocolError(f"{field} must be {where}; got {_show(value)}", field)
    return float(value)


def integer(value, field: str, low=None, high=None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{field} must be an integer; got {_show(value)}", field)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ProtocolError(f"{field} must be an integer in [{low}, {high}]; got {_show(value)}", field)
    return int(value)


def flag(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError(f"{field} must be true or false; got {_show(value)}", field)
    return value


def choice(value, field: str, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ProtocolError(f"{field} must be one of {', '.join(options)}; got {_show(value)}", field)
    return value


def string(value, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{field} must be a string; got {_show(value)}", field)
    if len(value) > max_length:
        raise ProtocolError(f"{field} must be at most {max_length} characters; got {len(value)}", field)
    return value


def obj(value, field: str, known=None) -> dict:
    if not isinstance(value, dict):
        raise ProtocolError(f"{field or 'the message'} must be an object; got {_show(value)}", field or None)
    if known is not None:
        unknown = sorted(set(value) - set(known))
        if unknown:
            where = _path(field, unknown[0])
            raise ProtocolError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(known)})", where)
    return value


def point(value, field: str) -> list[float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ProtocolError(f"{field} must be a pair [x1, x2]; got {_show(value)}", field)
    return [number(v, _path(field, i), -EXTENT, EXTENT) for i, v in enumerate(value)]


def init_name(value, field: str) -> str:
    if isinstance(value, str) and value in INITIALIZERS:
        return value
    if isinstance(value, str) and value.startswith("constant:"):
        try:
            c = float(value.split(":", 1)[1])
        except ValueError:
            c = math.nan
        if math.isfinite(c) and abs(c) <= 10:
            return value
    raise ProtocolError(f"{field} must be one of {', '.join(INITIALIZERS)} or constant:<value> with "
                        f"|value| ≤ 10; got {_show(value)}", field)


def schedule_spec(value, field: str, lr: float = 0.01) -> str:
    from ..optim import schedules

    spec = string(value, field, 200)
    try:
        schedules.get(spec, lr=lr)
    except (ValueError, TypeError) as error:
        raise ProtocolError(f"{field}: {error}", field) from None
    if spec.split(":", 1)[0].strip() == "reduce_on_plateau":
        raise ProtocolError(f"{field}: reduce_on_plateau needs epochs of validation; use a step schedule",
                            field)
    return spec


# --- the configuration ----------------------------------------------------------------------------
def _section(raw: dict, name: str) -> dict:
    default = DEFAULT_CONFIG[name]
    given = obj(raw.get(name, {}), _path("config", name), known=default)
    return {**default, **given}


def validate_training(values: dict, field: str, partial: bool = False) -> dict:
    """The ``training`` keys (all of them, defaults filled, unless ``partial``)."""
    out = dict(values) if partial else {**DEFAULT_CONFIG["training"], **values}
    p = lambda key: _path(field, key)  # noqa: E731
    checks = {
        "optimizer": lambda v, f: choice(v, f, OPTIMIZERS),
        "lr": lambda v, f: number(v, f, 0, 10, low_open=True),
        "momentum": lambda v, f: number(v, f, 0, 1, high_open=True),
        "beta1": lambda v, f: number(v, f, 0, 1, high_open=True),
        "beta2": lambda v, f: number(v, f, 0, 1, high_open=True),
        "weight_decay": lambda v, f: number(v, f, 0, 1),
        "damping": lambda v, f: number(v, f, 0, 100, low_open=True),
        "batch_size": lambda v, f: integer(v, f, 1, MAX_BATCH),
        "l1": lambda v, f: number(v, f, 0, 1),
        "l2": lambda v, f: number(v, f, 0, 1),
        "clip_norm": lambda v, f: None if v is None else number(v, f, 0, 1000, low_open=True),
        "seed": lambda v, f: integer(v, f, 0, SEED_MAX),
    }
    for key in list(out):
        if key == "schedule":
            continue
        if key not in checks:
            raise ProtocolError(f"{p(key)}: unknown key {key!r} (known: {', '.join(TRAINING_KEYS)})", p(key))
        out[key] = checks[key](out[key], p(key))
    if "schedule" in out:
        out["schedule"] = schedule_spec(out["schedule"], p("schedule"), out.get("lr", 0.01))
    return out


def validate_config(raw) -> dict:
    """A complete configuration from a partial one (missing keys take the defaults)."""
    raw = obj(raw, "config", known=DEFAULT_CONFIG)
    data = _section(raw, "data")
    data["dataset"] = choice(data["dataset"], "config.data.dataset", DATASETS)
    data["classes"] = integer(data["classes"], "config.data.classes", 2, 5)
    if data["dataset"] not in MULTICLASS_SETS and data["dataset"] != "regression":
        data["classes"] = 2  # moons, circles and xor have two classes
    data["noise"] = number(data["noise"], "config.data.noise", 0, 2)
    data["train_share"] = number(data["train_share"], "config.data.train_share", 0.1, 0.9)
    data["seed"] = integer(data["seed"], "config.data.seed", 0, SEED_MAX)
    data["points"] = integer(data["points"], "config.data.points", 10, MAX_POINTS)
    data["function"] = choice(data["function"], "config.data.function", FUNCTIONS)

    features = raw.get("features", DEFAULT_CONFIG["features"])
    if not isinstance(features, list) or not features:
        raise ProtocolError(f"config.features must be a non-empty list of {', '.join(FEATURES)}; "
                            f"got {_show(features)}", "config.features")
    for i, name in enumerate(features):
        choice(name, f"config.features[{i}]", FEATURES)
    if len(set(features)) != len(features):
        raise ProtocolError("config.features lists a feature twice", "config.features")
    features = [f for f in FEATURES if f in features]  # canonical order

    network = _section(raw, "network")
    hidden = network["hidden"]
    if not isinstance(hidden, list) or len(hidden) > MAX_LAYERS:
        raise ProtocolError(f"config.network.hidden must be a list of 0–{MAX_LAYERS} layer sizes; "
                            f"got {_show(hidden)}", "config.network.hidden")
    network["hidden"] = [integer(h, f"config.network.hidden[{i}]", 1, MAX_UNITS) for i, h in enumerate(hidden)]
    network["activation"] = choice(network["activation"], "config.network.activation", ACTIVATIONS)
    network["init"] = init_name(network["init"], "config.network.init")
    network["batchnorm"] = flag(network["batchnorm"], "config.network.batchnorm")
    network["dropout"] = number(network["dropout"], "config.network.dropout", 0, 0.9)

    training = validate_training(obj(raw.get("training", {}), "config.training"), "config.training")
    return {"data": data, "features": features, "network": network, "training": training}


def default_config() -> dict:
    return copy.deepcopy(DEFAULT_CONFIG)


# --- messages -------------------------------------------------------------------------------------
def _none(message: dict) -> dict:
    obj(message, "", known=("type",))
    return {}


def _configure(m):
    obj(m, "", known=("type", "config"))
    return {"config": validate_config(m.get("config", {}))}


def _set(m):
    obj(m, "", known=("type", "values"))
    if "values" not in m:
        raise ProtocolError("set needs values", "values")
    values = obj(m["values"], "values", known=SETTABLE)
    if not values:
        raise ProtocolError("values must name at least one of " + ", ".join(SETTABLE), "values")
    return {"values": validate_training(values, "values", partial=True)}


def _reset(m):
    obj(m, "", known=("type", "new_seed"))
    return {"new_seed": flag(m.get("new_seed", False), "new_seed")}


def _add_point(m):
    obj(m, "", known=("type", "x", "label", "split"))
    for key in ("x", "label"):
        if key not in m:
            raise ProtocolError(f"add_point needs {key}", key)
    label = number(m["label"], "label", -100, 100)  # the class range is checked against the session
    return {"x": point(m["x"], "x"), "label": label,
            "split": choice(m.get("split", "train"), "split", ("train", "valid")), "raw_label": m["label"]}


def _remove_point(m):
    obj(m, "", known=("type", "x"))
    if "x" not in m:
        raise ProtocolError("remove_point needs x", "x")
    return {"x": point(m["x"], "x")}


def _regenerate(m):
    obj(m, "", known=("type", "seed"))
    seed = m.get("seed")
    return {"seed": None if seed is None else integer(seed, "seed", 0, SEED_MAX)}


def _load_csv(m):
    obj(m, "", known=("type", "text"))
    if "text" not in m:
        raise ProtocolError("load_csv needs text", "text")
    return {"text": string(m["text"], "text", MESSAGE_BYTES)}


def _landscape(m):
    obj(m, "", known=("type", "kind", "steps", "span"))
    return {"kind": choice(m.get("kind", "filter"), "kind", ("filter", "trajectory")),
            "steps": integer(m.get("steps", 21), "steps", 5, 41),
            "span": number(m.get("span", 1.0), "span", 0, 10, low_open=True)}


def _race(m):
    obj(m, "", known=("type", "optimizers"))
    lanes = m.get("optimizers")
    if not isinstance(lanes, list) or len(lanes) == 1 or len(lanes) > RACE_LANES:
        raise ProtocolError(f"optimizers must be a list of 2–{RACE_LANES} optimizer settings (or [] to end "
                            f"the race); got {_show(lanes)}", "optimizers")
    out = []
    for i, lane in enumerate(lanes):
        field = f"optimizers[{i}]"
        lane = obj(lane, field, known=TRAINING_KEYS)
        if "optimizer" not in lane:
            raise ProtocolError(f"{field} needs optimizer", _path(field, "optimizer"))
        out.append(validate_training(lane, field, partial=True))
    return {"optimizers": out}


def _warp(m):
    obj(m, "", known=("type", "layer", "units"))
    units = m.get("units", [0, 1])
    if not isinstance(units, list) or len(units) != 2:
        raise ProtocolError(f"units must be a pair [i, j]; got {_show(units)}", "units")
    return {"layer": integer(m.get("layer", 0), "layer", 0, MAX_LAYERS - 1),
            "units": [integer(u, f"units[{k}]", 0, MAX_UNITS - 1) for k, u in enumerate(units)]}


def _save_run(m):
    obj(m, "", known=("type", "name"))
    name = m.get("name")
    if name is not None and (not isinstance(name, str) or not _NAME.fullmatch(name)):
        raise ProtocolError(f"name must match [A-Za-z0-9_-]{{1,40}}; got {_show(name)}", "name")
    return {"name": name}


VALIDATORS = {
    "configure": _configure, "set": _set, "start": _none, "pause": _none, "step": _none,
    "reset": _reset, "add_point": _add_point, "remove_point": _remove_point, "clear": _none,
    "regenerate": _regenerate, "load_csv": _load_csv, "eigen": _none, "landscape": _landscape,
    "race": _race, "warp": _warp, "save_run": _save_run,
}


def parse_message(text) -> dict:
    """The JSON object of one text frame, or a ProtocolError (size, JSON, not an object, no type)."""
    if isinstance(text, (bytes, bytearray)):
        raise ProtocolError("messages must be JSON text frames, not binary", None)
    if len(text.encode("utf-8")) > MESSAGE_BYTES:
        raise ProtocolError(f"message too large: {len(text.encode('utf-8'))} bytes (limit {MESSAGE_BYTES})", None)
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"malformed JSON: {error}", None) from None
    if not isinstance(message, dict):
        raise ProtocolError(f"a message must be a JSON object; got {_show(message)}", None)
    return message


def validate_message(message: dict) -> tuple[str, dict]:
    """(type, its checked fields) for one message object."""
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(f"a message needs a string type; got {_show(kind)}", "type")
    if kind not in VALIDATORS:
        raise ProtocolError(f"unknown message type {kind!r} (known: {', '.join(VALIDATORS)})", "type")
    return kind, VALIDATORS[kind](message)


__all__ = ["ProtocolError", "LIMITS", "OPTIONS", "DEFAULT_CONFIG", "validate_config", "validate_message",
           "parse_message", "default_config"]
