"""Datasets: a registry of real, embedded and synthetic data returned as float images in [0, 1]."""

from lib.data.catalogue import catalogue, split_summary
from lib.data.manifolds import MANIFOLDS
from lib.data.photo import demo_photo
from lib.data.registry import (SPECS, DatasetNotFoundError, DatasetSpec, ImageData, balanced_indices, convert_channels,
                               find_files, get_spec, image_pool, is_available, load_dataset, present, resize,
                               stand_ins_in_use)
from lib.data.root import ENV_VAR, cache_root, data_roots

__all__ = ["SPECS", "MANIFOLDS", "ENV_VAR", "DatasetNotFoundError", "DatasetSpec", "ImageData", "balanced_indices",
           "cache_root", "catalogue", "convert_channels", "data_roots", "demo_photo", "find_files", "get_spec",
           "image_pool", "is_available", "load_dataset", "present", "resize", "split_summary", "stand_ins_in_use"]
