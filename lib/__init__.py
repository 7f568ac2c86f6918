"""Shared library of *Geometry and Generalization*.

Modules: ``data`` (dataset registry), ``models`` (architectures), ``train`` (training loop), ``results`` (results
store and sweeps), ``plots`` (figure style), ``report`` (tables), ``config`` (profiles), ``book`` (command line).
"""

__version__ = "0.1.0"
