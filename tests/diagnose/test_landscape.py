"""Loss-landscape slices (issue 4, deliverable 7): the line, the filter-normalized plane, the PNGs."""

from __future__ import annotations

import os

import matplotlib.figure
import matplotlib.image
import numpy as np
import pytest

import ravine as rv
from ravine.diagnose.landscape import (LineResult, SurfaceResult, loss_along_line, loss_surface_2d,
                                       normalize_filters, random_directions)
from ravine.diagnose.plots import plot_line, plot_surface

F = rv.nn.functional
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def moons():
    return rv.data.make_moons(120, noise=0.2, seed=0, dtype="float64")


@pytest.fixture(scope="module")
def trained(moons):
    """(model at the end of training, its state at initialization)."""
    X, y = moons
    model = rv.nn.MLP(2, [8], 2, activation="tanh", seed=0, dtype="float64")
    init = model.state_dict()
    rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.5, momentum=0.9),
                     progress=False).fit(X, y, epochs=40)
    return model, init


def _loss_fn(model, X, y):
    return lambda: F.cross_entropy(model(X), y)


def _snapshot(model):
    return [(p, p.data, p.data.copy()) for p in model.parameters()]


def _assert_restored(snapshot):
    for p, array, saved in snapshot:
        assert p.data is array                    # the same arrays (optimizers keep working) ...
        assert array.tobytes() == saved.tobytes()  # ... holding the same bits


def _loss_at(model, state, loss_fn) -> float:
    current = model.state_dict()
    model.load_state_dict(state)
    try:
        with rv.no_grad():
            return loss_fn().item()
    finally:
        model.load_state_dict(current)


# --- the line ----------------------------------------------------------------------------------

def test_line_ends_are_the_losses_at_theta_a_and_theta_b_exactly(trained, moons):
    model, init = trained
    loss_fn = _loss_fn(model, *moons)
    snap = _snapshot(model)
    line = loss_along_line(loss_fn, model, init, model.state_dict())
    _assert_restored(snap)
    assert isinstance(line, LineResult)
    assert line.loss_a == _loss_at(model, init, loss_fn)
    assert line.loss_b == loss_fn().item()
    assert line.loss_b < line.loss_a  # training went downhill
    assert line.alphas[0] == -0.25 and line.alphas[-1] == 1.25
    assert 0.0 in line.alphas and 1.0 in line.alphas and np.all(np.diff(line.alphas) > 0)
    assert line.losses.shape == line.alphas.shape and len(line.alphas) >= 51
    flat = lambda state: np.concatenate([state[n].ravel() for n in model.parameters().names])
    assert line.distance == pytest.approx(np.linalg.norm(flat(model.state_dict()) - flat(init)))
    # each point is the loss at (1 − α)θ_a + αθ_b
    i = 17
    alpha = line.alphas[i]
    mixed = {n: (1 - alpha) * init[n] + alpha * model.state_dict()[n] for n in init}
    assert line.losses[i] == pytest.approx(_loss_at(model, mixed, loss_fn), rel=1e-13)


def test_line_accepts_models_state_dicts_and_lists_alike(trained, moons):
    model, init = trained
    loss_fn = _loss_fn(model, *moons)
    names = model.parameters().names
    by_model = loss_along_line(loss_fn, model, init, model, steps=11)
    by_dict = loss_along_line(loss_fn, model.parameters(), init, model.state_dict(), steps=11)
    by_list = loss_along_line(loss_fn, list(model.parameters()), [init[n] for n in names],
                              [p.data.copy() for p in model.parameters()], steps=11)
    np.testing.assert_array_equal(by_model.losses, by_dict.losses)
    np.testing.assert_array_equal(by_model.losses, by_list.losses)


def test_line_grid(trained, moons):
    model, init = trained
    loss_fn = _loss_fn(model, *moons)
    on_grid = loss_along_line(loss_fn, model, init, model, steps=61, extend=0.25)
    assert len(on_grid.alphas) == 61  # spacing 0.025: 0 and 1 are grid points, snapped exactly
    inner = loss_along_line(loss_fn, model, init, model, steps=5, extend=0.0)
    np.testing.assert_array_equal(inner.alphas, [0.0, 0.25, 0.5, 0.75, 1.0])
    assert inner.barrier >= 0.0
    assert "α=0" in str(inner) and "barrier" in str(inner)


def test_params_are_restored_even_when_the_loss_fails(trained, moons):
    model, init = trained
    X, y = moons
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return F.cross_entropy(model(X), y)

    snap = _snapshot(model)
    with pytest.raises(RuntimeError, match="boom"):
        loss_along_line(failing, model, init, model)
    _assert_restored(snap)


def test_float32_parameters_are_restored_bit_for_bit():
    X, y = rv.data.make_moons(64, noise=0.2, seed=1)
    model = rv.nn.MLP(2, [5], 2, seed=1)
    other = rv.nn.MLP(2, [5], 2, seed=2)
    loss_fn = _loss_fn(model, X, y)
    snap = _snapshot(model)
    line = loss_along_line(loss_fn, model, model, other, steps=7)
    surface = loss_surface_2d(loss_fn, model, steps=5, seed=3)
    _assert_restored(snap)
    with rv.no_grad():
        assert line.loss_a == loss_fn().item() == surface.center_loss


def test_state_dict_buffers_are_not_interpolated_and_no_side_effects(moons):
    X, y = moons
    model = rv.nn.MLP(2, [6], 2, seed=0, dtype="float64", batchnorm=True, dropout=0.2)
    start = model.state_dict()
    rv.train.Trainer(model, rv.optim.Adam(model.parameters(), lr=0.01), progress=False).fit(X, y, epochs=3)
    model.train()
    dropout = [m for m in model if isinstance(m, rv.nn.Dropout)][0]
    rng_state = dropout.rng.bit_generator.state
    before = model.state_dict()
    loss_fn = _loss_fn(model, X, y)
    line = loss_along_line(loss_fn, model, start, before, steps=9)  # state dicts carry BN buffers
    surface = loss_surface_2d(loss_fn, model, steps=5)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # parameters and buffers
    assert dropout.rng.bit_generator.state == rng_state
    assert all(m.training for _, m in model.named_modules())          # modes restored
    model.eval()
    with rv.no_grad():
        eval_loss = loss_fn().item()
    model.train()
    assert line.loss_b == eval_loss == surface.center_loss            # evaluated in eval mode
    # mode="train": batch statistics, and the same dropout mask at every point
    with rv.nn.no_side_effects(model), rv.no_grad():
        train_loss = loss_fn().item()
    in_train = loss_surface_2d(loss_fn, model, steps=3, mode="train")
    assert in_train.center_loss == train_loss != eval_loss
    assert dropout.rng.bit_generator.state == rng_state


# --- directions ---------------------------------------------------------------------------------

def test_filter_normalization_matches_each_row_to_its_row_of_theta(trained):
    model, _ = trained
    params = model.parameters()
    directions = random_directions(model, seed=0)
    assert len(directions) == 2
    for direction in directions:
        for d, p in zip(direction, params):
            assert d.shape == p.shape and d.dtype == np.float64
            if p.ndim == 2:
                np.testing.assert_allclose(np.linalg.norm(d, axis=1), np.linalg.norm(p.data, axis=1),
                                           rtol=1e-12)
            else:
                assert np.all(d == 0)  # biases: zeroed, as Li et al. do
    delta, eta = directions
    assert not np.array_equal(delta[0], eta[0])
    again = random_directions(model, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(delta, again[0]))
    normalized = random_directions(model, seed=0, one_dim="normalize", count=1)[0]
    for d, p in zip(normalized, params):
        if p.ndim == 1:
            assert np.linalg.norm(d) == pytest.approx(np.linalg.norm(p.data), rel=1e-12)
    raw = random_directions(params, seed=5, filter_normalize=False, count=1)[0]
    rng = np.random.default_rng(5)
    assert all(np.array_equal(d, rng.standard_normal(p.shape)) for d, p in zip(raw, params))


def test_normalize_filters_zero_rows_and_shapes():
    W = rv.Tensor(np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]]), requires_grad=True)
    b = rv.Tensor(np.array([1.0, 2.0, 2.0]), requires_grad=True)
    d = normalize_filters([np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 0.0]]), np.ones(3)], [W, b],
                          one_dim="normalize")
    np.testing.assert_allclose(d[0], [[5 / np.sqrt(2), 5 / np.sqrt(2)], [0, 0], [0, 0]])
    np.testing.assert_allclose(d[1], np.ones(3) * 3 / np.sqrt(3))
    with pytest.raises(ValueError, match="shape"):
        normalize_filters([np.ones((2, 2)), np.ones(3)], [W, b])
    with pytest.raises(ValueError, match="one_dim"):
        normalize_filters([np.ones((3, 2)), np.ones(3)], [W, b], one_dim="keep")


# --- the plane ----------------------------------------------------------------------------------

def test_surface_center_is_the_loss_at_theta_and_shapes(trained, moons):
    model, _ = trained
    loss_fn = _loss_fn(model, *moons)
    snap = _snapshot(model)
    surface = loss_surface_2d(loss_fn, model, span=0.5, steps=7, seed=1)
    _assert_restored(snap)
    assert isinstance(surface, SurfaceResult) and surface.filter_normalized
    assert surface.losses.shape == (7, 7)
    np.testing.assert_allclose(surface.alphas, np.linspace(-0.5, 0.5, 7), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(surface.alphas, -surface.alphas[::-1])
    assert surface.alphas[3] == 0.0 and surface.betas[3] == 0.0
    with rv.no_grad():
        assert surface.center_loss == surface.losses[3, 3] == loss_fn().item()
    assert np.all(surface.losses >= surface.center_loss - 0.05)  # a (near-)minimum
    delta, eta = surface.directions
    assert all(np.array_equal(a, b) for a, b in zip(delta, random_directions(model, seed=1)[0]))
    even = loss_surface_2d(loss_fn, model, steps=4, seed=1)
    assert len(even.alphas) == 5 and 0.0 in even.alphas and even.losses.shape == (5, 5)
    assert "L(θ)" in str(surface)


def _quadratic():
    """L(W, b) = ½ Σ_i w_iᵀ M w_i + ⟨C, W⟩ + ½ Σ d b² + ⟨e, b⟩, with W (3, 4) and b (4,)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    M = A @ A.T + np.eye(4)
    C, d, e = rng.standard_normal((3, 4)), rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    W = rv.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = rv.Tensor(rng.standard_normal(4), requires_grad=True)
    Mt, Ct, dt, et = (rv.Tensor(v) for v in (M, C, d, e))

    def loss_fn():
        return 0.5 * ((W @ Mt) * W).sum() + (W * Ct).sum() + 0.5 * (b * b * dt).sum() + (b * et).sum()

    def closed_form(alphas, betas, delta, eta):
        """L(θ) + α gᵀδ + β gᵀη + ½(α² δᵀHδ + 2αβ δᵀHη + β² ηᵀHη), from the gradient and H."""
        w, v = W.data, b.data
        value = 0.5 * np.sum((w @ M) * w) + np.sum(C * w) + 0.5 * np.sum(d * v * v) + np.sum(e * v)
        g = (w @ M + C, d * v + e)
        gd = sum(np.sum(x * y) for x, y in zip(g, delta))
        ge = sum(np.sum(x * y) for x, y in zip(g, eta))
        H = lambda p, q: np.sum((p[0] @ M) * q[0]) + np.sum(d * p[1] * q[1])
        a, bb = np.meshgrid(alphas, betas, indexing="ij")
        return value + a * gd + bb * ge + 0.5 * (a * a * H(delta, delta) + 2 * a * bb * H(delta, eta)
                                                 + bb * bb * H(eta, eta))

    return [W, b], loss_fn, closed_form


@pytest.mark.parametrize("one_dim", ["zero", "normalize"])
def test_surface_of_a_quadratic_equals_the_closed_form(one_dim):
    params, loss_fn, closed_form = _quadratic()
    saved = [p.data.copy() for p in params]
    surface = loss_surface_2d(loss_fn, params, span=2.0, steps=9, seed=4, one_dim=one_dim)
    assert all(np.array_equal(p.data, s) for p, s in zip(params, saved))
    delta, eta = surface.directions
    assert np.any(delta[1] != 0) == (one_dim == "normalize")
    np.testing.assert_allclose(surface.losses, closed_form(surface.alphas, surface.betas, delta, eta),
                               rtol=1e-12, atol=1e-12)
    # directions given explicitly are used as they are
    rng = np.random.default_rng(9)
    given = ([rng.standard_normal(p.shape) for p in params], [rng.standard_normal(p.shape) for p in params])
    explicit = loss_surface_2d(loss_fn, params, directions=given, span=1.0, steps=5)
    assert not explicit.filter_normalized
    np.testing.assert_allclose(explicit.losses, closed_form(explicit.alphas, explicit.betas, *given),
                               rtol=1e-12, atol=1e-12)
    # and the line on a quadratic is a parabola through the two ends
    theta_b = [p.data + 1.0 for p in params]
    line = loss_along_line(loss_fn, params, saved, theta_b, steps=9)
    step = [np.ones_like(s) for s in saved]
    np.testing.assert_allclose(line.losses, closed_form(line.alphas, [0.0], step, step)[:, 0],
                               rtol=1e-12, atol=1e-12)


def test_argument_errors(trained, moons):
    model, init = trained
    loss_fn = _loss_fn(model, *moons)
    params = model.parameters()
    with pytest.raises(ValueError, match="loss_along_line: steps must be an integer ≥ 2; got 1"):
        loss_along_line(loss_fn, model, init, model, steps=1)
    with pytest.raises(TypeError, match="loss_along_line: steps must be an integer ≥ 2; got True"):
        loss_along_line(loss_fn, model, init, model, steps=True)
    with pytest.raises(ValueError, match="loss_along_line: extend must be ≥ 0; got -0.1"):
        loss_along_line(loss_fn, model, init, model, extend=-0.1)
    with pytest.raises(ValueError, match="loss_surface_2d: span must be > 0; got 0"):
        loss_surface_2d(loss_fn, model, span=0)
    with pytest.raises(ValueError, match="mode must be one of 'eval', 'train', None; got 'test'"):
        loss_surface_2d(loss_fn, model, mode="test")
    with pytest.raises(ValueError, match=r"theta_b: missing keys: 2.bias"):
        loss_along_line(loss_fn, model, init, {k: v for k, v in init.items() if k != "2.bias"})
    with pytest.raises(ValueError, match="unexpected keys: 9.weight"):
        loss_along_line(loss_fn, model, init, {**init, "9.weight": np.zeros(2)})
    with pytest.raises(ValueError, match=r"theta_a 0.weight has shape \(2, 8\)"):
        loss_along_line(loss_fn, model, {**init, "0.weight": init["0.weight"].T}, init)
    with pytest.raises(ValueError, match="4 parameters"):
        loss_along_line(loss_fn, params, [init["0.weight"]], init)
    with pytest.raises(TypeError, match="names are unknown"):
        loss_along_line(loss_fn, list(params), init, init)
    with pytest.raises(ValueError, match="NaN or inf"):
        loss_along_line(loss_fn, model, {**init, "0.bias": np.full(8, np.nan)}, init)
    with pytest.raises(ValueError, match="pair"):
        loss_surface_2d(loss_fn, model, directions=[[p.data for p in params]])
    with pytest.raises(TypeError, match="scalar"):
        loss_along_line(lambda: "no", model, init, model)


# --- plots ------------------------------------------------------------------------------------

def _assert_real_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    levels = np.round(image * 255).astype(np.int64).reshape(-1, image.shape[2])
    colours = np.unique(levels @ (256 ** np.arange(image.shape[2])))  # one integer per RGB(A) colour
    assert len(colours) > 50  # a drawing, not a blank canvas


def test_plots_are_written_as_real_pngs_atomically(trained, moons, tmp_path):
    model, init = trained
    loss_fn = _loss_fn(model, *moons)
    line = loss_along_line(loss_fn, model, init, model, steps=21, labels=("init", "trained"))
    surface = loss_surface_2d(loss_fn, model, steps=9, seed=0)
    written = {
        "line.png": plot_line(line, tmp_path / "line.png"),
        "contour.png": plot_surface(surface, str(tmp_path / "contour.png")),
        "surface.png": plot_surface(surface, tmp_path / "surface.png", kind="surface", log=True),
        "method.png": surface.plot(tmp_path / "method.png", mark_center=False, title="slice"),
        "line_log.png": line.plot(tmp_path / "line_log.png", logy=True),
    }
    assert written["line.png"] == tmp_path / "line.png"
    assert written["contour.png"] == str(tmp_path / "contour.png")
    for name in written:
        _assert_real_png(tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == sorted(written)  # no temporary file left behind
    plot_line(line, tmp_path / "line.png")  # overwriting is fine
    assert sorted(os.listdir(tmp_path)) == sorted(written)


def test_a_failed_plot_leaves_the_old_file_and_no_temporary(trained, moons, tmp_path, monkeypatch):
    model, init = trained
    line = loss_along_line(_loss_fn(model, *moons), model, init, model, steps=5)
    target = tmp_path / "line.png"
    plot_line(line, target)
    old = target.read_bytes()

    def broken(self, fname, **kwargs):
        fname.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        plot_line(line, target)
    assert target.read_bytes() == old
    assert os.listdir(tmp_path) == ["line.png"]


def test_plot_errors(trained, moons, tmp_path):
    model, init = trained
    loss_fn = _loss_fn(model, *moons)
    surface = loss_surface_2d(loss_fn, model, steps=3)
    with pytest.raises(ValueError, match="kind"):
        plot_surface(surface, tmp_path / "s.png", kind="bars")
    with pytest.raises(ValueError, match=".png"):
        plot_surface(surface, tmp_path / "s.jpg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_surface(surface, tmp_path / "missing" / "s.png")
    flat = SurfaceResult(alphas=surface.alphas, betas=surface.betas, losses=np.ones((3, 3)))
    plot_surface(flat, tmp_path / "flat.png")  # a constant slice still plots
    assert os.listdir(tmp_path) == ["flat.png"]
