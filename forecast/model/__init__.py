"""The dynamic alignment model: spec, design matrices, PyMC graph, fit, diagnostics, projection."""
