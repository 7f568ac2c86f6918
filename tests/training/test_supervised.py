"""The training loop: reaches a target, is deterministic under a seed, restores the best validation epoch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lib.nets.classifiers import FCNet
from lib.training.supervised import evaluate, make_optimizer, predict, recalibrate_batchnorm, train


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


def test_trains_to_the_training_loss_target():
    """Jiang et al.'s stopping rule: the first epoch whose mean training cross-entropy is <= 0.01."""
    x, y = blobs()
    torch.manual_seed(0)
    model = FCNet(2, (16,), 2)
    hist = train(model, x, y, epochs=300, batch_size=32, lr=0.05, target_train_loss=0.01, device="cpu",
                 progress=False)
    losses = hist.column("loss")
    assert hist.stopped == "target" and losses[-1] <= 0.01 and all(v > 0.01 for v in losses[:-1])


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


def test_cosine_schedule_anneals_the_learning_rate():
    torch.manual_seed(0)
    x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    hist = train(FCNet(4, (8,), 2), x, y, epochs=4, optimizer="sgd", lr=0.1, lr_schedule="cosine", progress=False,
                 device="cpu")
    lrs = hist.column("lr")
    assert lrs[0] == pytest.approx(0.1) and lrs[2] == pytest.approx(0.05)  # 0.1 * (1 + cos(pi t / 4)) / 2
    with pytest.raises(ValueError, match="lr_schedule"):
        train(FCNet(4, (8,), 2), x, y, epochs=1, lr_schedule="step", progress=False, device="cpu")


def test_predict_runs_a_model_without_parameters_on_the_cpu():
    out = predict(torch.nn.Flatten(), torch.ones(3, 2, 2), batch_size=2)
    assert out.shape == (3, 4) and out.device.type == "cpu"


def test_batchnorm_recalibration_gives_the_data_statistics():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    x = 5 + 2 * torch.randn(512, 3)
    recalibrate_batchnorm(model, x, batch_size=128)
    with torch.no_grad():
        h = model[0](x)
    assert torch.allclose(model[1].running_mean, h.mean(0), atol=1e-5)
    assert torch.allclose(model[1].running_var, h.var(0), rtol=0.02)  # mean of per-batch unbiased variances


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        make_optimizer("rmsprop", FCNet(2, (2,), 2).parameters(), 0.1)
    x, y = blobs(n=10)
    with pytest.raises(ValueError, match="restore_best needs validation data"):
        train(FCNet(2, (2,), 2), x, y, epochs=1, restore_best=True, device="cpu", progress=False)
    with pytest.raises(ValueError, match="x has 10 rows but y has 9"):
        train(FCNet(2, (2,), 2), x, y[:9], epochs=1, device="cpu", progress=False)
