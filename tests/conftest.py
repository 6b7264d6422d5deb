"""Shared test set-up: a deterministic Hypothesis profile, PyTorch on one thread, and ``helpers``.

CI must be deterministic: the same examples on every run, no example database, no deadline (a 2-core
CI box is slow and noisy). ``HYPOTHESIS_PROFILE=explore pytest ...`` draws fresh random examples.

Test files import shared checking code as ``from helpers.<module> import ...``: with
``--import-mode=importlib`` pytest puts no test folder on ``sys.path``, so this file puts ``tests/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

settings.register_profile(
    "ravine",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ravine"))


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """PyTorch (the oracle) on one thread: on tiny tensors its thread pool only costs time, up to
    20 ms a step on a busy 2-core machine."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a test dependency
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
