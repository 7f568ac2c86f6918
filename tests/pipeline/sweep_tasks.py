"""A module-level sweep task (importable by worker processes): a tiny seeded training run."""

import torch

from lib.nets.classifiers import FCNet
from lib.training.supervised import evaluate, train


def tiny_training(params: dict) -> dict:
    """Train a small FC net on seeded Gaussian blobs; return its final training loss and accuracy."""
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(params["seed"])
    x = torch.randn(64, 2, generator=g) + 2.0 * torch.randint(0, 2, (64, 1), generator=g)
    y = (x.sum(1) > 2.0).long()
    torch.manual_seed(params["seed"])
    model = FCNet(2, (params["width"],), 2)
    train(model, x, y, epochs=3, batch_size=16, lr=0.05, seed=params["seed"], device="cpu", progress=False)
    out = evaluate(model, x, y)
    return {"loss": out["loss"], "acc": out["acc"], "first_weight": float(model.net[1].weight.detach()[0, 0])}


def blob_dimension(params: dict) -> dict:
    """The MLE intrinsic dimension of a seeded Gaussian blob (a sweep task that imports a measurement)."""
    from lib.measures.intrinsic_dimension import mle_dimension

    x = torch.randn(200, params["d"], generator=torch.Generator().manual_seed(params["seed"]), dtype=torch.float64)
    return {"mle": mle_dimension(x, 10)}
