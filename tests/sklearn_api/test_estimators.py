"""ravine.sklearn's estimators: scikit-learn's stopping rules, its machinery (Pipeline,
GridSearchCV, clone, pickle), dtypes, labels and shapes, partial_fit and warm_start, ravine's own
parameters, and errors that name the parameter. (test_estimator_checks.py holds scikit-learn's
checks and the comparisons with scikit-learn's own MLPs.)
"""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

import ravine as rv
from ravine.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


# --- stopping, as scikit-learn ----------------------------------------------------------------------

def test_training_loss_rule_stops_and_max_iter_warns(small_digits):
    X, y = small_digits
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, random_state=0).fit(X, y)
    # a huge tol: no epoch after the first improves enough; stop after n_iter_no_change + 1 more
    params = dict(hidden_layer_sizes=(10,), tol=1e6, n_iter_no_change=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPClassifier(**params).fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == SkClassifier(**params).fit(X, y).n_iter_ == 6
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_early_stopping_keeps_the_best_epochs_weights(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(10,), early_stopping=True, n_iter_no_change=3,
                        validation_fraction=0.2, learning_rate_init=0.05, max_iter=100, random_state=3)
    clf.fit(X, y)
    assert clf.n_iter_ < 100 and clf.best_loss_ is None
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the held-out part: random_state gives three seeds (weights, shuffling, split), in that order
    split_seed = int(check_random_state(3).randint(np.iinfo(np.int32).max, size=3)[2])
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.2, random_state=split_seed,
                                          stratify=np.searchsorted(clf.classes_, y))
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)
    assert np.bincount(y_val, minlength=10).min() >= 9  # stratified: every digit held out


def test_early_stopping_regressor_scores_r2(regression):
    X, y = regression
    reg = MLPRegressor(hidden_layer_sizes=(10,), early_stopping=True, learning_rate_init=0.01,
                       max_iter=300, random_state=0).fit(X, y)
    assert 0.5 < reg.best_validation_score_ <= 1.0
    assert reg.validation_loss_curve_[-1] < reg.validation_loss_curve_[0]


def test_validation_set_too_small():
    X, y = make_classification(n_samples=12, random_state=0)
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPClassifier(early_stopping=True, validation_fraction=0.05).fit(X, y)


# --- inside scikit-learn's machinery ----------------------------------------------------------------

def test_pipeline_and_grid_search(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=40, learning_rate_init=0.01, random_state=0))
    grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1],
                               "mlpclassifier__hidden_layer_sizes": [(16,), (32, 16)]}, cv=3)
    grid.fit(X_train[:600], y_train[:600])
    assert set(grid.best_params_) == {"mlpclassifier__alpha", "mlpclassifier__hidden_layer_sizes"}
    assert grid.score(X_test, y_test) > 0.9
    assert len(grid.cv_results_["mean_test_score"]) == 4


def test_regressor_in_pipeline(regression):
    X, y = regression
    pipe = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(20,), learning_rate_init=0.01,
                                                        max_iter=200, random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.9


def test_clone_and_params_round_trip():
    clf = MLPClassifier(hidden_layer_sizes=(7, 3), solver="rmsprop", alpha=0.5, schedule="cosine:steps=10",
                        l1=1e-3, dropout=0.1, dtype="float32", monitor_curvature=5)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (7, 3) and params["schedule"] == "cosine:steps=10"
    again = MLPClassifier().set_params(**params)
    assert again.get_params() == params
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == params
    defaults = MLPRegressor().get_params()
    sk_defaults = SkRegressor().get_params()
    shared = set(defaults) & set(sk_defaults)
    assert len(shared) == 22 and {k: defaults[k] for k in shared} == {k: sk_defaults[k] for k in shared}


def test_pickle_round_trip_predicts_the_same_and_keeps_training(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    back.partial_fit(X, y)
    clf.partial_fit(X, y)  # the optimizer state and the shuffling stream travel too
    np.testing.assert_array_equal(back.coefs_[0], clf.coefs_[0])


# --- dtypes, labels, shapes -------------------------------------------------------------------------

def test_float32_input_stays_float32(small_digits):
    X, y = small_digits
    X32 = X.astype(np.float32)
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=0).fit(X32, y)
    assert clf.model_.dtype == np.float32 and clf.coefs_[0].dtype == np.float32
    assert clf.predict_proba(X32).dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32  # the model keeps its dtype
    assert clf.model_.parameters()[0].dtype == np.float32
    reg = MLPRegressor(hidden_layer_sizes=(10,), max_iter=5, random_state=0).fit(X32, y.astype(float))
    assert reg.predict(X32).dtype == np.float32
    assert MLPClassifier(max_iter=2).fit(X.astype(int), y).model_.dtype == np.float64  # as sklearn
    assert MLPClassifier(max_iter=2, dtype="float32").fit(X, y).predict_proba(X).dtype == np.float32


@pytest.mark.parametrize("labels", [["cat", "dog"], [-1, 1], ["a", "b", "c"], [3.0, 7.0, 1.0]])
def test_any_label_type(labels):
    X, y = make_classification(n_samples=120, n_classes=len(labels), n_informative=4, random_state=0)
    y_named = np.asarray(labels, dtype=object if isinstance(labels[0], str) else None)[y]
    clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, random_state=0)
    pred = clf.fit(X, y_named).predict(X)
    assert list(clf.classes_) == sorted(labels)
    assert pred.dtype == clf.classes_.dtype and set(pred) <= set(labels)
    assert clf.score(X, y_named) > 0.8
    proba = clf.predict_proba(X)
    assert proba.shape == (120, len(labels))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert clf.n_outputs_ == len(labels) and clf.out_activation_ == "softmax"


def test_multilabel_is_refused_clearly():
    X = np.random.default_rng(0).normal(size=(20, 3))
    Y = np.random.default_rng(1).integers(0, 2, size=(20, 3))
    with pytest.raises(ValueError, match="does not support multilabel-indicator targets"):
        MLPClassifier().fit(X, Y)


def test_regressor_keeps_the_dimensions_of_y(regression):
    X, y = regression
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    assert reg.fit(X, y[:, 0]).predict(X).shape == (300,)
    assert reg.fit(X, y[:, :1]).predict(X).shape == (300, 1)
    assert reg.fit(X, y).predict(X).shape == (300, 2) and reg.n_outputs_ == 2


def test_learned_attributes_in_sklearns_layout(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(12, 7), max_iter=3, random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(64, 12), (12, 7), (7, 10)]
    assert [b.shape for b in clf.intercepts_] == [(12,), (7,), (10,)]
    assert clf.n_layers_ == 4 and clf.n_features_in_ == 64 and clf.n_iter_ == 3 and clf.t_ == 1500
    assert isinstance(clf.model_, rv.nn.MLP) and len(clf.history_) == 3
    assert clf.loss_ == clf.loss_curve_[-1]
    np.testing.assert_array_equal(clf.coefs_[0], clf.model_.linear_layers()[0].weight.data.T)
    with pytest.raises(AttributeError):
        MLPClassifier().coefs_


def test_feature_names_are_recorded():
    pd = pytest.importorskip("pandas")
    X, y = make_classification(n_samples=60, n_features=3, n_informative=2, n_redundant=0, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = MLPClassifier(max_iter=3).fit(frame, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c"]


# --- partial_fit and warm_start ---------------------------------------------------------------------

def test_partial_fit_needs_classes_first_then_continues(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(10,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:100], y[:100], classes=np.arange(10))
    for start in range(100, 500, 100):
        clf.partial_fit(X[start:start + 100], y[start:start + 100])
    assert clf.n_iter_ == 1 and clf.t_ == 500 and len(clf.loss_curve_) == 5
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 3, 11]))
    with pytest.raises(ValueError, match="early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X, y.astype(float))


def test_warm_start_continues_and_checks_classes(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=4, warm_start=True, random_state=0).fit(X, y)
    first = clf.coefs_[0].copy()
    clf.fit(X, y)
    assert len(clf.loss_curve_) == 8 and clf.n_iter_ == 4 and clf.t_ == 4000
    assert not np.array_equal(first, clf.coefs_[0])
    with pytest.raises(ValueError, match="warm_start can only be used"):
        clf.fit(X[y < 5], y[y < 5])
    cold = MLPClassifier(hidden_layer_sizes=(10,), max_iter=4, random_state=0)
    cold.fit(X, y)
    np.testing.assert_array_equal(cold.fit(X, y).coefs_[0], first)  # warm_start=False: afresh


def test_warm_start_refuses_a_changed_network_and_follows_early_stopping(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=2, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes \(fitted with \(10,\), now \(12,\)\)"):
        clf.set_params(hidden_layer_sizes=(12,)).fit(X, y)
    clf.set_params(hidden_layer_sizes=(10,), early_stopping=True).fit(X, y)
    assert len(clf.validation_scores_) == 2 and clf.best_loss_ is None and len(clf.loss_curve_) == 4


def test_no_hidden_layer_is_softmax_regression(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(), learning_rate_init=0.01, max_iter=50, random_state=0).fit(X, y)
    assert clf.n_layers_ == 2 and [c.shape for c in clf.coefs_] == [(64, 10)]
    assert clf.score(X, y) > 0.9


# --- reproducibility and shuffling ------------------------------------------------------------------

def test_random_state_reproducible_bit_for_bit(small_digits):
    X, y = small_digits
    a = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=4).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=4).fit(X, y)
    c = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=np.random.RandomState(4)).fit(X, y)
    d = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=5).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_ == c.loss_curve_ != d.loss_curve_


def test_shuffle_false_takes_the_batches_in_order(small_digits):
    X, y = small_digits
    a = MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, shuffle=False, random_state=0).fit(X, y)
    # the same weights (random_state) and no shuffling: the data's order is all that matters
    b = MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, shuffle=False, random_state=0).fit(X, y)
    order = np.random.default_rng(0).permutation(len(X))
    c = MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, shuffle=False, random_state=0).fit(X[order], y[order])
    assert a.loss_curve_ == b.loss_curve_ != c.loss_curve_
    again = pickle.loads(pickle.dumps(a))
    assert again._trainer.shuffle is False
    assert again.loss_curve_ == a.loss_curve_


# --- ravine's own parameters ------------------------------------------------------------------------

@pytest.mark.parametrize("solver", ["adamw", "rmsprop", "adagrad"])
def test_ravine_solvers(small_digits, solver):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(20,), solver=solver, learning_rate_init=0.01, max_iter=30,
                        random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_batchnorm_dropout_l1_clip(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(20,), batchnorm=True, dropout=0.1, l1=1e-4, clip_norm=1.0,
                        max_iter=30, learning_rate_init=0.01, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    assert not clf.intercepts_[0].any()  # batch norm's β is the hidden layer's shift
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_schedule_gives_the_learning_rate(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=4, batch_size=100, learning_rate_init=0.02,
                        schedule="step_decay:step_size=5,gamma=0.5", random_state=0).fit(X, y)
    # 5 updates per epoch; the lr logged after epoch k is the one of its last update, step 5k − 1
    assert clf.history_["lr"] == pytest.approx([0.02, 0.01, 0.005, 0.0025])


def test_monitor_curvature_records_rows(small_digits):
    X, y = small_digits
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=2, batch_size=50, monitor_curvature=5,
                        random_state=0).fit(X, y)
    assert [row["step"] for row in clf.curvature_] == [1, 6, 11, 16]
    assert {"gTg", "gTHg", "stable_lr"} <= set(clf.curvature_[0])
    assert MLPClassifier(max_iter=1).fit(X, y).curvature_ is None


def test_init_auto_uses_sklearns_glorot_bounds(small_digits):
    X, y = small_digits
    for activation, factor in (("relu", 6.0), ("logistic", 2.0)):
        clf = MLPClassifier(hidden_layer_sizes=(30,), activation=activation, max_iter=1,
                            learning_rate_init=1e-12, random_state=0).fit(X, y)
        bound = np.sqrt(factor / (64 + 30))
        assert bound * 0.9 < np.abs(clf.coefs_[0]).max() <= bound


def test_verbose_prints_sklearns_lines(small_digits, capsys):
    X, y = small_digits
    MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"Iteration 1, loss = \d+\.\d{8}", lines[0]) and lines[1].startswith("Iteration 2")


# --- errors -----------------------------------------------------------------------------------------

BAD_PARAMS = [
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes="10"), "hidden_layer_sizes"),
    (dict(activation="swish"), "activation"),
    (dict(solver="newton"), "solver"),
    (dict(solver="lbfgs"), "solver='lbfgs' is not available"),
    (dict(alpha=-1.0), "alpha"),
    (dict(batch_size=0), "batch_size"),
    (dict(learning_rate="cyclic"), "learning_rate"),
    (dict(learning_rate_init=0.0), "learning_rate_init"),
    (dict(max_iter=0), "max_iter"),
    (dict(momentum=1.5), "momentum"),
    (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(beta_2=1.0), "beta_2"),
    (dict(epsilon=0.0), "epsilon"),
    (dict(n_iter_no_change=0), "n_iter_no_change"),
    (dict(tol=-1e-3), "tol"),
    (dict(shuffle="yes"), "shuffle"),
    (dict(init="lecun"), "init"),
    (dict(dropout=1.0), "dropout"),
    (dict(clip_norm=0.0), "clip_norm"),
    (dict(schedule="cosine:stps=3"), "schedule"),
    (dict(monitor_curvature=0), "monitor_curvature"),
    (dict(dtype="float16"), "dtype"),
    (dict(random_state="seed"), "random_state"),
]


@pytest.mark.parametrize("params, name", BAD_PARAMS, ids=[name for _, name in BAD_PARAMS])
def test_bad_parameters_are_named_at_fit(params, name):
    X, y = make_classification(n_samples=20, random_state=0)
    clf = MLPClassifier(**params)  # __init__ stores, never checks
    with pytest.raises((ValueError, TypeError), match=re.escape(name)):
        clf.fit(X, y)


def test_not_fitted_and_wrong_width(small_digits):
    X, y = small_digits
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(X)
    clf = MLPClassifier(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 64"):
        clf.predict(X[:, :3])


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_divergence_warns_and_keeps_finite_weights():
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    with pytest.warns(ConvergenceWarning, match="training diverged"):
        reg = MLPRegressor(solver="sgd", learning_rate_init=10.0, max_iter=50, random_state=0).fit(X * 1e3, y)
    assert all(np.isfinite(c).all() for c in reg.coefs_) and reg.n_iter_ < 50


def test_ravine_sklearn_does_not_shadow_sklearn():
    import sklearn

    import ravine.sklearn._base as base

    assert sklearn.__name__ == "sklearn" and hasattr(sklearn, "__version__")
    assert base.BaseEstimator.__module__ == "sklearn.base"
