"""The playground's message validators: types, ranges and the field path of every error."""

from __future__ import annotations

import json

import pytest

from ravine.playground.protocol import (DEFAULT_CONFIG, MESSAGE_BYTES, ProtocolError, parse_message,
                                        validate_config, validate_message)


def error_of(message) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        validate_message(message)
    return info.value


def test_defaults_fill_a_partial_config():
    config = validate_config({"data": {"dataset": "moons"}})
    assert config["data"]["dataset"] == "moons" and config["data"]["classes"] == 2  # moons have two
    assert config["network"] == DEFAULT_CONFIG["network"]
    assert config["training"]["optimizer"] == "adam"
    assert validate_config({"features": ["x2", "x1"]})["features"] == ["x1", "x2"]


@pytest.mark.parametrize("config, field", [
    ({"data": {"dataset": "mnist"}}, "config.data.dataset"),
    ({"data": {"classes": 6}}, "config.data.classes"),
    ({"data": {"train_share": 0.95}}, "config.data.train_share"),
    ({"data": {"points": 5000}}, "config.data.points"),
    ({"data": {"noise": "lots"}}, "config.data.noise"),
    ({"data": {"colour": 1}}, "config.data.colour"),
    ({"features": []}, "config.features"),
    ({"features": ["x3"]}, "config.features[0]"),
    ({"network": {"hidden": [8] * 7}}, "config.network.hidden"),
    ({"network": {"hidden": [8, 0]}}, "config.network.hidden[1]"),
    ({"network": {"hidden": [8, 17]}}, "config.network.hidden[1]"),
    ({"network": {"hidden": [True]}}, "config.network.hidden[0]"),
    ({"network": {"activation": "swish"}}, "config.network.activation"),
    ({"network": {"init": "constant:abc"}}, "config.network.init"),
    ({"network": {"batchnorm": 1}}, "config.network.batchnorm"),
    ({"network": {"dropout": 0.95}}, "config.network.dropout"),
    ({"training": {"optimizer": "lbfgs"}}, "config.training.optimizer"),
    ({"training": {"lr": 0}}, "config.training.lr"),
    ({"training": {"lr": float("inf")}}, "config.training.lr"),
    ({"training": {"momentum": 1.0}}, "config.training.momentum"),
    ({"training": {"batch_size": 0}}, "config.training.batch_size"),
    ({"training": {"batch_size": 2.5}}, "config.training.batch_size"),
    ({"training": {"schedule": "cosine:stps=10"}}, "config.training.schedule"),
    ({"training": {"clip_norm": -1}}, "config.training.clip_norm"),
    ({"training": {"seed": -1}}, "config.training.seed"),
])
def test_config_errors_name_the_field(config, field):
    error = error_of({"type": "configure", "config": config})
    assert error.field == field
    assert field.split(".")[-1].split("[")[0] in str(error)


def test_config_accepts_the_documented_options():
    config = validate_config({"data": {"dataset": "blobs", "classes": 5}, "features": ["x1", "sin(x2)", "x1*x2"],
                              "network": {"hidden": [], "init": "constant:0.5", "batchnorm": True},
                              "training": {"optimizer": "newton", "schedule": "cosine:steps=2000",
                                           "clip_norm": None}})
    assert config["data"]["classes"] == 5 and config["network"]["hidden"] == []


@pytest.mark.parametrize("message, field", [
    ({"type": "fly"}, "type"),
    ({"values": {}}, "type"),
    ({"type": "set"}, "values"),
    ({"type": "set", "values": {}}, "values"),
    ({"type": "set", "values": {"lr": -1}}, "values.lr"),
    ({"type": "set", "values": {"hidden": [3]}}, "values.hidden"),
    ({"type": "start", "now": True}, "now"),
    ({"type": "reset", "new_seed": "yes"}, "new_seed"),
    ({"type": "add_point", "x": [0, 6.5], "label": 0}, "x[1]"),
    ({"type": "add_point", "x": [0], "label": 0}, "x"),
    ({"type": "add_point", "x": [0, 0]}, "label"),
    ({"type": "add_point", "x": [0, 0], "label": 0, "split": "test"}, "split"),
    ({"type": "remove_point"}, "x"),
    ({"type": "regenerate", "seed": 1.5}, "seed"),
    ({"type": "load_csv", "text": 3}, "text"),
    ({"type": "landscape", "steps": 99}, "steps"),
    ({"type": "landscape", "kind": "random"}, "kind"),
    ({"type": "landscape", "span": 0}, "span"),
    ({"type": "race", "optimizers": [{"optimizer": "sgd"}]}, "optimizers"),
    ({"type": "race", "optimizers": [{"optimizer": "sgd"}] * 5}, "optimizers"),
    ({"type": "race", "optimizers": [{"optimizer": "sgd"}, {"lr": 0.1}]}, "optimizers[1].optimizer"),
    ({"type": "race", "optimizers": [{"optimizer": "sgd"}, {"optimizer": "adam", "lr": 99}]}, "optimizers[1].lr"),
    ({"type": "warp", "units": [0]}, "units"),
    ({"type": "warp", "layer": -1}, "layer"),
    ({"type": "save_run", "name": "../etc"}, "name"),
])
def test_message_errors_name_the_field(message, field):
    assert error_of(message).field == field


def test_messages_come_back_clean():
    assert validate_message({"type": "set", "values": {"lr": 1, "clip_norm": None}}) == \
        ("set", {"values": {"lr": 1.0, "clip_norm": None}})
    assert validate_message({"type": "reset"}) == ("reset", {"new_seed": False})
    kind, v = validate_message({"type": "landscape"})
    assert (kind, v) == ("landscape", {"kind": "filter", "steps": 21, "span": 1.0})
    kind, v = validate_message({"type": "race", "optimizers": [{"optimizer": "sgd", "lr": 0.1},
                                                               {"optimizer": "adam"}]})
    assert [lane["optimizer"] for lane in v["optimizers"]] == ["sgd", "adam"]
    assert validate_message({"type": "race", "optimizers": []})[1] == {"optimizers": []}


def test_parse_message_refuses_bad_frames():
    for text in ("{nope", "[1, 2]", "3", b"{}"):
        with pytest.raises(ProtocolError):
            parse_message(text)
    with pytest.raises(ProtocolError, match="too large"):
        parse_message(json.dumps({"type": "load_csv", "text": "x" * MESSAGE_BYTES}))
    assert parse_message('{"type": "start"}') == {"type": "start"}
