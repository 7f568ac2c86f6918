"""Readers for the datasets' original file formats (no torchvision download checks involved).

Each reader returns ``(images, labels)`` as numpy arrays: images uint8 or float of shape (N, H, W) or (N, H, W, C),
labels integer of shape (N,).
"""

from __future__ import annotations

import gzip
import io
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class CorruptDataError(ValueError):
    """A data file is truncated or corrupt, or its contents break the loader's contract (counts, ranges)."""


def _decompressed(path: Path) -> bytes:
    """The bytes of ``path``, gunzipped when it ends in ``.gz``; CorruptDataError naming the path otherwise."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise CorruptDataError(f"truncated or corrupt: {path} ({type(e).__name__}: {e})") from e


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzipped or not.

    Header: two zero bytes, a type code, the number of dimensions, then one big-endian uint32 per dimension; the
    body must hold exactly the product of the dimensions in items. Raises :class:`CorruptDataError` naming the path
    for a bad magic number, a header or body cut short or too long, and a gzip stream that does not decompress.
    """
    data = _decompressed(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise CorruptDataError(f"truncated or corrupt: {path} is not an IDX file (bad magic number "
                               f"{data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise CorruptDataError(f"truncated or corrupt: {path}: the header announces {ndim} dimensions "
                               f"({header} bytes), the file has {len(data)} bytes")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = data[header:]
    if len(body) != expected or 0 in shape:
        raise CorruptDataError(f"truncated or corrupt: {path}: header says {shape} ({expected} bytes), found "
                               f"{len(body)}")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _npz_arrays(path: Path, keys: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """The arrays ``keys`` of an ``.npz`` file; CorruptDataError naming the path and the keys it has otherwise."""
    try:
        with np.load(path) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise CorruptDataError(f"truncated or corrupt: {path} has no array {missing}; it has {f.files}")
            return tuple(f[k] for k in keys)
    except (EOFError, OSError, ValueError, zipfile.BadZipFile, zlib.error) as e:
        if isinstance(e, CorruptDataError):
            raise
        raise CorruptDataError(f"truncated or corrupt: {path} ({type(e).__name__}: {e})") from e


def read_npz_array(path: Path, key: str = "arr_0") -> np.ndarray:
    """One array of an ``.npz`` file (KMNIST's CODH layout stores it under ``arr_0``); CorruptDataError naming the
    path for an unreadable file or a missing key."""
    return _npz_arrays(path, (key,))[0]


def _integer_labels(labels: object, where: object) -> np.ndarray:
    """``labels`` flattened to int64, refusing (CorruptDataError naming ``where``) values that are not whole numbers:
    a cast would truncate 0.5 to class 0 silently."""
    labels = np.asarray(labels).reshape(-1)
    if labels.dtype.kind == "f" and not (np.isfinite(labels).all() and (labels == np.round(labels)).all()):
        bad = labels[~(np.isfinite(labels) & (labels == np.round(labels)))]
        raise CorruptDataError(f"truncated or corrupt: {where}: {len(bad)} labels are not whole numbers (e.g. "
                               f"{bad[0]!r}); class labels must be integers")
    if labels.dtype.kind not in "biuf":
        raise CorruptDataError(f"truncated or corrupt: {where}: labels of dtype {labels.dtype}; expected integers")
    return labels.astype(np.int64)


def read_medmnist(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """A split of a MedMNIST ``.npz`` (keys ``{split}_images`` and ``{split}_labels``); labels are flattened.

    Raises CorruptDataError naming the path for an unreadable file or missing keys, ValueError for multi-label
    sets."""
    images, labels = _npz_arrays(path, (f"{split}_images", f"{split}_labels"))
    if labels.ndim == 2 and labels.shape[1] != 1:
        raise ValueError(f"{path}: labels have shape {labels.shape}; multi-label MedMNIST sets are not supported")
    return images, _integer_labels(labels, path)


def read_cifar_batches(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 python pickles (``data``: N x 3072 uint8 in CHW order, ``labels``) -> (N, 32, 32, 3), (N,)."""
    images, labels = [], []
    for p in paths:
        with open(p, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
        images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(_integer_labels(batch.get("labels", batch.get("fine_labels")), p))
    return np.concatenate(images), np.concatenate(labels)


def read_svhn_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """SVHN cropped digits ``.mat`` (``X``: 32 x 32 x 3 x N, ``y`` with 10 meaning digit 0) -> (N, 32, 32, 3), (N,)."""
    from scipy.io import loadmat

    mat = loadmat(path)
    labels = _integer_labels(mat["y"], path)
    labels[labels == 10] = 0
    return np.ascontiguousarray(mat["X"].transpose(3, 0, 1, 2)), labels


def read_omniglot_runs(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Lake et al.'s 20 one-shot runs (``all_runs.zip``): 20 runs x 20 classes, one training image per class.

    ``split="train"`` gives the 400 training images, ``split="test"`` the 400 test items. The label of an image is
    ``20 * run + class`` (runs and classes counted from 0), so a test item carries the label of the training image
    that ``class_labels.txt`` pairs it with. Ink is 1 and background 0 (the PNGs are inverted), as in MNIST.
    """
    from PIL import Image

    if split not in ("train", "test"):
        raise ValueError(f"Omniglot one-shot runs have splits 'train' and 'test', not {split!r}")
    images, labels = [], []
    with zipfile.ZipFile(path) as z:
        for run in range(20):
            if split == "train":
                members = [(f"run{run + 1:02d}/training/class{c + 1:02d}.png", c) for c in range(20)]
            else:
                pairs = z.read(f"run{run + 1:02d}/class_labels.txt").decode().split()
                members = [(item, int(Path(cls).stem.removeprefix("class")) - 1)
                           for item, cls in zip(pairs[0::2], pairs[1::2])]
            for name, cls in members:
                img = np.asarray(Image.open(io.BytesIO(z.read(name))).convert("L"), dtype=np.uint8)
                images.append(255 - img)
                labels.append(20 * run + cls)
    return np.stack(images), np.asarray(labels, dtype=np.int64)
