"""Shared test set-up: a deterministic Hypothesis profile for the whole suite.

CI must be deterministic: the same examples on every run, no example database, no deadline (a 2-core
CI box is slow and noisy). ``HYPOTHESIS_PROFILE=explore pytest ...`` draws fresh random examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
