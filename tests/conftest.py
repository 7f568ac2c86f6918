"""Shared fixtures: the offline data root (../shared/data or $GG_DATA_ROOT)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


def _offline_root() -> Path | None:
    for candidate in (os.environ.get("GG_DATA_ROOT"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "MNIST").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real-data root; tests that need it are skipped, with the reason, where it is absent."""
    root = _offline_root()
    if root is None:
        pytest.skip("no offline data root: set GG_DATA_ROOT to a folder like ../shared/data")
    return root
