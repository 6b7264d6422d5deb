"""curves.png: a real PNG with the panels the history has data for."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import ravine as rv
from ravine.runs import RunFolder, plot_curves
from ravine.runs.plots import curve_panels
from ravine.train import History

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def monitored_history() -> History:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((160, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64)
    model = rv.nn.MLP(5, [16, 16], 2, seed=0)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model, lr=0.3, momentum=0.9), batch_size=16,
                               seed=0, progress=None,
                               callbacks=[rv.diagnose.LayerMonitor(every=4),
                                          rv.diagnose.CurvatureMonitor(every=4)])
    return trainer.fit(X[:120], y[:120], epochs=6, validation_data=(X[120:], y[120:]))


def assert_real_png(path, min_size=(300, 300)):
    import matplotlib.image

    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] >= min_size[0] and image.shape[1] >= min_size[1]
    rgba = np.round(image * 255).astype(np.uint8)
    if rgba.shape[2] == 3:
        rgba = np.concatenate([rgba, np.full(rgba.shape[:2] + (1,), 255, np.uint8)], axis=2)
    colours = np.unique(np.ascontiguousarray(rgba).view(np.uint32))
    assert colours.size > 50  # lines, text and antialiasing: not a blank or flat image
    assert 0.01 < np.mean(rgba[..., :3].min(axis=2) < 200) < 0.5  # some ink, mostly background
    return image


def test_all_panels_from_a_monitored_run(tmp_path):
    history = monitored_history()
    assert curve_panels(history) == ["loss", "error", "lr", "grad_norm", "curvature", "stable_lr"]
    run = RunFolder.create(tmp_path / "run")
    path = run.plot_curves(history, title="toy, 5-16-16-2 tanh, SGD lr 0.3")
    assert path == run.curves_path
    assert_real_png(path, min_size=(900, 900))
    assert os.listdir(run.path) == ["curves.png"]
    if os.environ.get("RAVINE_KEEP_PLOTS"):
        import shutil

        shutil.copy(path, os.environ["RAVINE_KEEP_PLOTS"])


def test_epochs_only(tmp_path):
    history = History([{"epoch": e, "loss": 1 / e, "error": 0.3 / e, "lr": 0.1 * 0.5 ** e}
                       for e in range(1, 30)])
    assert curve_panels(history) == ["loss", "error", "lr"]
    assert_real_png(plot_curves(history, tmp_path / "c.png"))


def test_regression_history_as_a_dict_and_non_finite_values(tmp_path):
    history = {"epochs": [{"epoch": 1, "loss": 2.0, "val_loss": math.inf},
                          {"epoch": 2, "loss": math.nan, "val_loss": 1.0},
                          {"epoch": 3, "loss": 0.5, "val_loss": 0.7}],
               "steps": [{"step": s, "curvature": c, "gTg": 1.0} for s, c in
                         ((1, -2.0), (2, 0.0), (3, 5.0), (4, math.nan))],
               "stop_reason": None}
    assert curve_panels(history) == ["loss", "curvature"]
    assert_real_png(plot_curves(history, tmp_path / "r.png"), min_size=(300, 600))


def test_single_panel(tmp_path):
    history = History([{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
    assert curve_panels(history) == ["loss"]
    assert_real_png(plot_curves(history, tmp_path / "one.png"), min_size=(300, 300))


def test_nothing_to_plot_and_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_curves(History(), tmp_path / "c.png")
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_curves(History([{"epoch": 1, "seconds": 0.1}], [{"step": 1, "gTg": 1.0}]), tmp_path / "c.png")
    with pytest.raises(ValueError, match=r"\.png"):
        plot_curves(History([{"epoch": 1, "loss": 1.0}]), tmp_path / "c.jpg")
    with pytest.raises(TypeError, match="History"):
        plot_curves([1, 2], tmp_path / "c.png")
    assert os.listdir(tmp_path) == []


def test_failed_plot_keeps_the_old_png(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    path = tmp_path / "curves.png"
    history = History([{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}])
    plot_curves(history, path)
    before = path.read_bytes()

    def broken(self, *args, **kwargs):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="renderer failed"):
        plot_curves(history, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["curves.png"]
