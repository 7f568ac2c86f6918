"""empirical_ntk on networks with BatchNorm and Dropout left in train mode (issue 16): eval mode, restored after."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lib.measures.ntk import empirical_ntk


def test_train_mode_model_is_evaluated_in_eval_mode_and_restored():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), nn.BatchNorm1d(7), nn.ReLU(), nn.Dropout(0.3), nn.Linear(7, 1)).double()
    with torch.no_grad():  # non-trivial running statistics
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
    x = torch.randn(9, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    net.train()
    K = empirical_ntk(net, x, chunk=4)
    assert net.training and all(m.training for m in net.modules())
    # Known answer: the Gram matrix of the per-sample gradients of the eval-mode network, by plain autograd.
    net.eval()
    rows = []
    for xi in x:
        net.zero_grad()
        net(xi[None]).sum().backward()
        rows.append(torch.cat([p.grad.flatten() for p in net.parameters()]))
    J = torch.stack(rows)
    assert torch.allclose(K, J @ J.T, rtol=1e-10, atol=1e-12)
    assert net[1].num_batches_tracked == 0  # no running-statistics update happened


def test_vector_output_is_a_clear_error():
    with pytest.raises(ValueError, match=r"one scalar output per input; Linear gives \(3,\)"):
        empirical_ntk(nn.Linear(4, 3), torch.randn(5, 4))
