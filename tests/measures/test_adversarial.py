"""FGSM and PGD refuse inputs outside their clip range instead of clamping them silently (issue 16)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lib.measures.adversarial import fgsm_loss_penalty, pgd_path


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(8, 3))


def images(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 1, 4, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_eps_zero_gives_zero_penalty_on_images_in_the_unit_interval():
    x, y = images()
    net = small_net().train()
    (row,) = fgsm_loss_penalty(net, x, y, eps=[0.0])
    assert row["loss_penalty"] == pytest.approx(0.0, abs=1e-6) and row["acc_penalty"] == 0.0
    assert net.training and net[4].training  # modes restored
    assert fgsm_loss_penalty(net, x, y[:, None], eps=[0.0]) == [row]  # labels (N, 1) as MedMNIST stores them


def test_pre_normalised_inputs_are_refused_not_clamped():
    """Was a loss penalty of -0.031 at eps = 0 (the inputs clamped into [0, 1] silently)."""
    x, y = images()
    with pytest.raises(ValueError, match=r"x has values in \[-0.39.*, 2.8.*\], outside \[0, 1\]: FGSM clips"):
        fgsm_loss_penalty(small_net(), (x - 0.1307) / 0.3081, y, eps=[0.0])
    with pytest.raises(ValueError, match="eps must be a non-empty sequence of finite budgets >= 0"):
        fgsm_loss_penalty(small_net(), x, y, eps=[-0.1])
    with pytest.raises(ValueError, match="PGD clips every iterate"):
        pgd_path(x - 0.5, lambda a: a.sum())
