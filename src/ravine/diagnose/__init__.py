"""Diagnostics: gradient checking, curvature along training, per-layer gradients, the landscape."""

from ..autodiff.second_order import hessian, hvp
from .curvature_monitor import CurvatureMonitor, curvature_along_gradient
from .gradcheck import GradcheckError, GradcheckReport, GradcheckRow, gradcheck
from .layer_monitor import LayerMonitor, saturation

__all__ = ["gradcheck", "GradcheckError", "GradcheckReport", "GradcheckRow", "hvp", "hessian",
           "CurvatureMonitor", "curvature_along_gradient", "LayerMonitor", "saturation"]
