"""Training and evaluation of classifiers on in-memory tensors.

The datasets of this book fit in memory, so batches are slices of one tensor moved to the device once: no DataLoader
workers, and the same seed gives the same batches on every machine.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from lib.nets.classifiers import eval_mode, model_device
from lib.pipeline.device import pick_device
from lib.pipeline.widgets import progress_bar

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class History:
    """Per-epoch records (``epoch``, ``loss``, ``acc``, optional ``val_loss``/``val_acc``, ``seconds``) and why
    training stopped (``"target"``: the training accuracy or loss target was reached; ``"budget"``: all epochs
    ran)."""

    epochs: list[dict] = field(default_factory=list)
    stopped: str = "budget"
    best_epoch: int | None = None

    def last(self) -> dict:
        return self.epochs[-1]

    def column(self, key: str) -> list[float]:
        return [e[key] for e in self.epochs]


def seed_everything(seed: int) -> None:
    """Seed torch's CPU and CUDA generators (numpy is never used for randomness in training)."""
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def make_optimizer(name: str, params, lr: float, momentum: float = 0.9, nesterov: bool = False,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """``"adam"``, ``"adamw"`` or ``"sgd"`` (with ``momentum`` and optionally Nesterov)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; use 'adam', 'adamw' or 'sgd'")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, *, batch_size: int = 1024, device: str | torch.device | None = None,
            amp: bool = False) -> torch.Tensor:
    """Model outputs for every row of ``x`` (eval mode, batched), returned on the CPU as float32. ``amp``: under
    bfloat16 autocast on the model's device (CUDA or CPU)."""
    device = torch.device(device) if device is not None else model_device(model)
    outs = []
    with eval_mode(model):
        for start in range(0, len(x), batch_size):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                outs.append(model(x[start:start + batch_size].to(device, non_blocking=True)).float().cpu())
    return torch.cat(outs)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, x: torch.Tensor, *, batch_size: int = 256,
                          device: str | torch.device | None = None) -> None:
    """Recompute every BatchNorm's running statistics as averages over ``x`` (``torch.optim.swa_utils.update_bn``).

    After a short training the running averages (momentum 0.1) still remember their initial values and the earlier
    weights, and eval-mode outputs suffer; this replaces them by the statistics of the final network.
    """
    device = device if device is not None else model_device(model)
    torch.optim.swa_utils.update_bn((x[i:i + batch_size].to(device) for i in range(0, len(x), batch_size)), model)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, loss_fn: LossFn = F.cross_entropy,
             batch_size: int = 1024, amp: bool = False) -> dict[str, float]:
    """Mean loss and accuracy of a classifier on (x, y)."""
    logits = predict(model, x, batch_size=batch_size, amp=amp)
    return {"loss": float(loss_fn(logits, y)), "acc": float((logits.argmax(1) == y).float().mean())}


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, batch_size: int = 128,
          optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.9, nesterov: bool = False,
          weight_decay: float = 0.0, lr_schedule: str | None = None, target_train_acc: float | None = None,
          target_train_loss: float | None = None, loss_fn: LossFn = F.cross_entropy,
          val: tuple[torch.Tensor, torch.Tensor] | None = None, restore_best: bool = False,
          augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
          device: str | torch.device = "auto", amp: bool = False, seed: int = 0, progress: bool = True) -> History:
    """Train ``model`` in place on (x, y) with minibatches; return a :class:`History`.

    Stops after ``epochs`` epochs (a fixed budget) or, with ``target_train_acc`` (e.g. 1.0: fit the training set),
    at the first epoch whose running training accuracy reaches it; with ``target_train_loss`` (e.g. 0.01, the
    cross-entropy at which Jiang et al. 2020 stop), at the first epoch whose running training loss (the mean over the
    epoch's batches) falls to it. With ``val`` the validation loss and accuracy are
    recorded each epoch, and ``restore_best`` reloads the weights of the epoch with the lowest validation loss.
    ``lr_schedule="cosine"`` anneals the learning rate to 0 over ``epochs`` (CosineAnnealingLR, stepped per epoch).
    ``amp`` uses bfloat16 autocast on the model's device (CUDA, or a CPU; no loss scaling is needed for
    bfloat16). ``seed`` fixes the batch order
    and any randomness of ``augment``.
    """
    device = pick_device(device)
    if restore_best and val is None:
        raise ValueError("restore_best needs validation data (val=(x_val, y_val))")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    model.to(device)
    x_dev, y_dev = x.to(device), y.to(device)
    opt = make_optimizer(optimizer, model.parameters(), lr, momentum, nesterov, weight_decay)
    if lr_schedule not in (None, "cosine"):
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}; use None or 'cosine'")
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if lr_schedule else None
    gen = torch.Generator().manual_seed(seed)
    history, best = History(), (float("inf"), None)
    bar = progress_bar(range(1, epochs + 1), desc="train", disable=not progress, leave=False)
    for epoch in bar:
        start, total_loss, correct = time.perf_counter(), 0.0, 0
        model.train()
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            idx = idx.to(device)
            xb, yb = x_dev[idx], y_dev[idx]
            if augment is not None:
                xb = augment(xb, gen)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                out = model(xb)
                loss = loss_fn(out.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total_loss += float(loss.detach()) * len(idx)
            correct += int((out.detach().argmax(1) == yb).sum())
        record = {"epoch": epoch, "loss": total_loss / len(x), "acc": correct / len(x), "lr": opt.param_groups[0]["lr"]}
        if schedule is not None:
            schedule.step()
        if val is not None:
            v = evaluate(model, *val, loss_fn=loss_fn, amp=amp)
            record.update(val_loss=v["loss"], val_acc=v["acc"])
            if restore_best and v["loss"] < best[0]:
                best = (v["loss"], copy.deepcopy(model.state_dict()))
                history.best_epoch = epoch
        record["seconds"] = time.perf_counter() - start
        history.epochs.append(record)
        bar.set_postfix(loss=f"{record['loss']:.3f}", acc=f"{record['acc']:.3f}")
        if (target_train_acc is not None and record["acc"] >= target_train_acc) or \
                (target_train_loss is not None and record["loss"] <= target_train_loss):
            history.stopped = "target"
            break
    if restore_best and best[1] is not None:
        model.load_state_dict(best[1])
    return history
