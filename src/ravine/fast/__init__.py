"""Compiled training steps: the flow graph's own boxes, called in a fixed order, for known shapes."""

from .compiled_gradient import CompiledGradient, why_not_compiled

__all__ = ["CompiledGradient", "why_not_compiled"]
