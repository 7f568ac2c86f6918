"""The shared argument checks: accepted forms, and errors that name the argument, the value and what is valid."""

from __future__ import annotations

import pytest
import torch

from lib.pipeline.checks import as_labels, as_points, check_unit_interval


def test_as_points_flattens_and_refuses_bad_input_by_name():
    assert as_points(torch.zeros(4, 2, 3)).shape == (4, 6)
    with pytest.raises(ValueError, match=r"Z must be points of shape \(N, \.\.\.\) .* got \(5,\)"):
        as_points(torch.zeros(5), "Z")
    with pytest.raises(TypeError, match="X must have a real dtype"):
        as_points(torch.zeros(3, 2, dtype=torch.bool))
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        as_points([[0.0, 1.0]])


def test_as_points_finite_check_survives_an_overflowing_sum():
    # the check sums X first (one reduction) and looks entry by entry only when the sum is not finite
    huge = torch.full((3, 2), 1e308, dtype=torch.float64)
    assert as_points(huge) is not None  # finite points whose sum overflows are accepted
    huge[2, 1] = float("nan")
    with pytest.raises(ValueError, match=r"NaN or infinite values \(in 1 of 3 points, first at row 2\)"):
        as_points(huge)
    with pytest.raises(ValueError, match="NaN or infinite"):
        as_points(torch.tensor([[float("inf"), 0.0], [float("-inf"), 0.0]]))  # inf - inf: the sum is NaN


def test_as_labels_accepts_n_and_n_by_1_integer_like_labels():
    assert as_labels(torch.tensor([[1], [0], [2]], dtype=torch.uint8)).tolist() == [1, 0, 2]
    assert as_labels(torch.tensor([1.0, 0.0]), 2).dtype == torch.int64
    with pytest.raises(ValueError, match="whole-number class labels"):
        as_labels(torch.tensor([0.5, 1.0]))
    with pytest.raises(ValueError, match="whole-number class labels"):
        as_labels(torch.tensor([float("nan"), 1.0]))


def test_check_unit_interval_names_the_range_found():
    check_unit_interval(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"img has values in \[-1, 1\], outside \[0, 1\]: for FGSM"):
        check_unit_interval(torch.tensor([-1.0, 1.0]), "img", "for FGSM")
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_unit_interval(torch.tensor([float("nan")]))
