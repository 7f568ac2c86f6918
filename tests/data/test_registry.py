"""The dataset registry: real files against their published counts, synthetic formats, transforms, errors."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch

from lib.data import DatasetNotFoundError, balanced_indices, convert_channels, data_roots, load_dataset, resize
from lib.data.manifolds import MANIFOLDS, random_orthonormal
from lib.data.readers import read_idx

# Per-class counts published with the datasets (MNIST: the official t10k labels).
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ------------------------------------------------------------------------------------------------ real files
def test_mnist_test_split_matches_official_counts(data_root):
    d = load_dataset("mnist", "test", root=data_root)
    assert d.x.shape == (10000, 1, 28, 28) and d.x.dtype == torch.float32 and d.y.dtype == torch.int64
    assert float(d.x.min()) == 0.0 and float(d.x.max()) == 1.0
    assert torch.bincount(d.y).tolist() == MNIST_TEST_COUNTS
    # The mean pixel of MNIST test is 0.1325 (the well-known normalisation constant 0.1307 is for train).
    assert float(d.x.mean()) == pytest.approx(0.1325, abs=5e-4)


def test_kmnist_reads_the_official_npz_layout(data_root):
    d = load_dataset("kmnist", "test", root=data_root)
    assert d.x.shape == (10000, 1, 28, 28)
    assert torch.bincount(d.y).tolist() == [1000] * 10
    assert d.path.name == "kmnist-test-imgs.npz"


@pytest.mark.parametrize("name,split,counts", [
    ("pneumoniamnist", "val", [135, 389]), ("pneumoniamnist", "test", [234, 390]),
    ("pneumoniamnist", "train", [388, 3494]),  # the pack's truncated train split (MANIFEST.md)
    ("breastmnist", "train", [147, 399]), ("breastmnist", "val", [21, 57]), ("breastmnist", "test", [42, 114]),
])
def test_medmnist_split_counts(data_root, name, split, counts):
    d = load_dataset(name, split, root=data_root)
    assert d.x.shape[1:] == (1, 28, 28)
    assert torch.bincount(d.y).tolist() == counts


def test_omniglot_runs_pair_every_test_item_with_a_training_class(data_root):
    train = load_dataset("omniglot_oneshot", "train", root=data_root)
    test = load_dataset("omniglot_oneshot", "test", root=data_root)
    assert train.x.shape == (400, 1, 105, 105) and test.x.shape == (400, 1, 105, 105)
    assert sorted(train.y.tolist()) == list(range(400))
    # Each run is a 20-way task: its 20 test items use each of its 20 classes exactly once.
    for run in range(20):
        assert sorted(test.y[20 * run: 20 * run + 20].tolist()) == list(range(20 * run, 20 * run + 20))
    assert float(train.x.mean()) < 0.15  # ink is 1 on a 0 background after inversion


def test_embedded_datasets_have_a_fixed_disjoint_split():
    full = load_dataset("digits", "all")
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    assert len(full) == 1797 and len(train) + len(test) == 1797
    assert full.x.shape[1:] == (1, 8, 8) and float(full.x.max()) == 1.0
    both = torch.cat([train.x, test.x]).flatten(1)
    assert torch.unique(both, dim=0).shape[0] == torch.unique(full.x.flatten(1), dim=0).shape[0]
    assert len(load_dataset("mnist5k", "all")) == 5000


# ------------------------------------------------------------------------------------------------ subsampling
def test_balanced_subsample_counts_and_determinism(data_root):
    a = load_dataset("mnist", "test", root=data_root, n_per_class=50, seed=3)
    b = load_dataset("mnist", "test", root=data_root, n_per_class=50, seed=3)
    c = load_dataset("mnist", "test", root=data_root, n_per_class=50, seed=4)
    assert torch.bincount(a.y).tolist() == [50] * 10
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not np.array_equal(a.indices, c.indices)


def test_balanced_indices_remainder_goes_to_the_first_classes():
    labels = np.repeat(np.arange(10), 30)
    idx = balanced_indices(labels, n=25, seed=0)
    assert np.bincount(labels[idx]).tolist() == [3] * 5 + [2] * 5
    assert len(set(idx.tolist())) == 25
    with pytest.raises(ValueError, match="class 0: 30 available, 31 asked"):
        balanced_indices(labels, n_per_class=31)


def test_class_pair_task_relabels_and_keeps_the_images(data_root):
    full = load_dataset("mnist", "test", root=data_root)
    pair = load_dataset("mnist", "test", root=data_root, classes=(5, 3), n=100, seed=0)
    assert torch.bincount(pair.y).tolist() == [50, 50]
    original = full.y[torch.from_numpy(pair.indices)]
    assert torch.equal(original, torch.where(pair.y == 0, 5, 3))  # order of `classes` gives the new labels
    assert torch.equal(pair.x, full.x[torch.from_numpy(pair.indices)])
    with pytest.raises(ValueError, match="not present: \\[11\\]"):
        load_dataset("mnist", "test", root=data_root, classes=(3, 11))


# ------------------------------------------------------------------------------------------------ transforms
def test_resize_and_channels_on_known_images():
    const = torch.full((2, 1, 28, 28), 0.25)
    assert torch.allclose(resize(const, 14), torch.full((2, 1, 14, 14), 0.25))
    assert resize(const, 28) is const
    checker = (torch.arange(28)[:, None] + torch.arange(28)[None, :]) % 2
    half = resize(checker.float().view(1, 1, 28, 28), 14)
    # A 2x antialiased downscale applies the tent filter (1, 3, 3, 1)/8 along each axis: a checkerboard becomes 0.5
    # everywhere except on the border, where the filter is cut and renormalised.
    inner = half[..., 1:-1, 1:-1]
    assert torch.allclose(inner, torch.full_like(inner, 0.5), atol=1e-6)
    rgb = torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1)
    assert convert_channels(rgb, 1).item() == pytest.approx(0.299 + 0.587 * 0.5)
    gray = torch.rand(3, 1, 4, 4)
    assert torch.equal(convert_channels(gray, 3)[:, 2:3], gray)
    with pytest.raises(ValueError, match="cannot convert 3 channels to 2"):
        convert_channels(rgb, 2)


def test_load_dataset_resizes_and_converts(data_root):
    d = load_dataset("breastmnist", "test", root=data_root, size=32, channels=3, n=20, seed=1)
    assert d.x.shape == (20, 3, 32, 32)
    assert torch.equal(d.x[:, 0], d.x[:, 1]) and 0.0 <= float(d.x.min()) and float(d.x.max()) <= 1.0


# ------------------------------------------------------------------------------------------------ file formats
def _write_idx(path, array: np.ndarray, type_code: int = 0x08):
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def test_idx_reader_roundtrip_and_truncation(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", arr)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), arr)
    with gzip.open(tmp_path / "bad.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "bad.gz")


def test_cifar10_pickle_layout(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = np.random.default_rng(0).integers(0, 256, size=(5, 3072), dtype=np.uint8)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": data, "labels": [0, 1, 2, 3, 9]}, f)
    d = load_dataset("cifar10", "test", root=tmp_path)
    assert d.x.shape == (5, 3, 32, 32) and d.y.tolist() == [0, 1, 2, 3, 9]
    # The pickle stores each image as 1024 red, then green, then blue values in row-major order.
    assert d.x[2, 1, 4, 7].item() == pytest.approx(data[2, 1024 + 4 * 32 + 7] / 255)


def test_svhn_mat_layout_maps_label_10_to_0(tmp_path):
    from scipy.io import savemat

    (tmp_path / "SVHN").mkdir()
    x = np.random.default_rng(0).integers(0, 256, size=(32, 32, 3, 4), dtype=np.uint8)
    savemat(tmp_path / "SVHN" / "test_32x32.mat", {"X": x, "y": np.array([[10], [1], [5], [10]])})
    d = load_dataset("svhn", "test", root=tmp_path)
    assert d.y.tolist() == [0, 1, 5, 0]
    assert d.x[3, 2, 5, 6].item() == pytest.approx(x[5, 6, 2, 3] / 255)


# ------------------------------------------------------------------------------------------------ roots, errors
def test_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("GG_DATA_ROOT", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_roots(tmp_path / "arg") == [tmp_path / "arg"]
    assert data_roots() == [tmp_path / "env", tmp_path / "cache" / "geometry-generalization" / "data"]
    monkeypatch.delenv("GG_DATA_ROOT")
    assert data_roots() == [tmp_path / "cache" / "geometry-generalization" / "data"]


def test_missing_dataset_error_names_files_roots_and_remedy(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("fashionmnist", "test", root=tmp_path)
    text = str(err.value)
    for needle in ("FashionMNIST/raw/t10k-images-idx3-ubyte.gz", str(tmp_path), "python -m lib.data fetch fashionmnist",
                   "GG_DATA_ROOT"):
        assert needle in text
    assert "shared" not in text


def test_unknown_names_and_splits_list_the_valid_ones():
    with pytest.raises(KeyError, match="known datasets: .*mnist"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match=r"splits \['train', 'val', 'test'\], not 'validation'"):
        load_dataset("pneumoniamnist", "validation")


def test_download_only_when_asked(monkeypatch, tmp_path):
    calls = []

    def fake_fetch(name, split, root):  # writes the files the official release has
        calls.append((name, split, root))
        raw = root / "MNIST" / "raw"
        raw.mkdir(parents=True)
        _write_idx(raw / "t10k-images-idx3-ubyte.gz", np.full((4, 28, 28), 255, dtype=np.uint8), 0x08)
        _write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.array([1, 2, 3, 4], dtype=np.uint8), 0x08)

    monkeypatch.setattr("lib.data.fetch.fetch_split", fake_fetch)
    with pytest.raises(DatasetNotFoundError):
        load_dataset("mnist", "test", root=tmp_path)
    assert calls == []
    d = load_dataset("mnist", "test", root=tmp_path, download=True)
    assert calls == [("mnist", "test", tmp_path)] and d.y.tolist() == [1, 2, 3, 4] and float(d.x.min()) == 1.0
    assert d.verified is False and "NOT verified" in d.provenance()["verified"]


# ------------------------------------------------------------------------------------------------ manifolds
@pytest.mark.parametrize("name,d", [("gaussian", 4), ("hypercube", 3), ("sphere", 3), ("swiss_roll", 2)])
def test_manifold_embedding_is_an_isometry(name, d):
    low = MANIFOLDS[name](200, d, d + (1 if name in ("sphere", "swiss_roll") else 0), torch.Generator().manual_seed(1))
    high = MANIFOLDS[name](200, d, 50, torch.Generator().manual_seed(1))
    assert torch.allclose(torch.pdist(low), torch.pdist(high), rtol=1e-10, atol=1e-12)


def test_manifolds_have_their_known_dimension():
    g = torch.Generator().manual_seed(0)
    s = torch.linalg.svdvals(MANIFOLDS["gaussian"](500, 5, 40, g))
    assert int((s > 1e-8 * s[0]).sum()) == 5  # a d-dimensional subspace has rank d
    pts = MANIFOLDS["sphere"](500, 4, 30, g)
    assert torch.allclose(pts.norm(dim=1), torch.ones(500, dtype=torch.float64))
    q = random_orthonormal(5, 30, g)
    assert torch.allclose(q @ q.T, torch.eye(5, dtype=torch.float64), atol=1e-12)


def test_registry_manifolds_are_scaled_into_unit_range():
    d = load_dataset("sphere", "all", n=300, intrinsic_dim=2, ambient_dim=20, seed=5)
    assert d.x.shape == (300, 1, 1, 20) and d.intrinsic_dim == 2
    assert float(d.x.min()) == 0.0 and float(d.x.max()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="needs intrinsic_dim and ambient_dim"):
        load_dataset("sphere", "all")


def test_pool_and_presence(data_root, tmp_path):
    from lib.data import image_pool, present
    x, y = image_pool("mnist", str(data_root))
    assert x.shape == (10000, 1, 28, 28) and len(torch.unique(x.flatten(1), dim=0)) == 10000  # test split only here
    assert present(("mnist", "cifar10", "kmnist"), str(data_root)) == ["mnist", "kmnist"]
    assert present(("mnist",), str(tmp_path)) == []


def test_demo_photo_is_a_real_rgb_image():
    from lib.data import demo_photo
    img = demo_photo(64)
    assert img.shape == (3, 64, 64) and 0 <= float(img.min()) and float(img.max()) <= 1
    assert float(img.std()) > 0.1  # a photograph, not a constant


def test_splits_placed_by_hand_are_listed_in_the_provenance(tmp_path, monkeypatch):
    """A MedMNIST file whose md5 is not the official one is read, and every result's provenance lists it."""
    from lib.data.registry import unverified_in_use
    from lib.pipeline.results import provenance

    folder = tmp_path / "medmnist"
    folder.mkdir()
    x = np.zeros((4, 28, 28), np.uint8)
    y = np.array([[0], [1], [0], [1]], np.uint8)
    np.savez(folder / "breastmnist.npz", **{f"{s}_images": x for s in ("train", "val", "test")},
             **{f"{s}_labels": y for s in ("train", "val", "test")})
    monkeypatch.setenv("GG_DATA_ROOT", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert unverified_in_use() == ["breastmnist train", "breastmnist val", "breastmnist test"]
    assert provenance(1.0, "cpu")["data_not_verified"] == unverified_in_use()
    assert load_dataset("breastmnist", "test").provenance()["verified"].startswith("NOT verified")
