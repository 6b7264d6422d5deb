"""Diagnostics: gradient checking, curvature along training, per-layer gradients, the landscape."""

from ..autodiff.second_order import hessian, hvp
from .critical_point import PointReport, diagnose_point
from .curvature_monitor import CurvatureMonitor, curvature_along_gradient
from .gradcheck import GradcheckError, GradcheckReport, GradcheckRow, gradcheck
from .directions import normalize_filters, random_directions
from .landscape import LineResult, SurfaceResult, loss_along_line, loss_surface_2d
from .layer_monitor import LayerMonitor, saturation
from .plots import plot_line, plot_surface
from .spectrum import TraceEstimate, hessian_eigs, hutchinson_trace
from .symmetry import SymmetryReport, average_over_permutations, permute_hidden_units, symmetry_report

__all__ = ["diagnose_point", "PointReport", "hessian_eigs", "hutchinson_trace", "TraceEstimate", "gradcheck", "GradcheckError", "GradcheckReport", "GradcheckRow", "hvp", "hessian",
           "CurvatureMonitor", "curvature_along_gradient", "LayerMonitor", "saturation",
           "permute_hidden_units", "average_over_permutations", "symmetry_report", "SymmetryReport",
           "loss_along_line", "loss_surface_2d", "random_directions", "normalize_filters", "LineResult",
           "SurfaceResult", "plot_line", "plot_surface"]
