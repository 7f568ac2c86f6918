"""Network architectures: torchvision's adapted to small images, LeNet and fully connected nets, the MnasNet-like CNN
and the one-hidden-layer network of Paccolat et al., and a small VAE. Imports :mod:`lib.pipeline` and
:mod:`lib.data` only."""
