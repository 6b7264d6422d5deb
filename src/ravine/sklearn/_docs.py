"""The parameters and attributes both estimators share, documented once."""

from ._params import ACTIVATIONS, SKLEARN_ACTIVATIONS

COMMON_DOC = """
    Parameters (scikit-learn's, same meaning and defaults)
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units of each hidden layer; () gives a linear model.
    activation : {"identity", "logistic", "tanh", "relu"} or a ravine activation, default="relu"
        Hidden-layer activation ("logistic" is ravine's sigmoid). ravine also takes the other
        names of its activation registry (``ravine.autodiff.activations``): @ACTIVATIONS@.
    solver : {"adam", "sgd", "adamw", "rmsprop", "adagrad"}, default="adam"
        "sgd" (momentum, Nesterov) and "adam" as scikit-learn's; ravine adds "adamw" (``alpha`` is
        then AdamW's decoupled weight decay on the weights, θ ← θ(1 − lr·alpha), instead of an L2
        term), "rmsprop" (ρ = 0.99) and "adagrad". "lbfgs" is not available (a ValueError says so).
    alpha : float >= 0, default=1e-4
        L2 penalty, as scikit-learn's: (alpha/(2m)) Σ‖W‖² added to the mean loss of each mini-batch
        of m examples; weights only, never biases.
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is min(200, n_samples).
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        For solver="sgd" only, as scikit-learn's: "invscaling" sets, after each epoch,
        lr = learning_rate_init / (t_ + 1)^power_t (t_: samples seen); "adaptive" divides lr by 5
        each time ``n_iter_no_change`` + 1 epochs in a row fail to improve by ``tol``, and stops once
        lr <= 1e-6.
    learning_rate_init : float > 0, default=1e-3
    power_t : float >= 0, default=0.5
    max_iter : int >= 1, default=200
        Epochs at most.
    shuffle : bool, default=True
        Reshuffle the examples each epoch (False: consecutive batches in the data's order).
    random_state : int, RandomState or None, default=None
        Seeds the weights, the shuffling and the validation split: an int gives the same fit, bit
        for bit, every time. (Same distributions as scikit-learn's, not the same numbers.)
    tol : float >= 0, default=1e-4
        Training stops when the training loss (or, with ``early_stopping``, the validation score)
        has not improved by at least tol for more than ``n_iter_no_change`` epochs in a row.
    verbose : bool or int, default=False
        Print scikit-learn's lines ("Iteration 3, loss = ...") as training goes.
    warm_start : bool, default=False
        ``fit`` continues from the current weights (with a new optimizer, as scikit-learn).
    momentum : float in [0, 1], default=0.9
        For solver="sgd".
    nesterovs_momentum : bool, default=True
        For solver="sgd" with momentum > 0.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified by class for the
        classifier when every class can be in both parts), stop when its score (accuracy, or R²)
        stops improving, and end with the weights of the best epoch.
    validation_fraction : float in [0, 1), default=0.1
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
        Adam's (and AdamW's) moment decays.
    epsilon : float > 0, default=1e-8
        The adaptive solvers' ε. (ravine's Adam is torch's: ε is added to √v̂ rather than to √v,
        which differs from scikit-learn's only by ε's scale.)
    n_iter_no_change : int >= 1 or numpy.inf, default=10

    Parameters (ravine's)
    ----------
    init : "auto", an ``rv.nn.init`` name or a callable, default="auto"
        "auto": scikit-learn's Glorot bounds, W ~ U[−b, b] with b = √6/√(fan_in + fan_out)
        (√2/… for "logistic"). Biases start at 0 (scikit-learn draws them from the same range).
    l1 : float >= 0, default=0.0
        Adds l1·Σ|W| (weights only) to each mini-batch's objective.
    batchnorm : bool, default=False
        Batch normalization before each hidden activation (the hidden ``Linear`` then has no bias).
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden activation, in training only.
    clip_norm : float > 0 or None, default=None
        Clip the gradient's global norm before each update.
    schedule : str, dict, ``rv.optim.schedules`` schedule or None, default=None
        A learning-rate schedule over updates (e.g. "cosine:steps=2000",
        "inverse_time:decay=1e-3"); overrides ``learning_rate``. In a spec string, a schedule that
        gives no ``lr=`` starts from ``learning_rate_init``. reduce_on_plateau watches the training
        loss (the validation loss with ``early_stopping``).
    monitor_curvature : int >= 1 or None, default=None
        Every N updates, record gᵀg, gᵀHg and the stable learning rate 2gᵀg/gᵀHg along the
        gradient (``rv.diagnose.CurvatureMonitor``) into ``curvature_``.
    dtype : "auto", "float32" or "float64", default="auto"
        "auto": float32 input trains and predicts in float32, anything else in float64 (as
        scikit-learn converts it). A model keeps its dtype: later input is converted to it.

    Attributes
    ----------
    coefs_ : list of ndarray, each (n_in, n_out)
        Weight matrices in scikit-learn's layout: views of ``model_``'s (n_out, n_in) weights.
    intercepts_ : list of ndarray
    loss_ : float
        scikit-learn's objective (mean loss plus penalty) over the last epoch's mini-batches.
    best_loss_ : float or None
        Lowest ``loss_`` (None with ``early_stopping``).
    loss_curve_ : list of float
        ``loss_`` after each epoch.
    validation_scores_, validation_loss_curve_ : list of float or None
        With ``early_stopping``: the score and the mean loss (without penalty) on the validation
        set after each epoch.
    best_validation_score_ : float or None
    n_iter_ : int
        Epochs run by the last call to fit (1 after partial_fit).
    t_ : int
        Training samples seen, over all calls.
    n_features_in_, feature_names_in_ : as scikit-learn's.
    n_layers_, n_outputs_, out_activation_ : the number of layers (input and output included),
        output units, and the output's activation ("softmax" or "identity").
    model_ : rv.nn.MLP
        The trained network.
    history_ : rv.train.History
        The Trainer's per-epoch rows (and per-step monitor rows) since the last ``fit`` (each
        ``fit`` starts a new Trainer; ``partial_fit`` continues it). ``loss`` there is ravine's
        mean data loss (for regression, twice scikit-learn's half squared error).
    curvature_ : list of dict or None
        The curvature rows when ``monitor_curvature`` is set: gᵀg, gᵀHg, ... of ravine's objective
        (the regressor's is 2/n_outputs times scikit-learn's, see ``ravine.sklearn._params``).
"""

COMMON_DOC = COMMON_DOC.replace(
    "@ACTIVATIONS@", ", ".join(f'"{name}"' for name in ACTIVATIONS if name not in SKLEARN_ACTIVATIONS))
