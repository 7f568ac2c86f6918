"""One module per chapter, named as its notebook (``notebooks/02_relative_stability.py`` <->
:mod:`lib.experiments.relative_stability`): the protocol of that chapter's paper as sweepable functions of a
configuration dict. May import every other wing, never another chapter's experiment."""
