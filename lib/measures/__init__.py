"""One module per measured quantity, each citing the equations it implements: intrinsic dimension, label
sharpness, adversarial loss penalty, diffeomorphisms and relative stability, NTK and kernel PCA, the amplification
factor, representation manifold quality, linear regions, retrieval, statistics, rank correlations of measures with
the generalization gap and Jiang et al.'s complexity measures. Functions take tensors and run
on their device. Imports :mod:`lib.training`, :mod:`lib.nets`, :mod:`lib.pipeline` and :mod:`lib.data`."""
