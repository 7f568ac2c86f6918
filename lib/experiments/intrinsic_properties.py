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

import numpy as np
import torch

from lib.data import balanced_indices, get_spec, image_pool
from lib.measures.adversarial import KONZ_EPSILONS, fgsm_loss_penalty
from lib.measures.intrinsic_dimension import intrinsic_dimensions, mle_dimension
from lib.measures.label_sharpness import label_sharpness
from lib.nets.classifiers import build_model, extract_features
from lib.pipeline.device import describe_device, pick_device
from lib.training.supervised import evaluate, train

LABELINGS = ("pair", "parity", "low_high")


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


def task_sharpness(params: dict) -> dict:
    """K_F (Eq. 1, M class-balanced points) of a task, repeated over ``params['repeats']`` random samples."""
    x, labels = _task_arrays(params, params.get("data_root") or None)
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
                     "loss_penalty": r["fgsm"][eps_index]["loss_penalty"],
                     "penalties": [f["loss_penalty"] for f in r["fgsm"]]})
    return rows


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
