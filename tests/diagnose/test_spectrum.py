"""hessian_eigs (Lanczos on exact HVPs) and hutchinson_trace against the dense Hessian's eigvalsh/trace."""

from __future__ import annotations

import numpy as np
import pytest

import ravine as rv
from ravine.autodiff.second_order import hessian, unflatten
from ravine.diagnose import spectrum
from ravine.diagnose.spectrum import TraceEstimate, hessian_eigs, hutchinson_trace
from ravine.nn import functional as F

EIG_RTOL = 1e-6


def net_problem(activation="tanh", batchnorm=False, hidden=(16, 12), n_in=6, n_out=3, m=40,
                loss="cross_entropy", dtype="float64", seed=0):
    """A small net (355 parameters with the defaults) and a counting loss_fn over one batch."""
    model = rv.nn.MLP(n_in, list(hidden), n_out, activation=activation, batchnorm=batchnorm,
                      seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.data[...] = 0.1 * rng.standard_normal(p.shape)
    x = rng.standard_normal((m, n_in)).astype(dtype)
    y = rng.integers(0, n_out, m) if loss == "cross_entropy" else rng.standard_normal((m, n_out)).astype(dtype)
    calls = []

    def loss_fn():
        calls.append(1)
        return F.cross_entropy(model(x), y) if loss == "cross_entropy" else F.mse_loss(model(x), y)

    return model, loss_fn, calls


def quadratic(A, b=None):
    """θ ↦ ½θᵀAθ − bᵀθ over one vector parameter θ (Hessian A), and θ."""
    theta = rv.Tensor(np.zeros(len(A)), requires_grad=True)
    b = np.zeros(len(A)) if b is None else b
    return (lambda: 0.5 * (theta @ (A @ theta)) - (theta * b).sum()), theta


def random_symmetric(n, seed=0):
    M = np.random.default_rng(seed).standard_normal((n, n))
    return (M + M.T) / 2


@pytest.fixture
def no_dense_path(monkeypatch):
    """Fail if hessian_eigs builds the dense Hessian instead of running Lanczos."""
    def refuse(*args, **kwargs):
        raise AssertionError("the dense Hessian was formed")
    monkeypatch.setattr(spectrum, "_dense_eigh", refuse)


# --- eigenvalues ----------------------------------------------------------------------------------

@pytest.mark.parametrize("activation, batchnorm, loss", [
    ("tanh", False, "cross_entropy"), ("relu", False, "mse"), ("sigmoid", True, "cross_entropy")])
def test_hessian_eigs_equal_eigvalsh_of_the_full_hessian(activation, batchnorm, loss, no_dense_path):
    model, loss_fn, calls = net_problem(activation, batchnorm, loss=loss)
    params = model.parameters()
    n = sum(p.size for p in params)
    assert 300 <= n <= 400
    expected = np.linalg.eigvalsh(hessian(loss_fn, params))
    calls.clear()
    lowest, highest = hessian_eigs(loss_fn, params, k=3)
    assert len(calls) == 1, "the loss (and its gradient graph) must be recorded once for all products"
    assert lowest.dtype == highest.dtype == np.float64
    assert lowest.shape == highest.shape == (3,)
    assert np.all(np.diff(lowest) >= 0) and np.all(np.diff(highest) >= 0)
    assert expected[0] < 0 < expected[-1], "a point with both signs makes the test sharper"
    np.testing.assert_allclose(lowest, expected[:3], rtol=EIG_RTOL)
    np.testing.assert_allclose(highest, expected[-3:], rtol=EIG_RTOL)


def test_eigenvectors_satisfy_h_v_equals_lambda_v(no_dense_path):
    model, loss_fn, _ = net_problem("tanh")
    params = model.parameters()
    H = hessian(loss_fn, params)
    lowest, highest, low_vectors, high_vectors = hessian_eigs(loss_fn, params, k=3, return_vectors=True)
    n = H.shape[0]
    assert low_vectors.shape == high_vectors.shape == (n, 3)
    scale = np.abs(np.linalg.eigvalsh(H)).max()
    for values, vectors in ((lowest, low_vectors), (highest, high_vectors)):
        np.testing.assert_allclose(vectors.T @ vectors, np.eye(3), atol=1e-10)
        residual = H @ vectors - vectors * values
        assert np.abs(residual).max() <= 1e-8 * scale
    # The same through the exact HVP, one vector split per parameter as unflatten does.
    hv = rv.diagnose.hvp(loss_fn, params, unflatten(low_vectors[:, 0], params))
    np.testing.assert_allclose(np.concatenate([h.ravel() for h in hv]), lowest[0] * low_vectors[:, 0],
                               atol=1e-9 * scale)


def test_quadratic_with_a_known_spectrum_by_lanczos(no_dense_path):
    eigenvalues = np.array([-3.0, -1.0, -0.5, 0.1, 0.2, 0.3, 0.4, 0.5, 2.0, 5.0, 7.0, 11.0])
    Q, _ = np.linalg.qr(np.random.default_rng(4).standard_normal((12, 12)))
    A = Q @ np.diag(eigenvalues) @ Q.T
    loss_fn, theta = quadratic(A)
    lowest, highest = hessian_eigs(loss_fn, [theta], k=2)
    np.testing.assert_allclose(lowest, [-3.0, -1.0], rtol=1e-10)
    np.testing.assert_allclose(highest, [7.0, 11.0], rtol=1e-10)
    lowest, highest = hessian_eigs(loss_fn, [theta], k=5)
    np.testing.assert_allclose(lowest, eigenvalues[:5], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(highest, eigenvalues[-5:], rtol=1e-10)


def test_lanczos_and_dense_paths_agree():
    model, loss_fn, _ = net_problem("relu", hidden=(8,), n_in=4, n_out=3)
    params = model.parameters()
    by_lanczos = hessian_eigs(loss_fn, params, k=4, method="lanczos")
    by_dense = hessian_eigs(loss_fn, params, k=4, method="dense")
    for a, b in zip(by_lanczos, by_dense):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_small_nets_fall_back_to_the_whole_spectrum():
    """2k ≥ n: Lanczos cannot run, so H is built from n HVPs and each array holds min(k, n) values."""
    A = random_symmetric(5, seed=1)
    loss_fn, theta = quadratic(A)
    expected = np.linalg.eigvalsh(A)
    lowest, highest = hessian_eigs(loss_fn, [theta], k=3)      # 2k = 6 ≥ 5: dense
    np.testing.assert_allclose(lowest, expected[:3], rtol=1e-12)
    np.testing.assert_allclose(highest, expected[-3:], rtol=1e-12)
    lowest, highest, lv, hv = hessian_eigs(loss_fn, [theta], k=10, return_vectors=True)
    np.testing.assert_allclose(lowest, expected, rtol=1e-12)
    np.testing.assert_allclose(highest, expected, rtol=1e-12)
    assert lv.shape == hv.shape == (5, 5)
    np.testing.assert_allclose(A @ lv, lv * lowest, atol=1e-12)
    # Two scalar parameters: the saddle x² − y².
    x = rv.Tensor(0.3, requires_grad=True, dtype="float64")
    y = rv.Tensor(-0.2, requires_grad=True, dtype="float64")
    lowest, highest = hessian_eigs(lambda: x * x - y * y, [x, y])
    np.testing.assert_array_equal(lowest, [-2.0, 2.0])
    np.testing.assert_array_equal(highest, [-2.0, 2.0])


def test_same_seed_same_result_and_any_seed_the_same_eigenvalues():
    model, loss_fn, _ = net_problem("tanh", hidden=(10,), n_in=4)
    params = model.parameters()
    first = hessian_eigs(loss_fn, params, seed=3, return_vectors=True)
    again = hessian_eigs(loss_fn, params, seed=3, return_vectors=True)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    other = hessian_eigs(loss_fn, params, seed=np.random.default_rng(11))
    np.testing.assert_allclose(other[0], first[0], rtol=1e-9)
    np.testing.assert_allclose(other[1], first[1], rtol=1e-9)


def test_a_linear_loss_has_a_zero_hessian():
    w = rv.Tensor(np.arange(10.0), requires_grad=True)
    c = np.linspace(-1, 1, 10)
    lowest, highest, lv, _ = hessian_eigs(lambda: (w * c).sum(), [w], k=3, return_vectors=True)
    np.testing.assert_array_equal(lowest, np.zeros(3))
    np.testing.assert_array_equal(highest, np.zeros(3))
    np.testing.assert_allclose(np.linalg.norm(lv, axis=0), 1.0)


def test_float32_nets_converge_to_float32_accuracy():
    model64, loss64, _ = net_problem("tanh", dtype="float64")
    model32, loss32, _ = net_problem("tanh", dtype="float32")
    expected = hessian_eigs(loss64, model64.parameters())
    lowest, highest = hessian_eigs(loss32, model32.parameters())
    np.testing.assert_allclose(lowest, expected[0], rtol=1e-4)
    np.testing.assert_allclose(highest, expected[1], rtol=1e-4)


def test_model_argument_leaves_batch_norm_statistics_untouched():
    model, loss_fn, _ = net_problem("tanh", batchnorm=True, hidden=(8,), n_in=4)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    hessian_eigs(loss_fn, model.parameters(), model=model)
    hutchinson_trace(loss_fn, model.parameters(), samples=4, model=model)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    hessian_eigs(loss_fn, model.parameters())  # without model=: the forward pass updates the statistics
    assert not np.array_equal(model.state_dict()["1.running_mean"], before["1.running_mean"])


def test_hessian_eigs_rejects_bad_arguments():
    model, loss_fn, _ = net_problem("tanh", hidden=(4,), n_in=2)
    params = model.parameters()
    for bad, error in ((0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match=f"hessian_eigs: k must be an integer ≥ 1; got {bad!r}"):
            hessian_eigs(loss_fn, params, k=bad)
    with pytest.raises(ValueError, match="hessian_eigs: method must be one of 'auto', 'lanczos', 'dense'; "
                                         "got 'power'"):
        hessian_eigs(loss_fn, params, method="power")
    with pytest.raises(ValueError, match=r"hessian_eigs: tol must be ≥ 0 \(0: machine precision\); got -1"):
        hessian_eigs(loss_fn, params, tol=-1)
    with pytest.raises(ValueError, match=r"hessian_eigs: seed must be an integer ≥ 0, a numpy\.random\."
                                         r"Generator; got -3"):
        hessian_eigs(loss_fn, params, seed=-3)
    with pytest.raises(TypeError, match=r"hessian_eigs: seed must be .*; got None"):
        hessian_eigs(loss_fn, params, seed=None)
    A = random_symmetric(4)
    q, theta = quadratic(A)
    with pytest.raises(ValueError, match=r"2k < n; got k=2 with n=4"):
        hessian_eigs(q, [theta], k=2, method="lanczos")
    with pytest.raises(ValueError, match="scalar"):
        hessian_eigs(lambda: theta * 1.0, [theta])


def test_lanczos_that_does_not_converge_says_so():
    model, loss_fn, _ = net_problem("tanh")
    with pytest.raises(RuntimeError, match="did not converge.*raise maxiter"):
        hessian_eigs(loss_fn, model.parameters(), k=3, maxiter=1)


# --- Hutchinson's trace estimate ------------------------------------------------------------------

def test_hutchinson_trace_is_within_a_few_standard_errors_of_the_trace():
    model, loss_fn, calls = net_problem("tanh", hidden=(8,), n_in=4)
    params = model.parameters()
    H = hessian(loss_fn, params)
    calls.clear()
    estimate = hutchinson_trace(loss_fn, params, samples=300, seed=0)
    assert len(calls) == 1
    assert isinstance(estimate, TraceEstimate) and estimate.samples == 300
    trace, stderr = estimate[:2]
    assert stderr > 0
    assert abs(trace - np.trace(H)) <= 4 * stderr
    # The standard error estimates the true one, √(2 Σ_{i≠j} H_ij² / N).
    off = H - np.diag(np.diag(H))
    true_stderr = np.sqrt(2 * np.sum(off ** 2) / 300)
    assert 0.75 * true_stderr <= stderr <= 1.25 * true_stderr


def test_hutchinson_standard_error_shrinks_like_one_over_root_samples():
    model, loss_fn, _ = net_problem("sigmoid", hidden=(8,), n_in=4, loss="mse")
    params = model.parameters()
    errors = {n: hutchinson_trace(loss_fn, params, samples=n, seed=1).stderr for n in (50, 200, 800)}
    assert 0.35 <= errors[200] / errors[50] <= 0.65      # 1/√4 = 0.5
    assert 0.35 <= errors[800] / errors[200] <= 0.65


def test_hutchinson_is_exact_for_a_diagonal_hessian():
    """vᵀDv = Σ D_ii v_i² = tr D for every Rademacher v: no variance at all."""
    d = np.array([3.0, -1.0, 0.5, 2.0])
    loss_fn, theta = quadratic(np.diag(d))
    trace, stderr, samples = hutchinson_trace(loss_fn, [theta], samples=5)
    assert trace == pytest.approx(d.sum(), rel=1e-15) and stderr == 0.0 and samples == 5


def test_hutchinson_is_deterministic_and_validates_samples():
    model, loss_fn, _ = net_problem("tanh", hidden=(4,), n_in=3)
    params = model.parameters()
    assert hutchinson_trace(loss_fn, params, samples=20, seed=5) == \
        hutchinson_trace(loss_fn, params, samples=20, seed=5)
    for bad, error in ((0, ValueError), (1, ValueError), (2.0, TypeError)):
        with pytest.raises(error, match=r"hutchinson_trace: samples must be an integer ≥ 2 \(two at least, "
                                        rf"for a standard error\); got {bad!r}"):
            hutchinson_trace(loss_fn, params, samples=bad)
