"""Diagnostics: gradient checking, curvature, the landscape."""

from .gradcheck import GradcheckError, GradcheckReport, GradcheckRow, gradcheck

__all__ = ["gradcheck", "GradcheckError", "GradcheckReport", "GradcheckRow"]
