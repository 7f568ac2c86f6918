"""How networks learn: the supervised training loop, gradient flow with the alpha-trick, contrastive and triplet
objectives, and VAE training. Imports :mod:`lib.nets`, :mod:`lib.pipeline` and :mod:`lib.data`."""
