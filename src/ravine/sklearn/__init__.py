"""scikit-learn estimators trained by ravine: ``MLPClassifier`` and ``MLPRegressor``.

They take scikit-learn's ``sklearn.neural_network`` parameters (names, meanings, defaults) plus
ravine's own (more solvers, schedules, L1, batch norm, dropout, gradient clipping, curvature
monitoring, dtype), pass scikit-learn's estimator checks, and work in ``Pipeline`` and
``GridSearchCV``.

Example::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from ravine.sklearn import MLPClassifier

    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), random_state=0))
    pipe.fit(X_train, y_train).score(X_test, y_test)
"""

from __future__ import annotations

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
