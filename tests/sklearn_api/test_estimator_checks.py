"""scikit-learn as the judge: its estimator checks, and its own MLPs as oracles.

``parametrize_with_checks`` runs every check of scikit-learn over both estimators, with small
settings that keep the suite fast (the checks take instances; the learning rate is raised so that 50
epochs of a 10-unit network fit the checks' small problems well enough for their accuracy and R²
thresholds). No check is marked as an expected failure.

scikit-learn's MLPClassifier/MLPRegressor are the oracle: from the same initial weights, with
shuffle=False, solver="sgd" (and Adam with ε → 0) must take the same steps — loss curves and
weights equal to rounding; on digits, the same parameters and seeds must give the same accuracy
(within 0.01).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from ravine.sklearn import MLPClassifier, MLPRegressor

SMALL = dict(hidden_layer_sizes=(10,), max_iter=50, learning_rate_init=0.01, random_state=0)


@parametrize_with_checks([MLPClassifier(**SMALL), MLPRegressor(**SMALL)])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 50 epochs rarely converge by tol
        check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


# --- the oracle: scikit-learn's own estimators ------------------------------------------------------

def _from_same_weights(sk_class, rv_class, X, y, epochs=6, **params):
    """Both estimators after one epoch from scikit-learn's weights copied into ravine's, then
    ``epochs`` more epochs each (warm_start: each starts a new optimizer, as scikit-learn does)."""
    common = dict(hidden_layer_sizes=(20, 15), shuffle=False, random_state=0, batch_size=32,
                  alpha=0.01, warm_start=True, max_iter=1, **params)
    sk = sk_class(**common).fit(X, y)
    ours = rv_class(**common).fit(X, y)
    for mine, theirs in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        mine[...] = theirs  # coefs_ and intercepts_ are views of the network's weights
    sk.set_params(max_iter=epochs).fit(X, y)
    ours.set_params(max_iter=epochs).fit(X, y)
    return sk, ours


SGD_SETTINGS = [
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False, momentum=0.5),
    dict(solver="sgd", learning_rate_init=0.05, momentum=0.0),
    dict(solver="sgd", learning_rate_init=0.05, learning_rate="invscaling", power_t=0.25),
    # tol=10: no epoch improves, so the learning rate is divided by 5 every second epoch
    dict(solver="sgd", learning_rate_init=0.05, learning_rate="adaptive", tol=10.0, n_iter_no_change=1),
    dict(solver="adam", epsilon=1e-30),  # ravine's Adam differs from scikit-learn's only in ε's place
]


@pytest.mark.parametrize("params", SGD_SETTINGS, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_classifier_takes_sklearns_steps(small_digits, params):
    X, y = small_digits
    sk, ours = _from_same_weights(SkClassifier, MLPClassifier, X, y, **params)
    np.testing.assert_allclose(ours.loss_curve_[1:], sk.loss_curve_[1:], rtol=1e-12)
    for mine, theirs in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)
    assert (ours.n_iter_, ours.t_, ours.best_loss_) == (sk.n_iter_, sk.t_, pytest.approx(sk.best_loss_, rel=1e-12))


@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("params", [SGD_SETTINGS[0], SGD_SETTINGS[-1]], ids=["sgd", "adam"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressor_takes_sklearns_steps(regression, n_targets, params):
    X, y = regression
    y = y[:, 0] if n_targets == 1 else y
    sk, ours = _from_same_weights(SkRegressor, MLPRegressor, X, y, **{**params, "learning_rate_init": 0.01})
    np.testing.assert_allclose(ours.loss_curve_[1:], sk.loss_curve_[1:], rtol=1e-12)
    for mine, theirs in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_adam_with_default_epsilon_stays_close_to_sklearns(small_digits):
    X, y = small_digits
    sk, ours = _from_same_weights(SkClassifier, MLPClassifier, X, y, solver="adam")
    np.testing.assert_allclose(ours.loss_curve_[1:], sk.loss_curve_[1:], rtol=1e-3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_digits_accuracy_matches_sklearn_over_three_seeds(digits):
    X_train, X_test, y_train, y_test = digits
    ours, theirs = [], []
    # One BLAS thread: on a busy 2-core machine, two threads per small matmul stall both
    # estimators for seconds. Fit times are measured in benchmarks, not asserted here.
    with threadpool_limits(1):
        for seed in range(3):
            ours.append(MLPClassifier(random_state=seed).fit(X_train, y_train).score(X_test, y_test))
            theirs.append(SkClassifier(random_state=seed).fit(X_train, y_train).score(X_test, y_test))
    assert np.mean(ours) >= np.mean(theirs) - 0.01, (ours, theirs)
