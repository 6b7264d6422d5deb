"""scikit-learn's epoch rules, as ``rv.train`` callbacks on the Trainer that fits an estimator.

``Penalties`` sets the L2 strength of each mini-batch from its size m (λ = c·alpha/(2m), see
``_params``) and adds up the penalty each step sees, so that ``loss_curve_`` holds scikit-learn's
objective. ``SklearnRules`` does, after each epoch, what scikit-learn's ``_fit_stochastic`` does: it
records ``loss_`` and ``loss_curve_`` (and the validation score with ``early_stopping``), counts the
epochs without improvement by ``tol``, moves the learning rate ("invscaling", "adaptive") and stops
training after more than ``n_iter_no_change`` such epochs.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import r2_score

from ravine.train import Callback


class Penalties(Callback):
    """Per mini-batch of m examples: sets the L2 strength to ``l2_numerator / m``, and adds up the
    penalty of scikit-learn's reported loss, m·((alpha/(2m))·Σ‖W‖² + l1·Σ|W|), at the weights the
    step sees. ``total / seen`` is then the epoch's mean penalty, as in scikit-learn's ``loss_``.
    """

    def __init__(self, model, l2=None, l2_numerator: float = 0.0, alpha: float = 0.0, l1=None,
                 l1_reported: float = 0.0):
        self.l2, self.l2_numerator, self.half_alpha = l2, l2_numerator, alpha / 2.0
        self.l1, self.l1_reported = l1, l1_reported
        self.weights = [p for p in model.parameters() if p.regularize]
        self.total, self.seen = 0.0, 0

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        self.total, self.seen = 0.0, 0

    def on_batch_begin(self, step: int, logs: dict) -> None:
        m = len(logs["targets"])
        if self.l2 is not None:
            self.l2.strength = self.l2_numerator / m
            self.total += self.half_alpha * sum(float(np.vdot(w.data, w.data)) for w in self.weights)
        if self.l1 is not None:
            self.total += m * self.l1_reported * sum(float(np.abs(w.data).sum()) for w in self.weights)
        self.seen += m


class SklearnRules(Callback):
    """scikit-learn's per-epoch bookkeeping and stopping for the estimator ``est``.

    Set before each ``Trainer.fit``: ``incremental`` (partial_fit), ``n_train``, and for early
    stopping ``validation`` = (X_val, y_val) as the Trainer sees them (y_val: the regression targets
    for R²). After it: ``stopped`` (the stopping rule ended training).
    """

    def __init__(self, est, penalties: Penalties | None, params: dict, loss_scale: float,
                 gradient_scale: float):
        self.est, self.penalties, self.p = est, penalties, params
        self.loss_scale, self.gradient_scale = loss_scale, gradient_scale
        self.lr = params["learning_rate_init"]  # scikit-learn's current learning rate (sgd)
        self.moves_lr = params["solver"] == "sgd" and params["schedule"] is None
        self.prepare(False, 0, None)

    def prepare(self, incremental: bool, n_train: int, validation) -> None:
        self.incremental, self.n_train, self.validation = incremental, n_train, validation
        self.stopped = False
        self.best_state = None

    def on_train_begin(self, logs: dict) -> None:
        if self.validation is not None:  # scikit-learn starts from the weights it has
            self.best_state = self.trainer.model.state_dict()

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        trainer, est, p = self.trainer, self.est, self.p
        if trainer.stop_training:  # the loss diverged: this epoch did not complete
            return
        est.n_iter_ += 1
        est.t_ += self.n_train
        penalty = self.penalties.total / self.penalties.seen if self.penalties and self.penalties.seen else 0.0
        est.loss_ = self.loss_scale * float(logs["loss"]) + penalty
        est.loss_curve_.append(est.loss_)
        if p["verbose"]:
            print("Iteration %d, loss = %.8f" % (est.n_iter_, est.loss_))
        if self.validation is not None:
            self._validation_step(logs)
        else:
            if est.loss_curve_[-1] > est.best_loss_ - p["tol"]:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if est.loss_curve_[-1] < est.best_loss_:
                est.best_loss_ = est.loss_curve_[-1]
        if self.moves_lr and p["learning_rate"] == "invscaling":
            self._set_lr(p["learning_rate_init"] / (est.t_ + 1) ** p["power_t"])
        if est._no_improvement_count > p["n_iter_no_change"]:
            what = "Validation score" if self.validation is not None else "Training loss"
            msg = (f"{what} did not improve more than tol={p['tol']:f} for "
                   f"{p['n_iter_no_change']} consecutive epochs.")
            if self.moves_lr and p["learning_rate"] == "adaptive" and self.lr > 1e-6:
                self._set_lr(self.lr / 5.0)
                est._no_improvement_count = 0
                if p["verbose"]:
                    print(msg + " Setting learning rate to %f" % self.lr)
            else:
                if p["verbose"]:
                    print(msg + (" Learning rate too small." if self.moves_lr and
                                 p["learning_rate"] == "adaptive" else "") + " Stopping.")
                self.stopped = True
                trainer.stop_training = True
                trainer.stop_reason = msg

    def _validation_step(self, logs: dict) -> None:
        est, p = self.est, self.p
        X_val, y_val = self.validation
        if "val_error" in logs:
            score = 1.0 - float(logs["val_error"])
        else:
            pred = self.trainer.predict_output(X_val)
            score = float(r2_score(y_val, pred)) if np.isfinite(pred).all() else math.nan
        est.validation_scores_.append(score)
        est.validation_loss_curve_.append(self.loss_scale * float(logs["val_loss"]))
        if p["verbose"]:
            print("Validation score: %f" % score)
        if score < est.best_validation_score_ + p["tol"]:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            self.best_state = self.trainer.model.state_dict()

    def _set_lr(self, lr: float) -> None:
        """scikit-learn's SGD keeps a velocity v ← μv − lr·g, ravine's (torch's) a buffer b ← μb + g
        stepping by lr·b: the same steps while lr is constant (v = −lr·b). So that they stay the same
        when lr changes, the buffer is rescaled to b·lr_old/lr_new, which keeps v."""
        optimizer, old = self.trainer.optimizer, self.lr
        self.lr = lr
        if lr > 0 and old != lr and self.p["momentum"] > 0:
            state = optimizer.state_dict()
            for buffers in state["state"].values():
                if "momentum_buffer" in buffers:
                    buffers["momentum_buffer"] *= old / lr
            optimizer.load_state_dict(state)
        for group in optimizer.param_groups:
            group["lr"] = lr / self.gradient_scale
