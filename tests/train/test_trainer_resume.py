"""A run stopped after any epoch and resumed from its saved state ends bit for bit as if never stopped."""

import json

import numpy as np
import pytest

import ravine as rv


def problem():
    X, y = rv.data.make_spirals(n_samples=240, n_classes=3, noise=0.1, seed=0)
    return X.astype(np.float32), y


def build(optimizer="adam"):
    model = rv.nn.MLP(2, [16, 16], 3, activation="tanh", seed=0, dropout=0.1, batchnorm=True)
    opt = (rv.optim.Adam(model, lr=0.01) if optimizer == "adam"
           else rv.optim.SGD(model, lr=0.05, momentum=0.9, nesterov=True))
    stop = rv.train.EarlyStopping(patience=50)
    schedule = rv.optim.schedules.reduce_on_plateau(0.01 if optimizer == "adam" else 0.05, patience=1,
                                                    factor=0.5)
    trainer = rv.train.Trainer(model, opt, batch_size=32, seed=7, callbacks=[stop], schedule=schedule,
                               progress=False)
    return trainer


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("stop_after", [1, 3])
def test_resumed_run_is_bit_identical(optimizer, stop_after):
    X, y = problem()
    valid = (X[:60], y[:60])
    straight = build(optimizer)
    straight.fit(X, y, epochs=6, validation_data=valid)

    first = build(optimizer)
    saved = {}
    first.fit(X, y, epochs=stop_after, validation_data=valid,
              checkpoint=lambda t: saved.update(state=t.state()))
    arrays, meta = saved["state"]
    meta = json.loads(json.dumps(meta))                   # it must survive a trip through JSON
    arrays = {k: np.array(v, copy=True) for k, v in arrays.items()}

    resumed = build(optimizer)
    resumed.load_state(arrays, meta)
    assert resumed.epoch == stop_after
    resumed.fit(X, y, epochs=6 - stop_after, validation_data=valid)

    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert straight.history["loss"] == resumed.history["loss"]
    assert straight.history["lr"] == resumed.history["lr"]


def test_a_state_from_another_configuration_is_refused():
    X, y = problem()
    trainer = build()
    saved = {}
    trainer.fit(X, y, epochs=1, validation_data=(X, y), checkpoint=lambda t: saved.update(state=t.state()))
    other_model = rv.nn.MLP(2, [16, 16], 3, seed=0)   # no dropout: no generators to restore
    other = rv.train.Trainer(other_model, rv.optim.Adam(other_model), progress=False)
    with pytest.raises(ValueError):
        other.load_state(*saved["state"])
