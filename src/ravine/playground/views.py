"""What a frame shows, computed only when a frame is due: regions, unit thumbnails, weights,
per-layer gradient norms, the curvature gauge; and on demand the Hessian's extreme eigenvalues,
the 2-D loss slice and the hidden-layer warp.

The curvature gauge is gᵀHg/gᵀg of the training objective on a fixed subsample (≤ 128 training
points, eval mode), against the bound 2/lr: a gradient step of size lr is predicted to increase
the loss along g where lr·gᵀHg/gᵀg > 2 (``curvature_along_gradient``).
"""

from __future__ import annotations

import base64
import math

import numpy as np

from .. import no_grad
from ..autodiff.tensor import Tensor
from ..diagnose import curvature_along_gradient, diagnose_point, loss_surface_2d
from ..nn import Linear, no_side_effects
from ..nn.batchnorm import BatchNorm1d
from ..nn.dropout import Dropout
from ..train.evaluate import evaluate
from .data2d import feature_matrix
from .protocol import EXTENT, ProtocolError

REGION_SIZE = 64
UNIT_SIZE = 16
_GRIDS: dict = {}


def b64(array) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def plane_grid(size: int) -> np.ndarray:
    """size² plane points, row 0 at the top (x2 = +6 side), x1 left to right; cell centres."""
    c = -EXTENT + (np.arange(size) + 0.5) * (2 * EXTENT / size)
    x1, x2 = np.meshgrid(c, c[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


def grid_inputs(size: int, features) -> np.ndarray:
    key = (size, tuple(features))
    if key not in _GRIDS:
        _GRIDS[key] = feature_matrix(plane_grid(size), features)
    return _GRIDS[key]


def _finite(v):
    return None if v is None or not math.isfinite(v) else float(v)


def layer_outputs(model, X) -> tuple[np.ndarray, list[np.ndarray]]:
    """(output, [hidden activations per layer]) in eval mode, without recording a graph."""
    hidden = []
    with no_grad(), model.mode(False):
        h = Tensor(X)
        modules = list(model)
        for module in modules:
            h = module(h)
            if not isinstance(module, (Linear, BatchNorm1d, Dropout)):  # an activation
                hidden.append(h.data)
    return h.data, hidden


def softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64) - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def regions(model, features, classes: int, regression: bool) -> dict:
    out, _ = layer_outputs(model, grid_inputs(REGION_SIZE, features))
    extent = [-EXTENT, EXTENT, -EXTENT, EXTENT]
    if regression:
        return {"size": REGION_SIZE, "extent": extent, "values": b64(out[:, 0])}
    return {"size": REGION_SIZE, "extent": extent, "classes": classes, "probabilities": b64(softmax(out))}


def units(model, features) -> list:
    _, hidden = layer_outputs(model, grid_inputs(UNIT_SIZE, features))
    return [{"size": UNIT_SIZE, "units": [b64(h[:, j]) for j in range(h.shape[1])]} for h in hidden]


def weights(model) -> list:
    return [{"shape": list(layer.weight.shape), "values": np.round(layer.weight.data.astype(np.float64), 5).tolist(),
             "bias": None if layer.bias is None else np.round(layer.bias.data.astype(np.float64), 5).tolist()}
            for layer in model.linear_layers()]


def grad_norms(model) -> list:
    out = []
    for layer in model.linear_layers():
        g = layer.weight.grad
        g = getattr(g, "data", g)
        out.append(0.0 if g is None else float(np.sqrt(np.sum(np.square(g, dtype=np.float64)))))
    return out


def curvature(lab) -> dict | None:
    X, y = lab.curvature_batch
    if not len(X):
        return None
    lr = lab.lr()
    model = lab.model
    with no_side_effects(model), model.mode(False):
        c = curvature_along_gradient(lab.objective_fn(X, y), model.parameters(), lr)
    ratio = c["curvature"]
    return {"gHg_over_gg": _finite(ratio), "bound": 2.0 / lr if lr > 0 else None,
            "ill_conditioned": bool(math.isfinite(ratio) and lr * ratio > 2.0)}


def figures(lab, model=None) -> dict:
    """Loss and error on the training and validation points (eval mode)."""
    model = model or lab.model
    loss = lab.trainer.loss
    out = {}
    for name, (X, y) in (("train", lab.train_data), ("valid", lab.valid_data)):
        if len(X):
            r = evaluate(model, X, y, loss)
            out[f"{name}_loss"] = _finite(r["loss"])
            out[f"{name}_error"] = _finite(r.get("error")) if "error" in r else None
        else:
            out[f"{name}_loss"] = out[f"{name}_error"] = None
    return out


def frame(lab, curvature_on: bool = True) -> dict:
    model, features = lab.model, lab.config["features"]
    figs = figures(lab)
    curv = curvature(lab) if curvature_on else None
    lab.snapshot()
    row = {"step": lab.step, "epoch": lab.epoch, **figs, "lr": lab.lr(),
           "curvature": None if curv is None else curv["gHg_over_gg"]}
    out = {"type": "frame", "step": lab.step, "epoch": lab.epoch, "running": lab.running, "lr": lab.lr(),
           **figs, "history": [row] if not lab.rows or lab.rows[-1]["step"] != lab.step else [],
           "regions": regions(model, features, lab.classes, lab.regression),
           "grad_norms": grad_norms(model), "curvature": curv, "units": units(model, features),
           "weights": weights(model)}
    if out["history"]:
        lab.rows.append(row)
        del lab.rows[:-10]
    if lab.landscape is not None:
        out["path"] = project_path(lab)
    if lab.race is not None:
        out["race"] = lab.race.frame()
    if lab.warp is not None:
        try:
            out["warp"] = warp(lab, lab.warp["layer"], lab.warp["units"])
        except ProtocolError:
            lab.warp = None
    return out


# --- on demand ----------------------------------------------------------------------------------
def _full_objective(lab):
    X, y = lab.train_data
    if not len(X):
        raise ProtocolError("this needs training points", None)
    return lab.objective_fn(X, y)


def eigen(lab) -> dict:
    model = lab.model
    loss_fn = _full_objective(lab)
    k = max(1, min(3, model.num_parameters() // 2))
    with model.mode(False):
        report = diagnose_point(loss_fn, model.parameters(), k=k, model=model, grad_tol=1e-4, seed=0)
    return {"type": "eigen", "lowest": [float(v) for v in report.lowest], "highest": [float(v) for v in report.highest],
            "verdict": report.verdict, "gradient_norm": float(report.grad_norm), "loss": float(report.loss),
            "explanation": report.explanation}


def _unflat(vector, params) -> list[np.ndarray]:
    out, i = [], 0
    for p in params:
        n = p.data.size
        out.append(vector[i:i + n].reshape(p.data.shape).astype(p.data.dtype))
        i += n
    return out


def landscape(lab, kind: str, steps: int, span: float) -> dict:
    model = lab.model
    params = model.parameters()
    loss_fn = _full_objective(lab)
    theta = np.concatenate([p.data.ravel() for p in params]).astype(np.float64)
    if kind == "trajectory":
        path = np.array(lab.trajectory + [theta])
        if len(path) < 3:
            raise ProtocolError("the trajectory plane needs a few frames of training first", "kind")
        centered = path - theta
        _, s, vt = np.linalg.svd(centered - centered.mean(axis=0), full_matrices=False)
        if len(s) < 2 or s[1] <= 0:
            raise ProtocolError("the recent path is a line: train longer for a plane", "kind")
        d1, d2 = vt[0], vt[1]
        reach = max(np.abs(centered @ d1).max(), np.abs(centered @ d2).max(), 1e-3)
        d1, d2 = d1 * reach, d2 * reach  # span 1 then covers the recent path
        directions = (_unflat(d1, params), _unflat(d2, params))
        surface = loss_surface_2d(loss_fn, params, directions=directions, span=span, steps=steps, model=model)
    else:
        surface = loss_surface_2d(loss_fn, params, span=span, steps=steps, seed=lab.step, model=model)
        d1 = np.concatenate([d.ravel() for d in surface.directions[0]]).astype(np.float64)
        d2 = np.concatenate([d.ravel() for d in surface.directions[1]]).astype(np.float64)
    lab.landscape = {"kind": kind, "center": theta, "basis": np.column_stack([d1, d2])}
    losses = np.asarray(surface.losses, dtype=np.float64)
    return {"type": "landscape", "kind": kind, "alphas": [float(a) for a in surface.alphas],
            "betas": [float(b) for b in surface.betas],
            "losses": [[_finite(v) for v in row] for row in losses], "center_loss": _finite(surface.center_loss),
            "path": project_path(lab)}


def project_path(lab) -> list:
    info = lab.landscape
    if not lab.trajectory:
        return []
    path = np.array(lab.trajectory) - info["center"]
    coef, *_ = np.linalg.lstsq(info["basis"], path.T, rcond=None)
    return [[round(float(a), 5), round(float(b), 5)] for a, b in coef.T]


def warp(lab, layer: int, pair) -> dict:
    hidden = lab.config["network"]["hidden"]
    if layer >= len(hidden):
        raise ProtocolError(f"layer must be a hidden layer index in [0, {len(hidden)}); got {layer}", "layer")
    for k, u in enumerate(pair):
        if u >= hidden[layer]:
            raise ProtocolError(f"units[{k}] must be in [0, {hidden[layer]}) for layer {layer}; got {u}",
                                f"units[{k}]")
    i, j = pair
    ticks = np.linspace(-EXTENT, EXTENT, 13)
    along = np.linspace(-EXTENT, EXTENT, 41)
    lines = [np.column_stack([np.full_like(along, t), along]) for t in ticks] + \
            [np.column_stack([along, np.full_like(along, t)]) for t in ticks]
    stacked = np.vstack(lines)
    features = lab.config["features"]
    _, hs = layer_outputs(lab.model, feature_matrix(stacked, features))
    mapped = hs[layer][:, [i, j]].astype(np.float64)
    n = len(along)
    out_lines = [np.round(mapped[k * n:(k + 1) * n], 4).tolist() for k in range(len(lines))]
    X = lab.points.X
    points = []
    if len(X):
        _, hp = layer_outputs(lab.model, feature_matrix(X, features))
        labels = lab.points.y
        points = [[round(float(a), 4), round(float(b), 4), (float(t) if lab.regression else int(t))]
                  for (a, b), t in zip(hp[layer][:, [i, j]], labels)]
    return {"type": "warp", "layer": layer, "units": [i, j], "lines": out_lines, "points": points}


__all__ = ["frame", "eigen", "landscape", "warp", "regions", "units", "plane_grid"]
