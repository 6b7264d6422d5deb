"""``MLPRegressor``: scikit-learn's multi-layer perceptron regressor, trained by ravine.

Example::

    from ravine.sklearn import MLPRegressor
    reg = MLPRegressor(hidden_layer_sizes=(64,), max_iter=300, random_state=0).fit(X, y)
    reg.predict(X[:5]), reg.score(X, y)
"""

from __future__ import annotations

from sklearn.base import RegressorMixin

from ._base import BaseMLP
from ._docs import COMMON_DOC


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = """Multi-layer perceptron regressor: minimizes the squared error with scikit-learn's
    parameters, their meanings and defaults, trained by ``rv.train.Trainer``.

    The output layer is linear (one unit per target), and each mini-batch B of m examples takes a
    step on scikit-learn's objective, the half squared error
    J_B = (1/(2 m q)) Σ_{t∈B} ‖y⁽ᵗ⁾ − ŷ(x⁽ᵗ⁾)‖² + (alpha/(2m)) Σ_k ‖W⁽ᵏ⁾‖²  (q targets),
    through ravine's ``mse_loss`` (twice this; see ``ravine.sklearn._params`` for the exact mapping).
    ``loss_curve_`` holds scikit-learn's J.

    y may be 1-D (n_samples,) or 2-D (n_samples, n_targets); ``predict`` returns the same number
    of dimensions as the y given to ``fit`` — (n, 1) stays (n, 1), where scikit-learn's
    MLPRegressor warns and flattens it.
    """ + COMMON_DOC + """
    Example::

        reg = MLPRegressor(hidden_layer_sizes=(64,), random_state=0).fit(X, y)
        reg.predict(X[:3])
    """

    _loss = "mse"
    _loss_scale = 0.5

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing from the current weights and optimizer state."""
        return self._fit(X, y, incremental=True)

    def _validate_targets(self, X, y, dtype, reuse, incremental, classes):
        X, y = self._validate_X_y(X, y, dtype, reuse, multi_output=True, y_numeric=True)
        if reuse and (y.ndim == 2) != self._y_2d:
            raise ValueError(f"y has shape {y.shape} but the model was fitted with "
                             f"{'2-D' if self._y_2d else '1-D'} targets")
        if reuse and self._n_model_outputs(y) != self.n_outputs_:
            raise ValueError(f"y has {self._n_model_outputs(y)} targets but the model was fitted "
                             f"with {self.n_outputs_}")
        if not reuse:
            self._y_2d = y.ndim == 2
        return X, y.astype(X.dtype, copy=False)

    def _gradient_scale(self) -> float:
        """2/q for q targets: ravine's mse_loss averages over the q targets and is not halved, while
        scikit-learn's gradient is that of ½ Σ_j (y_j − ŷ_j)² (see ``_params``)."""
        return 2.0 / self.n_outputs_

    @staticmethod
    def _n_model_outputs(y) -> int:
        return 1 if y.ndim == 1 else y.shape[1]

    def predict(self, X):
        """Predicted targets: shape (n_samples,) when fitted on 1-D y, else (n_samples, n_targets)."""
        out = self._output(X)
        return out if self._y_2d else out[:, 0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # several targets at once, one output unit each
        return tags
