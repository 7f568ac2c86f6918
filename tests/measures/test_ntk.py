"""Kernel-target alignment against its closed cases (the NTK itself is tested in tests/training/test_gradient_flow.py
and tests/experiments/test_compressing_invariants_parity.py, with the nets that chapter 3 trains)."""

from __future__ import annotations

import pytest
import torch

from lib.measures.ntk import kernel_alignment


def test_alignment_of_the_label_kernel_is_one_and_of_a_blind_kernel_is_small():
    y = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    assert kernel_alignment(torch.outer(y, y) * 3.0, y) == pytest.approx(1.0)
    assert kernel_alignment(torch.eye(6), y) == pytest.approx(6 / (6 ** 0.5 * 6))  # y^T y / (||I||_F n)
    assert kernel_alignment(-torch.outer(y, y), y) == pytest.approx(-1.0)


def test_alignment_by_hand():
    y = torch.tensor([1, -1, 1])
    K = torch.tensor([[2.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
    expected = float(y.double() @ K.double() @ y.double()) / (float(torch.linalg.matrix_norm(K)) * 3)
    assert kernel_alignment(K, y) == pytest.approx(expected)


@pytest.mark.parametrize("K, y, match", [
    (torch.ones(3, 2), torch.tensor([1, -1, 1]), "must be"),
    (torch.eye(3), torch.tensor([0, 1, 1]), "-1 and \\+1"),
    (torch.zeros(3, 3), torch.tensor([1, -1, 1]), "identically zero"),
])
def test_bad_kernels_and_labels_are_refused(K, y, match):
    with pytest.raises(ValueError, match=match):
        kernel_alignment(K, y)
