"""Data shared by the scikit-learn estimator tests."""

import pytest
from sklearn.datasets import load_digits, make_regression


@pytest.fixture(scope="module")
def small_digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16.0, y[:500]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=300, n_features=8, n_targets=2, noise=1.0, random_state=0)
    return X, y / y.std(axis=0)
