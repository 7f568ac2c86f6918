"""Chapter 1's experiment: binary tasks drawn from natural and medical datasets, trained to fit, then measured.

Protocol of Konz & Mazurowski (Sec. 4): for each dataset, a binary task (a random pair of classes for the natural
datasets, the diagnostic label for the medical ones), class-balanced training sets of size N and a disjoint
class-balanced test set, drawn from the dataset's pool of images; a model trained with Adam until it fits the
training set; then the test loss, the FGSM loss penalty (Sec. 6), the intrinsic dimension of the training set
(d_data) and of its final hidden representations (d_repr). ``run_task`` is the unit of a sweep
(:func:`lib.pipeline.results.run_sweep`); it takes and returns plain dicts.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from lib.data import balanced_indices, get_spec, image_pool
from lib.data.registry import resize
from lib.measures.adversarial import KONZ_EPSILONS, fgsm_loss_penalty
from lib.measures.intrinsic_dimension import intrinsic_dimensions, mle_dimension
from lib.measures.label_sharpness import label_sharpness
from lib.measures.statistics import scaling_law_likelihood_ratio
from lib.nets.classifiers import build_model, extract_features
from lib.pipeline.device import describe_device, pick_device
from lib.pipeline.verdicts import Estimate, bootstrap_estimate
from lib.training.supervised import evaluate, train

LABELINGS = ("pair", "parity", "low_high")
NORMALISATIONS = ("none", "per_image_max")


def task_labels(y: torch.Tensor, labeling: str, classes: tuple[int, ...] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary labels of a task and the mask of images it uses.

    ``pair``: the two ``classes`` (label 1 for the second); ``parity``: even (0) vs odd (1) class index;
    ``low_high``: classes below the median index (0) vs the rest (1). Binary datasets use ``pair`` with (0, 1).
    """
    if labeling == "pair":
        if classes is None or len(classes) != 2:
            raise ValueError("a 'pair' task needs classes=(a, b)")
        mask = (y == classes[0]) | (y == classes[1])
        return (y == classes[1]).long(), mask
    n_cls = int(y.max()) + 1
    if labeling == "parity":
        return (y % 2).long(), torch.ones_like(y, dtype=torch.bool)
    if labeling == "low_high":
        return (y >= n_cls // 2).long(), torch.ones_like(y, dtype=torch.bool)
    raise ValueError(f"unknown labeling {labeling!r}; use one of {LABELINGS}")


def max_balanced_size(y: torch.Tensor) -> int:
    """The largest class-balanced sample a binary label vector supports."""
    return 2 * int(torch.bincount(y, minlength=2).min())


def class_pairs(num_classes: int, n_pairs: int, seed: int) -> list[tuple[int, int]]:
    """``n_pairs`` distinct random class pairs (the paper draws a new pair for each natural-image experiment)."""
    pairs = list(itertools.combinations(range(num_classes), 2))
    rng = np.random.default_rng(seed)
    return [pairs[i] for i in rng.choice(len(pairs), size=min(n_pairs, len(pairs)), replace=False)]


def draw_task(x: torch.Tensor, labels: torch.Tensor, n_train: int, n_test: int, seed: int):
    """Disjoint class-balanced training (``n_train``) and test (``n_test``) sets."""
    idx = balanced_indices(labels.numpy(), n=n_train + n_test, seed=seed)
    tr, te = [], []
    for c in (0, 1):  # split each class so both sets stay balanced
        of_c = idx[labels.numpy()[idx] == c]
        tr.append(of_c[: n_train // 2])
        te.append(of_c[n_train // 2: n_train // 2 + n_test // 2])
    tr, te = np.concatenate(tr), np.concatenate(te)
    rng = np.random.default_rng(seed)
    tr, te = rng.permutation(tr), rng.permutation(te)
    return x[tr], labels[tr], x[te], labels[te]


def per_image_max(x: torch.Tensor) -> torch.Tensor:
    """Each image divided by its own maximum (the released code's ``MedicalDataset.normalize``, ``img * 255 /
    img.max()``, here to [0, 1] and without its uint8 rounding). An all-zero image is left at zero."""
    peak = x.flatten(1).amax(1).clamp_min(torch.finfo(x.dtype).tiny)
    return x / peak.view(-1, *([1] * (x.dim() - 1)))


def task_sharpness(params: dict) -> dict:
    """K_F (Eq. 1, M class-balanced points) of a task, repeated over ``params['repeats']`` random samples.

    ``params['normalise']`` (optional): ``"none"`` (images as loaded, [0, 1] by the file's range) or
    ``"per_image_max"`` (each image scaled to maximum 1, as in the authors' released code)."""
    norm = params.get("normalise", "none")
    if norm not in NORMALISATIONS:  # checked before any data is read
        raise ValueError(f"normalise={norm!r}; use one of {NORMALISATIONS}")
    x, labels = _task_arrays(params, params.get("data_root") or None)
    if norm == "per_image_max":
        x = per_image_max(x)
    m = min(params["M"], max_balanced_size(labels))
    values = [label_sharpness(x, labels, M=m, seed=params["seed"] + r) for r in range(params["repeats"])]
    return {"K_F": values, "M": m}


def run_task(params: dict) -> dict:
    """Train ``params['model']`` on one task and measure it (one point of Figs. 2-5 and Table 1)."""
    torch.set_num_threads(params.get("threads", torch.get_num_threads()))
    device = pick_device(params.get("device", "auto"))
    x, labels = _task_arrays(params, params.get("data_root") or None)
    x_tr, y_tr, x_te, y_te = draw_task(x, labels, params["n_train"], params["n_test"], params["seed"])
    dims = intrinsic_dimensions(x_tr, 20)
    out = {"d_data_mle": dims["mle"], "d_data_twonn": dims["twonn"]}
    model = build_model(params["model"], num_classes=2, in_channels=x.shape[1], input_size=x.shape[-1],
                        seed=params["seed"])
    hist = train(model, x_tr, y_tr, epochs=params["max_epochs"], batch_size=params["batch_size"], optimizer="adam",
                 lr=params["lr"], weight_decay=params["weight_decay"], target_train_acc=1.0, device=device,
                 seed=params["seed"], progress=False)
    test = evaluate(model, x_te, y_te)
    repr_dims = intrinsic_dimensions(extract_features(model, x_tr), 20, duplicates="drop")
    out.update(
        epochs=len(hist.epochs), fitted=hist.stopped == "target", train_acc=hist.last()["acc"],
        test_loss=test["loss"], test_acc=test["acc"],
        d_repr_twonn=repr_dims["twonn"], d_repr_mle=repr_dims["mle"],
        fgsm=fgsm_loss_penalty(model, x_te, y_te, KONZ_EPSILONS), device=describe_device(device))
    return out


NATURAL = ("mnist", "kmnist", "fashionmnist", "cifar10", "svhn")
MEDICAL = ("pneumoniamnist", "breastmnist")


def dataset_tasks(dataset: str, n_pairs: int, seed: int) -> list[dict]:
    """The binary tasks of a dataset: its own label if binary, else ``n_pairs`` random class pairs."""
    spec = get_spec(dataset)
    if spec.num_classes == 2:
        return [{"dataset": dataset, "labeling": "pair", "classes": [0, 1]}]
    return [{"dataset": dataset, "labeling": "pair", "classes": list(p)}
            for p in class_pairs(spec.num_classes, n_pairs, seed + sum(map(ord, dataset)))]


def task_capacity(task: dict, root: str | None) -> int:
    """The largest balanced sample (train + test) a task's pool supports."""
    return max_balanced_size(_task_arrays(task, root)[1])


def flatten_records(records: list[dict], eps_index: int = 1) -> list[dict]:
    """One flat row per trained model (FGSM at ``KONZ_EPSILONS[eps_index]``, 2/255 by default) for tables/plots."""
    rows = []
    for rec in records:
        p, r = rec["params"], rec["result"]
        rows.append({"model": p["model"], "dataset": p["dataset"], "domain": get_spec(p["dataset"]).domain,
                     "classes": tuple(p["classes"]), "N": p["n_train"], "seed": p["seed"], **{
                         k: v for k, v in r.items() if k not in ("fgsm", "device")},
                     "log_loss": float(np.log(r["test_loss"])), "loss_penalty": r["fgsm"][eps_index]["loss_penalty"],
                     "penalties": [f["loss_penalty"] for f in r["fgsm"]]})
    return rows


def task_arrays(task: dict, root: str | None, size: int | None = None, channels: int | None = None):
    """The images of a task's pool (every image its labelling uses) and their binary labels."""
    return _task_arrays(task, root, size, channels)


def _task_arrays(task: dict, root: str | None, size: int | None = None, channels: int | None = None):
    x, y = image_pool(task["dataset"], root, size, channels)
    labels, mask = task_labels(y, task["labeling"], tuple(task["classes"]) if task.get("classes") else None)
    return x[mask], labels[mask]


def task_dimensions(task: dict, sizes, root: str | None, seed: int) -> list[float]:
    """MLE d_data (k = 20) of class-balanced samples of each size in ``sizes`` that the task's pool supports (the
    largest balanced sample when none fits), as averaged in the paper's Fig. 1."""
    x, labels = _task_arrays(task, root)
    cap = max_balanced_size(labels)
    fitting = [n for n in sizes if n <= cap] or [cap]
    return [mle_dimension(x[torch.from_numpy(balanced_indices(labels.numpy(), n=n, seed=seed))]) for n in fitting]


def task_properties(task: dict, n: int, M: int, root: str | None, seed: int, size: int | None = None,
                    channels: int | None = None) -> dict[str, float]:
    """d_data (MLE on ``n`` balanced images) and K_F (``M`` balanced images) of a task at a resolution/channel count."""
    x, labels = _task_arrays(task, root, size, channels)
    n = min(n, max_balanced_size(labels))
    idx = torch.from_numpy(balanced_indices(labels.numpy(), n=n, seed=seed))
    return {"d_data": mle_dimension(x[idx]), "K_F": label_sharpness(x, labels, M=min(M, n), seed=seed)}


def resampled(x: torch.Tensor, size: int, mode: str = "bilinear") -> torch.Tensor:
    """Images resized to ``size`` x ``size``: ``"bilinear"`` (antialiased, as the data loader and torchvision's
    ``Resize``, which the paper's code uses) or ``"nearest"`` (an integer factor repeats pixels: every distance is
    multiplied by the factor exactly)."""
    if mode == "bilinear":
        return resize(x, size)
    if mode == "nearest":
        return F.interpolate(x, size=(size, size), mode="nearest")
    raise ValueError(f"mode={mode!r}; use 'bilinear' or 'nearest'")


def resolution_ladder(task: dict, n: int, sizes: Sequence[int], root: str | None, seed: int,
                      mode: str = "bilinear") -> list[dict]:
    """MLE d_data of one class-balanced sample of ``n`` images of a task at each image side in ``sizes`` (the native
    side included as is); the sample is drawn at the native resolution and resized, so large sides stay cheap."""
    x, labels = _task_arrays(task, root)
    n = min(n, max_balanced_size(labels))
    xs = x[torch.from_numpy(balanced_indices(labels.numpy(), n=n, seed=seed))]
    return [{"dataset": task["dataset"], "size": s, "mode": mode if s != xs.shape[-1] else "native",
             "d_data": mle_dimension(resampled(xs, s, mode))} for s in sizes]


def closest_cross_pairs(x: torch.Tensor, labels: torch.Tensor, k: int = 3) -> dict:
    """The ``k`` closest pairs of images with different labels (indices and distances, float64) and the median
    distance of an image to its nearest neighbour: K_F is one over the first distance."""
    X = x.flatten(1).double()
    D = torch.cdist(X, X).fill_diagonal_(float("inf"))
    nn_median = float(D.min(1).values.median())
    D[labels[:, None] == labels[None, :]] = float("inf")
    D = torch.triu(D) + torch.tril(torch.full_like(D, float("inf")))
    flat = torch.topk(D.flatten(), k, largest=False)
    pairs = [divmod(int(i), len(D)) for i in flat.indices]
    return {"pairs": pairs, "distances": flat.values.tolist(), "nn_median": nn_median}








def pearson_change_estimate(x: Sequence[float], y_from: Sequence[float], y_to: Sequence[float], **kw) -> Estimate:
    """r(x, y_to) - r(x, y_from) over the same resampled pairs (does the correlation change between two attacks?)."""
    x, a, b = (np.asarray(v, float) for v in (x, y_from, y_to))

    def dr(i):
        if np.ptp(x[i]) == 0 or np.ptp(a[i]) == 0 or np.ptp(b[i]) == 0:
            return np.nan
        return np.corrcoef(x[i], b[i])[0, 1] - np.corrcoef(x[i], a[i])[0, 1]
    return bootstrap_estimate(dr, (len(x),), **kw)


def mean_over_pairs(rows: list[dict], keys: Sequence[str] = ("log_loss", "d_data_mle")) -> list[dict]:
    """One row per (model, dataset, N): ``keys`` averaged over the class pairs, as the points of the paper's Fig. 2
    (natural datasets: mean over five class pairs)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["model"], r["dataset"], r["N"]), []).append(r)
    return [{"model": m, "dataset": ds, "N": n, "pairs": len(g), **{k: float(np.mean([r[k] for r in g])) for k in keys}}
            for (m, ds, n), g in groups.items()]


def log_r_estimate(rows: list[dict], k_f: dict[str, float], per_point: bool = False, **kw) -> Estimate:
    """log R of the paper's Eq. (26) (model A with log K_F vs model B without) fitted to ``rows`` (each with
    ``log_loss``, ``d_data_mle``, ``N``, ``dataset``), with a bootstrap interval over rows; ``per_point`` divides by
    the number of rows (log R is a sum over the fitted points, so it grows with their number)."""
    L = np.array([r["log_loss"] for r in rows])
    d = np.array([r["d_data_mle"] for r in rows])
    n = np.array([r["N"] for r in rows])
    k = np.array([k_f[r["dataset"]] for r in rows])
    scale = 1 / len(rows) if per_point else 1.0
    return bootstrap_estimate(lambda i: scale * scaling_law_likelihood_ratio(L[i], d[i], n[i], k[i])["log_R"],
                              (len(rows),), **kw)
