"""Optimization: update rules for the parameters (issue 3 grows this into composable transforms)."""

from .sgd import SGD

__all__ = ["SGD"]
