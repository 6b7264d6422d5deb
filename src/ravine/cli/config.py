"""``TrainConfig``: every choice of a training run, with its default, checked in one place.

A run folder's ``config.toml`` holds the whole config, so ``ravine train --config FOLDER/config.toml``
repeats the run bit for bit. Values come from the defaults, then the config file, then the
command-line flags (flags win). Every error names the option (``--lr``) or the config key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from .._checks import check_choice, check_int, check_number
from ..autodiff.activations import ACTIVATIONS as _REGISTRY
from ..data import DATASETS
from ..nn.init import INITIALIZERS

ACTIVATIONS = tuple(_REGISTRY)  # --activation: every activation of the registry
OPTIMIZERS = ("sgd", "adam", "adamw", "adagrad", "rmsprop", "newton")
DTYPES = ("float32", "float64")
TASKS = ("classification", "regression")


@dataclass
class TrainConfig:
    """Every option of ``ravine train`` (see ``ravine train --help`` for what each one does)."""

    data: str = "digits"
    label_column: str | None = None
    task: str = "classification"
    valid: float = 0.2
    test: float = 0.2
    standardize: bool = True
    hidden: list = field(default_factory=lambda: [100])
    activation: str = "tanh"
    init: str = "glorot_uniform"
    batchnorm: bool = False
    dropout: float = 0.0
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float | None = None
    alpha: float = 0.99
    centered: bool = False
    amsgrad: bool = False
    lr_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    damping: float = 1e-3
    saddle_free: bool = False
    schedule: str | None = None
    batch_size: int = 32
    epochs: int = 30
    patience: int | None = None
    min_delta: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    clip_norm: float | None = None
    clip_value: float | None = None
    monitor_curvature: int | None = None
    monitor_layers: int | None = None
    seed: int = 0
    dtype: str = "float32"

    # --- building one ------------------------------------------------------------------------
    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, values: dict, source: str) -> "TrainConfig":
        """Defaults updated with ``values``; an unknown key is an error naming ``source``."""
        unknown = sorted(set(values) - set(cls.keys()))
        if unknown:
            raise ValueError(f"{source}: unknown option{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(unknown)} (known: {', '.join(cls.keys())})")
        config = cls()
        for key, value in values.items():
            setattr(config, key, value)
        return config

    def updated(self, values: dict) -> "TrainConfig":
        """A copy with the given (non-None) values set."""
        return dataclasses.replace(self, **{k: v for k, v in values.items() if v is not None})

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # --- checking ------------------------------------------------------------------------------
    def validate(self, source: str = "") -> "TrainConfig":
        """Check every value; raise ValueError (TypeError for a value of the wrong kind) naming
        the option, as ``"<source>: --lr must be > 0; got -1"``. Returns self."""
        where = f"{source}: " if source else ""
        owner = source or None

        def option(key: str) -> str:
            return f"--{key.replace('_', '-')}"

        def bad(key: str, expected: str, value, error=ValueError) -> Exception:
            """The family's wording, for the checks it has no words for."""
            return error(f"{where}{option(key)} must be {expected}; got {value!r}")

        def number(key, low=None, high=None, low_open=False, high_open=False, optional=False):
            value = getattr(self, key)
            if value is None and optional:  # off: a config file leaves the key out
                return
            setattr(self, key, check_number(option(key), value, low=low, high=high, low_open=low_open,
                                            high_open=high_open, owner=owner))

        def integer(key, low, optional=False):
            value = getattr(self, key)
            if value is None and optional:
                return
            setattr(self, key, check_int(option(key), value, minimum=low, owner=owner))

        def flag(key):
            # TOML's spelling, not Python's: a config file says true or false
            if not isinstance(getattr(self, key), bool):
                raise bad(key, "true or false", getattr(self, key), TypeError)

        def choice(key, options):
            check_choice(option(key), getattr(self, key), options, owner=owner)

        if not isinstance(self.data, str) or not self.data:
            raise bad("data", f"a data set ({', '.join(DATASETS)}) or a file path", self.data)
        if self.label_column is not None and (isinstance(self.label_column, bool)
                                              or not isinstance(self.label_column, (str, int))):
            raise bad("label_column", "a column name or index", self.label_column, TypeError)
        choice("task", TASKS)
        number("valid", 0.0, 1.0, high_open=True)
        number("test", 0.0, 1.0, high_open=True)
        if self.valid + self.test >= 1:
            raise ValueError(f"{where}--valid + --test must be < 1 (something must be left to train "
                             f"on); got {self.valid:g} + {self.test:g}")
        flag("standardize")
        if not isinstance(self.hidden, list):
            raise bad("hidden", "a list of positive integers such as 100,100", self.hidden, TypeError)
        for i, size in enumerate(self.hidden):
            check_int(f"{option('hidden')}[{i}]", size, minimum=1, owner=owner)
        choice("activation", ACTIVATIONS)
        if not isinstance(self.init, str) or not (self.init in INITIALIZERS or self.init.startswith("constant:")):
            raise bad("init", "one of " + ", ".join([*INITIALIZERS, "constant:<value>"]), self.init)
        flag("batchnorm")
        number("dropout", 0.0, 1.0, high_open=True)
        choice("optimizer", OPTIMIZERS)
        number("lr", 0.0, low_open=True)
        number("momentum", 0.0, 1.0, high_open=True)
        number("dampening", 0.0, 1.0)
        flag("nesterov")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0 or self.dampening != 0):
            raise ValueError(f"{where}--nesterov needs --optimizer sgd, --momentum > 0 and --dampening 0")
        number("weight_decay", 0.0)
        number("beta1", 0.0, 1.0, high_open=True)
        number("beta2", 0.0, 1.0, high_open=True)
        number("eps", 0.0, optional=True)
        number("alpha", 0.0, 1.0, high_open=True)
        flag("centered")
        flag("amsgrad")
        number("lr_decay", 0.0)
        number("initial_accumulator_value", 0.0)
        number("damping", 0.0, low_open=True)
        flag("saddle_free")
        if self.schedule is not None:
            self.schedule_object()  # parses, or raises naming the bad part
        integer("batch_size", 1)
        integer("epochs", 1)
        integer("patience", 0, optional=True)
        number("min_delta", 0.0)
        number("l1", 0.0)
        number("l2", 0.0)
        number("clip_norm", 0.0, low_open=True, optional=True)
        number("clip_value", 0.0, low_open=True, optional=True)
        integer("monitor_curvature", 1, optional=True)
        integer("monitor_layers", 1, optional=True)
        integer("seed", 0)
        choice("dtype", DTYPES)
        return self

    def schedule_object(self):
        """The learning-rate schedule (``--schedule``), with ``--lr`` wherever the spec gives none."""
        from ..optim import schedules

        try:
            return schedules.get(self.schedule, lr=self.lr)
        except (ValueError, TypeError) as error:
            raise ValueError(f"--schedule: {error}") from None

