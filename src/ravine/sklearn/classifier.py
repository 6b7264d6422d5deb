"""``MLPClassifier``: scikit-learn's multi-layer perceptron classifier, trained by ravine.

Example::

    from ravine.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=100, random_state=0).fit(X, y)
    clf.predict(X[:5]), clf.predict_proba(X[:5]), clf.score(X, y)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._base import BaseMLP
from ._docs import COMMON_DOC


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = """Multi-layer perceptron classifier: minimizes the log-loss (softmax cross-entropy) with
    scikit-learn's parameters, their meanings and defaults, trained by ``rv.train.Trainer``.

    p(y = k | x) = softmax(a⁽ᴸ⁺¹⁾(x))_k, the network's output layer a⁽ᴸ⁺¹⁾ having one unit per class,
    and each mini-batch B of m examples takes a step on
    J_B = −(1/m) Σ_{t∈B} log p(y⁽ᵗ⁾ | x⁽ᵗ⁾) + (alpha/(2m)) Σ_k ‖W⁽ᵏ⁾‖²  (scikit-learn's objective).

    Labels may be of any type (ints, strings, ...); binary and multiclass targets are supported,
    multilabel and multi-output ones are not (a ValueError says so). Unlike scikit-learn, a binary
    problem has two softmax output units rather than one logistic unit (the same model family:
    σ(a₁ − a₀) = softmax(a)₁), so ``coefs_[-1]`` has two columns, ``n_outputs_`` is 2 and
    ``out_activation_`` is "softmax".
    """ + COMMON_DOC + """
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.

    Example::

        clf = MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X, y)
        clf.predict_proba(X[:3])
    """

    _loss = "cross_entropy"
    _loss_scale = 1.0

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing from the current weights and optimizer state.

        ``classes`` (every label that will ever be seen) is required on the first call.
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def _validate_targets(self, X, y, dtype, reuse, incremental, classes):
        owner = type(self).__name__
        if y is not None:
            kind = type_of_target(y, input_name="y")
            if kind in ("multilabel-indicator", "multiclass-multioutput"):
                raise ValueError(f"{owner} does not support {kind} targets (y of shape "
                                 f"{np.shape(y)}): y must be one label per sample; for several "
                                 f"outputs use sklearn.multioutput.MultiOutputClassifier")
        X, y = self._validate_X_y(X, y, dtype, reuse)
        check_classification_targets(y)
        present = np.unique(y)
        if incremental and not reuse:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = np.unique(np.asarray(classes))
        elif incremental:
            if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
                raise ValueError(f"`classes={np.unique(np.asarray(classes))!r}` is not the same as on "
                                 f"the last call to partial_fit, was: {self.classes_!r}")
        elif reuse:  # warm_start
            if set(present) != set(self.classes_):
                raise ValueError("warm_start can only be used where `y` has the same classes as in "
                                 f"the previous call to fit. Previously got {self.classes_}, `y` has "
                                 f"{present}")
        else:
            self.classes_ = present
        if incremental:
            unknown = np.setdiff1d(present, self.classes_)
            if len(unknown):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {present}.")
        return X, np.searchsorted(self.classes_, y).astype(np.int64)

    def _n_model_outputs(self, y) -> int:
        return len(self.classes_)

    def _split(self, X, y, fraction, seed):
        """Stratified by class when every class can be in both parts (as scikit-learn's for a
        binary problem), a plain random split otherwise."""
        try:
            parts = train_test_split(X, y, test_size=fraction, random_state=seed, stratify=y)
        except ValueError:
            parts = train_test_split(X, y, test_size=fraction, random_state=seed)
        if parts[1].shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' or the "
                             "size of your dataset.")
        return parts

    def predict(self, X):
        """The most probable class of each row of X."""
        logits = self._output(X)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(logits, axis=1)]

    def predict_proba(self, X):
        """p(class | x) for each row of X, columns ordered as ``classes_``, in the model's dtype."""
        logits = self._output(X)
        z = logits - logits.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def predict_log_proba(self, X):
        """log p(class | x), computed as a log-softmax (equal to log(predict_proba(X)), without its
        underflow to −inf)."""
        logits = self._output(X)
        z = logits - logits.max(axis=1, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
        return z
