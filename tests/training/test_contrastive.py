"""Objectives, views and the encoder trainer of chapter 4 (van der Merwe et al. 2022), and 1-NN retrieval."""

import math

import pytest
import torch
import torch.nn.functional as F
from sklearn.neighbors import KNeighborsClassifier

from lib.measures.retrieval import one_nn_accuracy
from lib.nets.classifiers import LeNetEncoder
from lib.training.contrastive import (METHODS, WITH_HEAD, _homographies, method_loss, nt_xent, random_views,
                                      train_encoder, triplet_semihard)


def test_nt_xent_equals_the_brute_force_sum():
    g = torch.Generator().manual_seed(0)
    z1, z2, t = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g), 0.07
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    total = 0.0
    for i in range(10):
        partner = (i + 5) % 10
        others = sum(math.exp(float(z[i] @ z[k]) / t) for k in range(10) if k != i)
        total += -math.log(math.exp(float(z[i] @ z[partner]) / t) / others)
    assert float(nt_xent(z1, z2, t)) == pytest.approx(total / 10, rel=1e-4)


def test_triplet_semihard_equals_the_brute_force_loop():
    g = torch.Generator().manual_seed(1)
    emb, labels, m = torch.randn(12, 3, generator=g, dtype=torch.float64), torch.randint(0, 3, (12,), generator=g), 0.5
    z = F.normalize(emb, dim=1)
    terms = []
    for a in range(12):
        for p in range(12):
            for n in range(12):
                if a == p or labels[a] != labels[p] or labels[n] == labels[a]:
                    continue
                ap, an = float((z[a] - z[p]).norm()), float((z[a] - z[n]).norm())
                if 0 < an - ap <= m and ap - an + m > 0:
                    terms.append(ap - an + m)
    assert terms, "the random case must contain semi-hard triplets"
    assert float(triplet_semihard(emb, labels, m)) == pytest.approx(sum(terms) / len(terms), rel=1e-12)
    assert float(triplet_semihard(emb, torch.zeros(12, dtype=torch.long))) == 0.0  # no negatives: no triplet


def test_homography_maps_the_corners_and_views_without_distortion_are_the_identity():
    g = torch.Generator().manual_seed(2)
    src, dst = torch.rand(3, 4, 2, generator=g), torch.rand(3, 4, 2, generator=g)
    H = _homographies(src, dst)
    mapped = torch.cat([dst, torch.ones(3, 4, 1)], -1) @ H.transpose(1, 2)
    torch.testing.assert_close(mapped[..., :2] / mapped[..., 2:], src, atol=1e-4, rtol=1e-4)
    x = torch.rand(4, 1, 28, 28, generator=g)
    torch.testing.assert_close(random_views(x, g, degrees=0, distortion=0), x, atol=1e-5, rtol=0)
    turned = random_views(x, torch.Generator().manual_seed(3), degrees=90, distortion=0)
    assert (turned - x).abs().mean() > 0.1


def test_views_preserve_the_centre_and_mass_roughly():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1.0
    v = random_views(x, torch.Generator().manual_seed(4))
    assert (v[:, 0, 14, 14] > 0.5).float().mean() > 0.9  # the centre of a centred square mostly stays inside it
    ratio = float(v.sum((1, 2, 3)).mean() / 64.0)  # a perspective view shrinks the image into a smaller quadrilateral
    assert 0.4 < ratio < 1.0


def all_triplets_loss(enc, x, y, margin=0.5):
    """Mean of relu(d_ap - d_an + margin) over every valid triplet (batch-all), on unit embeddings."""
    with torch.no_grad():
        z = F.normalize(enc(x), dim=1)
    d = torch.cdist(z, z)
    same = y[:, None] == y[None, :]
    valid = (same & ~torch.eye(len(y), dtype=torch.bool))[:, :, None] & ~same[:, None, :]
    return float((d[:, :, None] - d[:, None, :] + margin).clamp(min=0)[valid].mean())


@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains_and_lowers_its_loss(method):
    g = torch.Generator().manual_seed(5)
    y = torch.arange(4).repeat_interleave(32)
    x = torch.zeros(128, 1, 28, 28)
    for c in range(4):  # four classes: a bright square in one quadrant
        r, s = divmod(c, 2)
        x[y == c, :, 4 + 12 * r:12 + 12 * r, 4 + 12 * s:12 + 12 * s] = 1.0
    x = (x + 0.1 * torch.rand(x.shape, generator=g)).clamp(0, 1)
    torch.manual_seed(0)  # some initialisations already separate this toy (all-triplets loss 0); this one does not
    enc = LeNetEncoder(16, 4 if method in WITH_HEAD else None)
    before = all_triplets_loss(enc, x, y)
    assert before > 0.1
    losses = train_encoder(enc, method, x, y, epochs=6, batch_size=32, lr=3e-3, device="cpu", progress=False)
    assert all(math.isfinite(v) for v in losses)
    if method in ("triplet_supervised", "triplet_entropy"):  # the semi-hard set changes: compare all triplets
        assert all_triplets_loss(enc, x, y) < 0.5 * before
    else:
        assert losses[-1] < losses[0]
    with torch.no_grad():
        emb = enc(x)
    assert one_nn_accuracy(emb[::2], y[::2], emb[1::2], y[1::2]) > 0.9


def test_method_loss_needs_its_inputs():
    enc = LeNetEncoder(8)
    x = torch.rand(4, 1, 28, 28)
    with pytest.raises(ValueError, match="second view"):
        method_loss("nt_xent", enc, x, None)
    with pytest.raises(ValueError, match="no classification head"):
        method_loss("cross_entropy", enc, x, torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="unknown method"):
        method_loss("simsiam", enc, x, None)
    with pytest.raises(ValueError, match="28 x 28"):
        enc(torch.rand(2, 1, 32, 32))


def test_one_nn_accuracy_equals_scikit_learn():
    g = torch.Generator().manual_seed(6)
    ref, query = torch.randn(300, 8, generator=g), torch.randn(200, 8, generator=g)
    ref_y, query_y = torch.randint(0, 5, (300,), generator=g), torch.randint(0, 5, (200,), generator=g)
    knn = KNeighborsClassifier(n_neighbors=1).fit(F.normalize(ref, dim=1).numpy(), ref_y.numpy())
    expected = float((knn.predict(F.normalize(query, dim=1).numpy()) == query_y.numpy()).mean())
    assert one_nn_accuracy(ref, ref_y, query, query_y) == pytest.approx(expected)


def test_grouped_one_nn_matches_within_groups_only():
    ref = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0]])
    ref_y, ref_g = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 0, 1, 1])
    query, query_g = torch.tensor([[1.0, 0.05], [0.05, 1.0]]), torch.tensor([1, 0])
    assert one_nn_accuracy(ref, ref_y, query, torch.tensor([2, 1]), groups=(ref_g, query_g)) == 1.0
    assert one_nn_accuracy(ref, ref_y, query, torch.tensor([2, 1])) < 1.0


def test_triplet_semihard_accepts_labels_of_shape_n_by_1():
    """MedMNIST stores labels as (N, 1): was "too many values to unpack"; now the same loss as with (N,)."""
    emb = torch.randn(12, 4, generator=torch.Generator().manual_seed(0))
    y = torch.arange(12) % 3
    assert torch.equal(triplet_semihard(emb, y[:, None]), triplet_semihard(emb, y))
    with pytest.raises(ValueError, match=r"labels must be class labels of shape \(N,\) or \(N, 1\), got \(12, 3\)"):
        triplet_semihard(emb, torch.zeros(12, 3))
    with pytest.raises(ValueError, match="labels has 11 labels but there are 12 points"):
        triplet_semihard(emb, y[:11])
