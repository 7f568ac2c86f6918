"""The book's machinery: the command line (``python -m lib``), profiles, chapter set-up, device choice, the results
store and resumable sweeps, report tables and the figure style. Imports only :mod:`lib.data` below it."""
