"""The training loop: reaches a target, is deterministic under a seed, restores the best validation epoch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lib.models import FCNet
from lib.train import evaluate, make_optimizer, predict, train


def blobs(n: int = 200, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) * 0.3 + torch.stack([y * 3.0, y * 3.0], 1)
    return x, y


def test_trains_to_the_training_accuracy_target():
    x, y = blobs()
    torch.manual_seed(0)
    model = FCNet(2, (16,), 2)
    hist = train(model, x, y, epochs=50, batch_size=32, lr=0.05, target_train_acc=1.0, device="cpu", progress=False)
    assert hist.stopped == "target" and len(hist.epochs) < 50
    assert hist.last()["acc"] == 1.0
    assert evaluate(model, x, y)["acc"] == 1.0


def test_same_seed_same_run_different_seed_different_run():
    x, y = blobs()
    runs = []
    for seed in (1, 1, 2):
        torch.manual_seed(0)
        model = FCNet(2, (8,), 2)
        hist = train(model, x, y, epochs=3, batch_size=16, optimizer="sgd", lr=0.1, seed=seed, device="cpu",
                     progress=False)
        runs.append((hist.column("loss"), model.net[1].weight.detach().clone()))
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])
    assert runs[0][0] != runs[2][0]


def test_restore_best_reloads_the_lowest_validation_loss_epoch():
    x, y = blobs(seed=0)
    xv, yv = blobs(n=50, seed=1)
    torch.manual_seed(0)
    model = FCNet(2, (16,), 2)
    hist = train(model, x, y, epochs=8, lr=0.3, optimizer="sgd", val=(xv, yv), restore_best=True, device="cpu",
                 progress=False)
    val_losses = hist.column("val_loss")
    assert hist.best_epoch == 1 + val_losses.index(min(val_losses))
    assert evaluate(model, xv, yv)["loss"] == pytest.approx(min(val_losses), rel=1e-5)


def test_evaluate_matches_a_manual_cross_entropy():
    x, y = blobs(n=30)
    model = FCNet(2, (4,), 2)
    logits = model(x).detach()
    out = evaluate(model, x, y, batch_size=7)
    assert out["loss"] == pytest.approx(float(F.cross_entropy(logits, y)), rel=1e-6)
    assert out["acc"] == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    assert torch.allclose(predict(model, x, batch_size=4), logits, atol=1e-6)


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        make_optimizer("rmsprop", FCNet(2, (2,), 2).parameters(), 0.1)
    x, y = blobs(n=10)
    with pytest.raises(ValueError, match="restore_best needs validation data"):
        train(FCNet(2, (2,), 2), x, y, epochs=1, restore_best=True, device="cpu", progress=False)
    with pytest.raises(ValueError, match="x has 10 rows but y has 9"):
        train(FCNet(2, (2,), 2), x, y[:9], epochs=1, device="cpu", progress=False)
