"""Diagnostics: gradient checking, curvature, the landscape."""
