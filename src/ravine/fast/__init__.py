"""Compiled training steps: the flow graph's own boxes, called in a fixed order, for known shapes."""

from .compiled_step import CompiledStep, why_not_compiled

__all__ = ["CompiledStep", "why_not_compiled"]
