"""Profiles resolve to configurations; unknown profiles, keys and devices are explained."""

from __future__ import annotations

import pytest
import torch

from lib.pipeline.device import pick_device
from lib.pipeline.profiles import ProfileError, resolve_profile

TABLE = {"smoke": {"n": 10, "model": "fc"}, "book": {"n": 500, "model": "lenet"}, "paper": {"n": 5000, "model": "resnet18"}}


def test_profile_values_and_overrides():
    cfg = resolve_profile("book", TABLE)
    assert (cfg.profile, cfg.n, cfg.model) == ("book", 500, "lenet")
    assert resolve_profile("book", TABLE, n=7, model=None).n == 7  # None means "the profile's value"


def test_profile_errors_list_the_valid_choices():
    with pytest.raises(ProfileError, match="valid profiles: smoke, book, paper"):
        resolve_profile("fast", TABLE)
    with pytest.raises(ProfileError, match=r"overrides \['width'\] are not settings"):
        resolve_profile("book", TABLE, width=3)
    with pytest.raises(ProfileError, match="lacks \\['paper'\\]"):
        resolve_profile("book", {k: v for k, v in TABLE.items() if k != "paper"})
    with pytest.raises(ProfileError, match="has keys"):
        resolve_profile("book", {**TABLE, "paper": {"n": 1}})


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            pick_device("cuda")
