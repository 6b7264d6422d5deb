"""What ``MLPClassifier`` and ``MLPRegressor`` share: hyperparameters, fitting, learned attributes.

Fitting builds an ``rv.nn.MLP`` (``model_``), an optimizer and an ``rv.train.Trainer`` (so a plain
MLP trains through the compiled step), and runs scikit-learn's epoch rules as Trainer callbacks
(``_loop``). Everything random comes from ``random_state``: three int seeds drawn from
``check_random_state(random_state)`` at each fit — the weights, the shuffling, the validation split.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ravine.diagnose import CurvatureMonitor
from ravine.nn import L1, L2, MLP
from ravine.train import Trainer

from ._loop import Penalties, SklearnRules
from ._params import check_params, make_optimizer, sklearn_activation

_SEED_HIGH = np.iinfo(np.int32).max


class BaseMLP(BaseEstimator):
    """Base class of the estimators; use ``MLPClassifier`` or ``MLPRegressor``.

    Subclasses set ``_loss`` ("cross_entropy" or "mse") and ``_loss_scale`` (scikit-learn's
    reported data loss over ravine's: 1, or ½ for the half squared error), and implement
    ``_validate_targets``, ``_n_model_outputs`` and, where it is not 1, ``_gradient_scale``.
    """

    _loss = "cross_entropy"
    _loss_scale = 1.0

    def _gradient_scale(self) -> float:
        """ravine's gradient over scikit-learn's, for the same weights and batch (see ``_params``)."""
        return 1.0

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 init="auto", l1=0.0, batchnorm=False, dropout=0.0, clip_norm=None, schedule=None,
                 monitor_curvature=None, dtype="auto"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.init = init
        self.l1 = l1
        self.batchnorm = batchnorm
        self.dropout = dropout
        self.clip_norm = clip_norm
        self.schedule = schedule
        self.monitor_curvature = monitor_curvature
        self.dtype = dtype

    # --- learned weights, in scikit-learn's layout ---------------------------------------------
    def _fitted_model(self, name: str):
        model = self.__dict__.get("model_")
        if model is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r} before fit")
        return model

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, layer by layer, of shape (n_in, n_out): views of ``model_``'s weights
        (transposed: ravine's ``Linear.weight`` is (n_out, n_in))."""
        return [layer.weight.data.T for layer in self._fitted_model("coefs_").linear_layers()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, layer by layer (zeros for a hidden layer followed by batch norm, which has
        no bias: its shift is the batch norm's β, in ``model_``)."""
        model = self._fitted_model("intercepts_")
        return [layer.bias.data if layer.bias is not None
                else np.zeros(layer.out_features, dtype=model.dtype) for layer in model.linear_layers()]

    # --- fitting --------------------------------------------------------------------------------
    def fit(self, X, y):
        """Fit the network to (X, y), from new weights (or from the current ones with
        ``warm_start=True``), for at most ``max_iter`` epochs. Returns self."""
        return self._fit(X, y, incremental=False)

    def _fit(self, X, y, incremental: bool, classes=None):
        p = check_params(self)
        owner = type(self).__name__
        if incremental and p["early_stopping"]:
            raise ValueError("partial_fit does not support early_stopping=True")
        reuse = "model_" in self.__dict__ and (incremental or p["warm_start"])
        if reuse:
            self._check_same_network(p)
        dtype = self.model_.dtype if reuse else (p["dtype"] or (np.float64, np.float32))
        X, y = self._validate_targets(X, y, dtype, reuse, incremental, classes)
        dtype = X.dtype

        continuing = incremental and reuse and "_trainer" in self.__dict__
        seeds = None
        if not continuing:
            rs = check_random_state(self.random_state)
            seeds = [int(s) for s in rs.randint(_SEED_HIGH, size=3)]  # weights, shuffle, split
        if not reuse:
            self._build(p, X.shape[1], self._n_model_outputs(y), dtype, seeds[0])
        else:
            self._start_curves(p, afresh=False)

        validation = None
        X_train, y_train = X, y
        if p["early_stopping"]:
            X_train, X_val, y_train, y_val = self._split(X, y, p["validation_fraction"], seeds[2])
            validation = (X_val, y_val)
        n_train = len(X_train)
        if p["batch_size"] == "auto":
            batch = min(200, n_train)
        else:
            if p["batch_size"] > n_train:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going "
                              "to be clipped")
            batch = min(p["batch_size"], n_train)

        if not continuing:
            self._trainer = self._make_trainer(p, batch, seeds[1], early_stopping=validation is not None)
        trainer, rules = self._trainer, self._rules
        trainer.batch_size = batch
        rules.prepare(incremental, n_train, validation)
        self.n_iter_ = 0
        try:
            trainer.fit(X_train, y_train, epochs=1 if incremental else p["max_iter"],
                        validation_data=validation)
        finally:
            best_state, stopped = rules.best_state, rules.stopped
            rules.prepare(False, 0, None)  # keep no data or weight copies on the estimator
        if validation is not None and best_state is not None:
            self.model_.load_state_dict(best_state)  # scikit-learn restores the best weights
        self.history_ = trainer.history
        self.curvature_ = list(self._monitor.rows) if self._monitor is not None else None
        reason = trainer.stop_reason
        if reason and reason.startswith("training diverged"):
            warnings.warn(f"{owner}: {reason}", ConvergenceWarning, stacklevel=3)
        elif not incremental and not stopped and self.n_iter_ == p["max_iter"]:
            warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                          "optimization hasn't converged yet." % p["max_iter"], ConvergenceWarning,
                          stacklevel=3)
        return self

    def _build(self, p: dict, n_features: int, n_outputs: int, dtype, seed: int) -> None:
        """A new network and the learned attributes scikit-learn sets on a first fit."""
        self.model_ = MLP(n_features, p["hidden"], n_outputs, activation=p["activation"],
                          init=p["init"], seed=seed, dtype=dtype, batchnorm=p["batchnorm"],
                          dropout=p["dropout"])
        self.n_layers_ = len(p["hidden"]) + 2
        self.n_outputs_ = n_outputs
        self.out_activation_ = "softmax" if self._loss == "cross_entropy" else "identity"
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._start_curves(p, afresh=True)
        self.__dict__.pop("_trainer", None)

    def _start_curves(self, p: dict, afresh: bool) -> None:
        """What the stopping rule tracks: the validation score with early stopping, else the
        training loss. A warm start keeps them, unless ``early_stopping`` was switched."""
        if p["early_stopping"]:
            if afresh or self.validation_scores_ is None:
                self.validation_scores_, self.validation_loss_curve_ = [], []
                self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            if afresh or self.best_loss_ is None:
                self.best_loss_ = np.inf
            self.validation_scores_ = self.validation_loss_curve_ = self.best_validation_score_ = None

    def _check_same_network(self, p: dict) -> None:
        """warm_start and partial_fit continue the network they have: its architecture must be the
        one the parameters describe now."""
        model = self.model_
        now = dict(hidden_layer_sizes=p["hidden"], activation=sklearn_activation(p["activation"]),
                   batchnorm=p["batchnorm"], dropout=p["dropout"])
        then = dict(hidden_layer_sizes=model.hidden, activation=sklearn_activation(model.activation),
                    batchnorm=model.batchnorm, dropout=model.dropout)
        changed = [f"{k} (fitted with {then[k]!r}, now {now[k]!r})" for k in now if now[k] != then[k]]
        if changed:
            raise ValueError(f"{type(self).__name__}: cannot continue training (warm_start=True or "
                             f"partial_fit) after a change of {', '.join(changed)}; set "
                             f"warm_start=False and call fit to start afresh")

    def _make_trainer(self, p: dict, batch: int, seed: int, early_stopping: bool) -> Trainer:
        """A Trainer with a new optimizer (scikit-learn starts a new one at each fit)."""
        model = self.model_
        gradient_scale = self._gradient_scale()
        regularizers, l2, l1 = [], None, None
        l2_numerator = p["alpha"] * gradient_scale / 2.0  # λ = l2_numerator / m, see _params
        if p["alpha"] > 0 and p["solver"] != "adamw":
            l2 = L2(l2_numerator / batch)
            regularizers.append(l2)
        if p["l1"] > 0:
            l1 = L1(p["l1"] * gradient_scale)
            regularizers.append(l1)
        penalties = (Penalties(model, l2, l2_numerator, p["alpha"] if l2 is not None else 0.0, l1, p["l1"])
                     if regularizers else None)
        self._monitor = CurvatureMonitor(every=p["monitor_curvature"]) if p["monitor_curvature"] else None
        self._rules = SklearnRules(self, penalties, p, self._loss_scale, gradient_scale)
        callbacks = [cb for cb in (penalties, self._monitor, self._rules) if cb is not None]
        return Trainer(model, make_optimizer(p, model, gradient_scale), loss=self._loss,
                       regularizers=regularizers, batch_size=batch,
                       seed=seed, shuffle=p["shuffle"], callbacks=callbacks,
                       schedule=p["schedule"], schedule_monitor="val_loss" if early_stopping else "loss",
                       clip_norm=p["clip_norm"], progress=False)

    def _split(self, X, y, fraction: float, seed: int):
        X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=fraction, random_state=seed)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' or the "
                             "size of your dataset.")
        return X_train, X_val, y_train, y_val

    # --- prediction -----------------------------------------------------------------------------
    def _output(self, X) -> np.ndarray:
        """The network's raw output (logits or regression values) for X, in the model's dtype."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=self.model_.dtype)
        return self._trainer.predict_output(X)

    def _validate_X_y(self, X, y, dtype, reuse: bool, **kwargs):
        """X (and y) checked as scikit-learn does; X in ``dtype`` (a tuple: float32 stays float32)."""
        return validate_data(self, X, y, reset=not reuse, dtype=dtype, **kwargs)
