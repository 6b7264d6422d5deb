"""Whether operations are recorded on the flow graph.

Recording is on by default. ``no_grad()`` turns it off for a block (evaluation, parameter updates);
``enable_grad()`` turns it back on inside such a block. The switch is per thread, as in PyTorch, so
trials run in threads of one process never see each other's setting.

Example::

    with rv.no_grad():
        logits = model(x_valid)      # nothing recorded, nothing kept alive for backprop
"""

from __future__ import annotations

import functools
import threading


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backprop."""
    return _mode.enabled


class _SetGradEnabled:
    """Context manager (and decorator) that sets recording on or off and restores it afterwards."""

    def __init__(self, enabled: bool):
        self._enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self):
        self._previous.append(_mode.enabled)
        _mode.enabled = self._enabled
        return self

    def __exit__(self, *exc):
        _mode.enabled = self._previous.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _SetGradEnabled(self._enabled):
                return fn(*args, **kwargs)

        return wrapper


def no_grad() -> _SetGradEnabled:
    """Stop recording operations inside a ``with`` block or a decorated function."""
    return _SetGradEnabled(False)


def enable_grad() -> _SetGradEnabled:
    """Record operations again, even inside ``no_grad()``."""
    return _SetGradEnabled(True)


def set_grad_enabled(enabled: bool) -> _SetGradEnabled:
    """Record operations or not, by a flag: ``with set_grad_enabled(training): ...``."""
    return _SetGradEnabled(bool(enabled))
