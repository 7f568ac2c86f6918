"""Loaders verify what they read (issue 16): headers, decompression, counts, value ranges; each error names the
file and how to fetch it again. Files are written by the tests in the real formats."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.data import load_dataset
from lib.data.readers import CorruptDataError, read_idx

N = 20


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of a uint8 array: magic 0x00 0x00 0x08 ndim, big-endian dimensions, the body."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(np.uint8).tobytes()


def mnist_root(tmp_path: Path, images: bytes | None = None, labels: bytes | None = None) -> Path:
    """A data root with MNIST's t10k pair (gzipped) in torchvision's layout; either file may be replaced."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    good_images = idx_bytes(rng.integers(0, 256, (N, 28, 28)))
    good_labels = idx_bytes(np.arange(N) % 10)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(good_images if images is None else images))
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(good_labels if labels is None else labels))
    return tmp_path


def test_a_valid_pair_loads(tmp_path):
    d = load_dataset("mnist", "test", root=mnist_root(tmp_path))
    assert d.x.shape == (N, 1, 28, 28) and d.y.tolist() == [i % 10 for i in range(N)]


@pytest.mark.parametrize("cut", [1, 5, 14])
def test_images_cut_inside_the_header(tmp_path, cut):
    """Was images of shape (10000, 1, 28, 0) and no error."""
    full = idx_bytes(np.zeros((N, 28, 28)))
    with pytest.raises(CorruptDataError, match=r"truncated or corrupt: .*t10k-images-idx3-ubyte.gz.*python -m lib.data fetch mnist"):
        load_dataset("mnist", "test", root=mnist_root(tmp_path, images=full[:cut]))


def test_gzip_cut_in_half_names_the_file_and_the_fetch(tmp_path):
    """Was an EOFError without the path."""
    root = mnist_root(tmp_path)
    gz = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    with pytest.raises(CorruptDataError, match=rf"truncated or corrupt: {gz}.*EOFError.*fetch it again: "
                                               r"`python -m lib.data fetch mnist`"):
        load_dataset("mnist", "test", root=root)


def test_uncompressed_file_named_gz(tmp_path):
    """Was gzip.BadGzipFile without the path."""
    root = mnist_root(tmp_path)
    gz = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gzip.decompress(gz.read_bytes()))
    with pytest.raises(CorruptDataError, match=rf"truncated or corrupt: {gz} \(BadGzipFile"):
        load_dataset("mnist", "test", root=root)


def test_image_and_label_counts_must_match(tmp_path):
    """Was 9,000 samples from 10,000 images and 9,000 labels, and no error."""
    root = mnist_root(tmp_path, labels=idx_bytes(np.arange(N - 2) % 10))
    with pytest.raises(CorruptDataError, match=f"{N} images but {N - 2} labels; the counts must match"):
        load_dataset("mnist", "test", root=root)


def test_labels_outside_the_classes(tmp_path):
    root = mnist_root(tmp_path, labels=idx_bytes(np.full(N, 12)))
    with pytest.raises(CorruptDataError, match=r"labels in \[12, 12\], outside the 10 classes \[0, 9\]"):
        load_dataset("mnist", "test", root=root)


def write_medmnist(tmp_path: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    (tmp_path / "medmnist").mkdir(parents=True)
    np.savez(tmp_path / "medmnist" / "breastmnist.npz", test_images=images, test_labels=labels)
    return tmp_path


def test_medmnist_float_images_in_0_255_are_refused(tmp_path):
    """Was 0..254 returned: the contract is [0, 1]."""
    images = np.random.default_rng(0).integers(0, 256, (N, 28, 28)).astype(np.float64)
    root = write_medmnist(tmp_path, images, (np.arange(N) % 2)[:, None])
    with pytest.raises(CorruptDataError, match=r"breastmnist.npz: float images with values in \[0, 255\]; the "
                                               r"loader's contract is \[0, 1\]"):
        load_dataset("breastmnist", "test", root=root)


def test_medmnist_uint8_and_unit_float_images_load_alike(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (N, 28, 28)).astype(np.uint8)
    labels = (np.arange(N) % 2)[:, None]
    a = load_dataset("breastmnist", "test", root=write_medmnist(tmp_path / "a", images, labels))
    b = load_dataset("breastmnist", "test", root=write_medmnist(tmp_path / "b", images / 255.0, labels))
    assert np.allclose(a.x.numpy(), b.x.numpy(), atol=1e-7) and float(a.x.max()) <= 1.0
    assert a.y.tolist() == labels.ravel().tolist()


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0, 0.5]), np.array([0.0, np.nan, 1.0]), np.array(["a", "b", "c"])])
def test_non_integer_labels_are_refused_not_truncated(tmp_path, labels):
    """A cast to int64 turned 0.5 into class 0 silently; whole-number floats are accepted."""
    labels = np.resize(labels, N)[:, None]
    root = write_medmnist(tmp_path, np.zeros((N, 28, 28), np.uint8), labels)
    with pytest.raises(CorruptDataError, match=r"breastmnist.npz: .*(not whole numbers|expected integers)"):
        load_dataset("breastmnist", "test", root=root)
    ok = write_medmnist(tmp_path / "ok", np.zeros((N, 28, 28), np.uint8), (np.arange(N) % 2.0)[:, None])
    assert load_dataset("breastmnist", "test", root=ok).y.tolist() == (np.arange(N) % 2).tolist()


def test_medmnist_missing_key_and_broken_npz(tmp_path):
    root = write_medmnist(tmp_path, np.zeros((N, 28, 28), np.uint8), np.zeros((N, 1)))
    with pytest.raises(CorruptDataError, match=r"has no array \['val_images', 'val_labels'\]"):
        load_dataset("breastmnist", "val", root=root)
    path = root / "medmnist" / "breastmnist.npz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CorruptDataError, match=f"truncated or corrupt: {path}"):
        load_dataset("breastmnist", "test", root=root)


# ------------------------------------------------------------------------------------- property-based tests
@settings(max_examples=200, deadline=None)
@given(st.data())
def test_idx_reader_returns_the_array_or_a_clear_error(tmp_path_factory, data):
    """Any cut, any flipped byte, with or without gzip: either exactly the written array or a CorruptDataError that
    names the file. Never a silently reshaped or shortened array."""
    shape = data.draw(st.sampled_from([(3, 4, 5), (7,), (2, 3)]))
    array = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    blob = idx_bytes(array)
    cut = data.draw(st.integers(0, len(blob)))
    blob = blob[:cut] + data.draw(st.binary(max_size=3))
    gzipped = data.draw(st.booleans())
    path = tmp_path_factory.mktemp("idx") / ("f.idx.gz" if gzipped else "f.idx")
    payload = gzip.compress(blob) if gzipped else blob
    if gzipped and data.draw(st.booleans()):
        payload = payload[: data.draw(st.integers(0, len(payload)))]
    path.write_bytes(payload)
    try:
        out = read_idx(path)
    except CorruptDataError as e:
        assert str(path) in str(e) and "truncated or corrupt" in str(e)
    else:
        assert out.size > 0 and out.nbytes == len(gzip.decompress(payload) if gzipped else payload) - 4 - 4 * out.ndim


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["uint8", "int64", "float32", "float64"]), st.floats(-2, 300, allow_nan=False),
       st.floats(-2, 300, allow_nan=False), st.integers(1, 6), st.integers(1, 6))
def test_medmnist_loader_returns_unit_images_or_a_clear_error(tmp_path_factory, dtype, a, b, n_images, n_labels):
    """Any dtype and value range, any counts: images in [0, 1] with as many labels, or a CorruptDataError that
    names the file."""
    lo, hi = min(a, b), max(a, b)
    images = np.linspace(lo, hi, n_images * 28 * 28).reshape(n_images, 28, 28).astype(dtype)
    root = write_medmnist(tmp_path_factory.mktemp("med"), images, (np.arange(n_labels) % 2)[:, None])
    try:
        d = load_dataset("breastmnist", "test", root=root)
    except CorruptDataError as e:
        assert "breastmnist.npz" in str(e)
        return
    assert len(d.x) == len(d.y) == n_images == n_labels
    assert 0.0 <= float(d.x.min()) and float(d.x.max()) <= 1.0
