"""``TrainConfig.validate``: every bad value is one error naming the option (and the config file it
came from), in the words of the argument-check family (``ravine._checks``)."""

from __future__ import annotations

import math

import pytest

from ravine.cli.config import TrainConfig


@pytest.mark.parametrize("values, error, message", [
    (dict(lr=-1), ValueError, "--lr must be > 0; got -1"),
    (dict(lr="fast"), TypeError, "--lr must be a number > 0; got 'fast'"),
    (dict(lr=math.nan), ValueError, "--lr must be a finite number > 0; got nan"),
    (dict(lr=True), TypeError, "--lr must be a number > 0; got True"),
    (dict(dropout=1.0), ValueError, "--dropout must be in [0, 1); got 1.0"),
    (dict(eps=-1e-8), ValueError, "--eps must be ≥ 0; got -1e-08"),
    (dict(clip_norm=0), ValueError, "--clip-norm must be > 0; got 0"),
    (dict(epochs=0), ValueError, "--epochs must be an integer ≥ 1; got 0"),
    (dict(epochs=True), TypeError, "--epochs must be an integer ≥ 1; got True"),
    (dict(batch_size=2.0), TypeError, "--batch-size must be an integer ≥ 1; got 2.0"),
    (dict(patience=-1), ValueError, "--patience must be an integer ≥ 0; got -1"),
    (dict(seed=-1), ValueError, "--seed must be an integer ≥ 0; got -1"),
    (dict(hidden=[100, 0]), ValueError, "--hidden[1] must be an integer ≥ 1; got 0"),
    (dict(hidden=[True]), TypeError, "--hidden[0] must be an integer ≥ 1; got True"),
    (dict(hidden="100"), TypeError, "--hidden must be a list of positive integers such as 100,100; got '100'"),
    (dict(task="cls"), ValueError, "--task must be one of 'classification', 'regression'; got 'cls'"),
    (dict(dtype="float16"), ValueError, "--dtype must be one of 'float32', 'float64'; got 'float16'"),
    (dict(optimizer=3), ValueError,
     "--optimizer must be one of 'sgd', 'adam', 'adamw', 'adagrad', 'rmsprop', 'newton'; got 3"),
    (dict(standardize="yes"), TypeError, "--standardize must be true or false; got 'yes'"),
    (dict(label_column=True), TypeError, "--label-column must be a column name or index; got True"),
])
@pytest.mark.parametrize("source", ["", "run/config.toml"])
def test_a_bad_value_names_the_option_and_its_source(values, error, message, source):
    with pytest.raises(error) as info:
        TrainConfig(**values).validate(source)
    assert type(info.value) is error
    assert str(info.value) == (f"{source}: {message}" if source else message)


def test_good_values_are_normalized():
    config = TrainConfig(lr=1, hidden=[3, 4], seed=2).validate()
    assert config.lr == 1.0 and type(config.lr) is float
    assert config.hidden == [3, 4] and config.seed == 2
    assert TrainConfig().validate().to_dict() == TrainConfig().to_dict()
