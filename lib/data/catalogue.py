"""What the registry knows, and what is on disk: the tables of the book's data page."""

from __future__ import annotations

import os

import numpy as np

from lib.data.fetch import human_size
from lib.data.registry import SPECS, ImageData, find_files


def catalogue(root: str | os.PathLike | None = None) -> list[dict]:
    """One row per registered dataset: name, title, kind, domain, classes, image size, license, source,
    the splits found under the data roots now (``offline``), those a download adds (``after download``) and the size
    of all its official files (``download``; ``~``: approximate)."""
    rows = []
    for spec in SPECS.values():
        here = [s for s in spec.splits if find_files(spec.name, s, root) is not None]  # on disk (stand-ins not)
        fetchable = [s for s in spec.splits if s not in here and spec.downloads is not None]
        size = "D (any)" if spec.kind == "synthetic" else f"{spec.channels}x{spec.size[0]}x{spec.size[1]}"
        remotes = {r.path: r for s in spec.splits for r in (spec.downloads(s) if spec.downloads else ())}.values()
        rows.append({"name": spec.name, "title": spec.title, "kind": spec.kind, "domain": spec.domain,
                     "classes": spec.num_classes, "C x H x W": size, "license": spec.license,
                     "offline": ", ".join(here) or "none", "after download": ", ".join(fetchable) or "—",
                     "download": (human_size(sum(r.size for r in remotes), all(r.size_exact for r in remotes))
                                  if remotes else "—"),
                     "source": spec.source})
    return rows


def split_summary(data: ImageData) -> dict:
    """Size, value range and class balance of one loaded split, and whether its files are the official release's
    (``"md5 of the official release"``, ``"NOT verified: ..."`` for a file placed by hand, or ``"no checksum"``)."""
    counts = np.bincount(data.y.numpy(), minlength=data.spec.num_classes or 1)
    return {"dataset": data.spec.name, "split": data.split, "N": len(data), "shape": "x".join(map(str, data.x.shape[1:])),
            "min": float(data.x.min()), "max": float(data.x.max()), "mean": float(data.x.mean()),
            "classes": int((counts > 0).sum()), "smallest class": int(counts[counts > 0].min()),
            "largest class": int(counts.max()), "files": data.provenance()["verified"]}
