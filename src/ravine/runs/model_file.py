"""Model files: ``model.npz`` (the weights) + ``model.json`` (what they are), loaded without pickle.

``model.npz`` holds the model's ``state_dict()`` — every parameter and buffer (batch-norm running
statistics) under its dotted name — as plain numeric arrays. ``model.json`` holds::

    {"format": "ravine-model", "version": 1, "ravine_version": "0.1.0",
     "task": "classification",
     "architecture": {"class": "MLP", "in_features": 64, "hidden": [100], "out_features": 10,
                      "activation": "tanh", "init": "glorot_uniform", "dtype": "float32",
                      "batchnorm": false, "dropout": 0.0},
     "preprocessing": {"format": "ravine.Standardizer", "version": 1, "mean": [...], "std": [...]},
     "classes": [0, 1, ...], "classes_dtype": "<i8",
     "weights": {"file": "model.npz", "sha256": "...", "arrays": {"0.weight": {"shape": [100, 64],
                 "dtype": "float32"}, ...}},
     "extra": {...}}

**Loading never runs code from the files.** The JSON is parsed as data. The npz is opened as a
zip archive and each member is read with ``numpy.lib.format.read_array(allow_pickle=False)``: a
member holding a pickled object (an object array), a member that is not a ``.npy`` array, a
``.npy`` or a raw pickle renamed to ``.npz`` are all refused with a ``ModelFileError`` before any
of their bytes are unpickled. The npz's SHA-256, recorded in the JSON when saving, is checked, so
an npz and a JSON from different saves (a crash between the two writes, a copied file) are never
combined silently. Missing and unexpected weights, and shape or dtype mismatches against the
architecture, are reported together in one error naming the file.

Example::

    save_model("runs/x", model, preprocessing=scaler, classes=[0, 1, 2], task="classification")
    loaded = load_model("runs/x")              # or "runs/x/model.json" / "runs/x/model.npz"
    loaded.predict(X_raw)                      # standardizes, runs the model, maps to classes
    loaded.model, loaded.standardizer, loaded.classes, loaded.task, loaded.info
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .._atomic import atomic_save_npz, atomic_write_text, json_text
from .safe_read import ModelFileError, ravine_version, check_format, read_json_file, read_npz

__all__ = ["save_model", "load_model", "LoadedModel", "ModelFileError", "read_npz",
           "FORMAT", "VERSION", "TASKS"]

FORMAT = "ravine-model"
VERSION = 1
TASKS = ("classification", "regression")
ARCHITECTURE_KEYS = ("in_features", "hidden", "out_features", "activation", "init", "dtype",
                     "batchnorm", "dropout")
_DEFAULT_INIT = "glorot_uniform"


# --- saving ----------------------------------------------------------------------------------------

def _architecture(model) -> dict:
    from ..nn.mlp import MLP

    if type(model) is not MLP:
        raise TypeError(f"save_model saves ravine.nn.MLP models; got {type(model).__name__} (a "
                        f"subclass or another module could not be rebuilt from its constructor "
                        f"arguments)")
    if not isinstance(model.activation, str):
        raise TypeError(f"save_model: the model's activation must be a name; got {model.activation!r}")
    return {
        "class": "MLP",
        "in_features": int(model.in_features),
        "hidden": [int(h) for h in model.hidden],
        "out_features": int(model.out_features),
        "activation": model.activation,
        # A custom init function cannot go in JSON; it does not matter once the weights are
        # trained (they are loaded over it), so it is recorded as null and rebuilt with the default.
        "init": model.init if isinstance(model.init, str) else None,
        "dtype": np.dtype(model.dtype).name,
        "batchnorm": bool(model.batchnorm),
        "dropout": float(model.dropout),
    }


def _preprocessing(preprocessing) -> dict | None:
    from ..data.standardize import Standardizer

    if preprocessing is None:
        return None
    if isinstance(preprocessing, Standardizer):
        return preprocessing.to_dict()
    if isinstance(preprocessing, Mapping):  # already a to_dict(); checked by round-tripping it
        return Standardizer.from_dict(dict(preprocessing)).to_dict()
    raise TypeError(f"preprocessing must be a fitted Standardizer (or its to_dict()) or None; "
                    f"got {type(preprocessing).__name__}")


def _classes(classes) -> tuple[list | None, str | None]:
    if classes is None:
        return None, None
    array = np.asarray(classes)
    if array.ndim != 1:
        raise ValueError(f"classes must be a 1-D sequence of labels; got shape {array.shape}")
    dtype = array.dtype.str if array.dtype.kind in "biuU" else None
    values = array.tolist()
    for i, value in enumerate(values):
        if isinstance(value, float) or not isinstance(value, (int, str, bool)):
            raise TypeError(f"classes[{i}] is {value!r}; class labels must be integers or strings")
    return values, dtype


def save_model(folder, model, *, preprocessing=None, classes=None, task: str = "classification",
               extra: Mapping[str, Any] | None = None, name: str = "model") -> Path:
    """Save ``model`` (a ``ravine.nn.MLP``) as ``<folder>/<name>.npz`` + ``<folder>/<name>.json``.

    ``preprocessing``: the fitted ``Standardizer`` the model's inputs went through (or None).
    ``classes``: the label of each output unit for a classifier (ints or strings), or None.
    ``task``: "classification" or "regression". ``extra``: a JSON-safe dict kept under ``"extra"``.
    Both files are written atomically, the npz first; the JSON records the npz's SHA-256, so a
    crash between the two writes is detected on loading rather than mixing two saves. The folder is
    created if needed. Returns the path of the JSON file.

    Example::

        save_model("runs/x", model, preprocessing=scaler, classes=np.arange(10))
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    if not isinstance(name, str) or not name or os.sep in name or "/" in name or name.startswith("."):
        raise ValueError(f"name must be a plain file name without extension; got {name!r}")
    architecture = _architecture(model)
    values, classes_dtype = _classes(classes)
    if task == "regression" and values is not None:
        raise ValueError("classes must be None for a regression model")
    state = model.state_dict()
    info = {
        "format": FORMAT,
        "version": VERSION,
        "ravine_version": ravine_version(),
        "task": task,
        "architecture": architecture,
        "preprocessing": _preprocessing(preprocessing),
        "classes": values,
        "classes_dtype": classes_dtype,
        "weights": {"file": f"{name}.npz", "sha256": None,
                    "arrays": {k: {"shape": list(v.shape), "dtype": v.dtype.name}
                               for k, v in state.items()}},
        "extra": dict(extra) if extra is not None else {},
    }
    json_text(info, what="model.json")  # refuse non-JSON extras before writing anything
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    info["weights"]["sha256"] = atomic_save_npz(folder / f"{name}.npz", state)
    json_path = folder / f"{name}.json"
    atomic_write_text(json_path, json_text(info, what="model.json"))
    return json_path


# --- loading ---------------------------------------------------------------------------------------

@dataclass
class LoadedModel:
    """A model read back by ``load_model``, in eval mode, with what travels with it.

    ``model``: the ``MLP``; ``standardizer``: the fitted ``Standardizer`` or None; ``classes``:
    an array of class labels or None; ``task``; ``info``: the whole model.json as a dict.

    Example::

        loaded = load_model("runs/x")
        loaded.output(X)     # logits (classification) or predictions (regression)
        loaded.predict(X)    # class labels (or predictions)
    """

    model: Any
    standardizer: Any
    classes: np.ndarray | None
    task: str
    info: dict = field(repr=False)

    def prepare(self, X) -> np.ndarray:
        """``X`` as the model saw its inputs in training: converted to the model's dtype, then
        standardized with the saved μ and σ (if any).

        Example: ``loaded.prepare(X_raw)`` — what ``loaded.model`` takes.
        """
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (samples × features); got shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must hold numbers; got dtype {X.dtype}")
        X = X.astype(self.model.dtype, copy=False)
        if self.standardizer is not None:
            X = self.standardizer.transform(X)
        return X

    def output(self, X, batch_size: int = 4096) -> np.ndarray:
        """The model's raw output for raw inputs ``X``: ``model(standardize(X))``, batch by batch.

        Example: ``logits = loaded.output(X_raw)``
        """
        from ..autodiff.mode import no_grad

        X = self.prepare(X)
        self.model.eval()
        with no_grad():
            parts = [self.model(X[i:i + batch_size]).data for i in range(0, len(X), batch_size)]
        if not parts:
            return np.zeros((0, self.model.out_features), dtype=self.model.dtype)
        return np.concatenate(parts)

    def predict(self, X) -> np.ndarray:
        """Class labels (``classes[argmax]``, or the argmax when no classes were saved) for a
        classifier; the outputs (raveled when there is one) for a regression model.

        Example: ``labels = load_model("runs/x").predict(X_raw)``
        """
        out = self.output(X)
        if self.task == "regression":
            return out.ravel() if out.shape[1] == 1 else out
        index = np.argmax(out, axis=1)
        return self.classes[index] if self.classes is not None else index


def _resolve(path_or_folder) -> tuple[Path, Path]:
    path = Path(path_or_folder)
    if path.is_dir():
        json_path = path / "model.json"
    elif path.suffix == ".json":
        json_path = path
    elif path.suffix == ".npz":
        json_path = path.with_suffix(".json")
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    else:
        raise ModelFileError(f"{path}: expected a run folder, a model .json or a model .npz")
    if not json_path.exists():
        if path.is_dir():
            raise FileNotFoundError(f"{path} holds no model.json (was a model saved there?)")
        raise FileNotFoundError(f"{json_path}: no such file" + (
            f" (the .json that goes with {path.name})" if path.suffix == ".npz" else ""))
    return json_path, json_path.with_suffix(".npz")


def _check_architecture(json_path, architecture) -> dict:
    if not isinstance(architecture, dict):
        raise ModelFileError(f"{json_path}: 'architecture' must be an object; got {architecture!r}")
    if architecture.get("class", "MLP") != "MLP":
        raise ModelFileError(f"{json_path}: unknown model class {architecture.get('class')!r} "
                             f"(this ravine builds MLP)")
    given = [k for k in architecture if k != "class"]
    missing = [k for k in ARCHITECTURE_KEYS if k not in architecture]
    unexpected = [k for k in given if k not in ARCHITECTURE_KEYS]
    if missing or unexpected:
        parts = ([f"missing keys: {', '.join(missing)}"] if missing else []) + \
                ([f"unexpected keys: {', '.join(unexpected)}"] if unexpected else [])
        raise ModelFileError(f"{json_path}: architecture: " + "; ".join(parts))
    return {k: architecture[k] for k in ARCHITECTURE_KEYS}


def _state_problems(model, arrays: Mapping[str, np.ndarray]) -> list[str]:
    targets = {n: p.data for n, p in model.named_parameters()}
    targets.update(model.named_buffers())
    missing = [k for k in targets if k not in arrays]
    unexpected = [k for k in arrays if k not in targets]
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    for name, target in targets.items():
        if name not in arrays:
            continue
        value, target = arrays[name], np.asarray(target)
        if value.shape != target.shape:
            problems.append(f"{name}: shape {value.shape} in the file, {target.shape} in the model")
        elif value.dtype != target.dtype:
            problems.append(f"{name}: dtype {value.dtype} in the file, {target.dtype} in the model")
    return problems


def load_model(path_or_folder) -> LoadedModel:
    """Load a model saved by ``save_model``: a folder holding ``model.json`` + ``model.npz``, or
    either file's path. Returns a ``LoadedModel`` (the model is in eval mode).

    Checks, each failing with a ``ModelFileError`` (a ValueError) that names the file: the JSON's
    format and version (a newer version asks for a newer ravine); the npz holds only numeric arrays
    (a pickle is refused and never run); its SHA-256 matches the JSON; the architecture builds;
    the weights match it — missing keys, unexpected keys, shape and dtype mismatches all in one
    message; the preprocessing is a valid Standardizer with ``in_features`` features.

    Example::

        loaded = load_model("runs/20240101-120000-digits")
        y_hat = loaded.predict(X)
    """
    from ..data.standardize import Standardizer
    from ..nn.mlp import MLP

    json_path, npz_path = _resolve(path_or_folder)
    info = read_json_file(json_path, "ravine model file")
    check_format(json_path, info, FORMAT, VERSION, "ravine model file")
    # the npz is read (and refused if it holds a pickle) before anything else is trusted
    arrays, digest = read_npz(npz_path)
    weights = info.get("weights") or {}
    recorded = weights.get("sha256") if isinstance(weights, dict) else None
    if recorded is not None and recorded != digest:
        raise ModelFileError(
            f"{npz_path} does not match {json_path.name}: its SHA-256 differs from the one recorded "
            f"when the model was saved, so the two files come from different saves or the npz was "
            f"damaged or left incomplete; save the model again")
    task = info.get("task")
    if task not in TASKS:
        raise ModelFileError(f"{json_path}: task must be one of {', '.join(TASKS)}; got {task!r}")
    kwargs = _check_architecture(json_path, info.get("architecture"))
    if kwargs["init"] is None:
        kwargs["init"] = _DEFAULT_INIT
    try:
        model = MLP(**kwargs, seed=0)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{json_path}: the architecture cannot be built: {error}") from None
    problems = _state_problems(model, arrays)
    if problems:
        raise ModelFileError(f"{npz_path} does not fit the architecture in {json_path.name}: "
                             + "; ".join(problems))
    model.load_state_dict(arrays)
    model.eval()
    standardizer = None
    if info.get("preprocessing") is not None:
        try:
            standardizer = Standardizer.from_dict(info["preprocessing"])
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"{json_path}: preprocessing: {error}") from None
        if standardizer.n_features_in_ != model.in_features:
            raise ModelFileError(f"{json_path}: the Standardizer has {standardizer.n_features_in_} "
                                 f"features but the model takes {model.in_features}")
    classes = info.get("classes")
    if classes is not None:
        if not isinstance(classes, list) or not all(isinstance(c, (int, str)) for c in classes):
            raise ModelFileError(f"{json_path}: classes must be a list of integers or strings")
        dtype = info.get("classes_dtype")
        try:
            dtype = None if dtype is None else np.dtype(dtype)
            if dtype is not None and dtype.kind not in "biuU":
                raise ValueError("not an integer or string dtype")
            array = np.array(classes, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"{json_path}: classes_dtype {info.get('classes_dtype')!r}: {error}") from None
        if array.dtype.hasobject or array.tolist() != classes:
            raise ModelFileError(f"{json_path}: classes {classes!r} do not fit classes_dtype "
                                 f"{info.get('classes_dtype')!r}")
        classes = array
    return LoadedModel(model=model, standardizer=standardizer, classes=classes, task=task, info=info)
