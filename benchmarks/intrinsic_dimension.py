"""Benchmark: MLE (k=20) and TwoNN of lib.measures.intrinsic_dimension vs scikit-dimension, and K_F at M=1000, on real images.

    python benchmarks/intrinsic_dimension.py [--sizes 5000 20000] [--repeats 3] [--device cpu]

Inputs are MNIST and KMNIST test images (D = 784) from the data root. Both implementations get the same float64
array; values must agree to 1e-9 (relative). The images are 8-bit (k/255), which our search ranks exactly in integers
(``lib.measures.neighbours``); "rotated" rows repeat the measurement on the same points turned by a random orthogonal
matrix (the same distances to 1e-15, no longer on a grid), which our search ranks in float32. "MLE+TwoNN" is the workload of chapter 1 (both estimates of one set):
ours shares one neighbour search (``intrinsic_dimensions``), scikit-dimension runs its two estimators. Times are medians of ``--repeats`` runs, measured side by side in one
process, and reported as ratios (scikit-dimension time / ours). Writes a JSON record with provenance to
book/results/benchmarks/ (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch

from lib.data import load_dataset
from lib.measures.intrinsic_dimension import intrinsic_dimensions, mle_dimension, twonn_dimension
from lib.measures.label_sharpness import label_sharpness
from lib.pipeline.device import describe_device, pick_device
from lib.pipeline.results import REPO_ROOT, code_fingerprint, provenance


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    import skdim

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(REPO_ROOT / "book" / "results" / "benchmarks" / "intrinsic_dimension.json"))
    args = parser.parse_args()
    device = pick_device(args.device)

    images = torch.cat([load_dataset(n, "test").x.flatten(1) for n in ("mnist", "kmnist")]).double()
    images = torch.unique(images, dim=0)  # exact duplicates would make both estimators infinite
    load = os.getloadavg()  # a busy machine slows both sides unevenly: the record says how idle this one was
    rows, start = [], time.perf_counter()
    rotation = torch.linalg.qr(torch.randn(images.shape[1], images.shape[1], dtype=torch.float64,
                                           generator=torch.Generator().manual_seed(1)))[0]
    for n in args.sizes:
        X = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:n]]
        Xn, Xd = X.numpy(), X.to(device)
        Rn, Rd = (X @ rotation).numpy(), (X @ rotation).to(device)
        for name, ours, ref in [
            ("MLE k=20, rotated", lambda: mle_dimension(Rd, 20),
             lambda: skdim.id.MLE().fit(Rn, n_neighbors=20).dimension_),
            ("MLE k=20", lambda: mle_dimension(Xd, 20), lambda: skdim.id.MLE().fit(Xn, n_neighbors=20).dimension_),
            ("TwoNN", lambda: twonn_dimension(Xd), lambda: skdim.id.TwoNN().fit(Xn).dimension_),
            ("MLE+TwoNN", lambda: sum(intrinsic_dimensions(Xd, 20).values()),
             lambda: skdim.id.MLE().fit(Xn, n_neighbors=20).dimension_ + skdim.id.TwoNN().fit(Xn).dimension_),
        ]:
            t_ours, v_ours = median_time(ours, args.repeats)
            t_ref, v_ref = median_time(ref, args.repeats)
            rel = abs(v_ours - v_ref) / abs(v_ref)
            rows.append({"estimator": name, "N": n, "D": X.shape[1], "ours_s": t_ours, "skdim_s": t_ref,
                         "speedup": t_ref / t_ours, "ours": v_ours, "skdim": v_ref, "rel_diff": rel})
            print(f"{name:9s} N={n:6d}: ours {t_ours:7.3f} s  skdim {t_ref:7.3f} s  ratio {t_ref / t_ours:5.1f}x  "
                  f"d={v_ours:.6f} vs {v_ref:.6f} (rel. diff {rel:.1e})", flush=True)
            if rel > 1e-9:
                raise SystemExit(f"values differ by {rel:.2e} > 1e-9")
    sample = load_dataset("mnist", "test", classes=(3, 5))
    t_kf, kf = median_time(lambda: label_sharpness(sample.x.to(device), sample.y, M=1000, seed=0), args.repeats)
    print(f"K_F M=1000 D=784: {t_kf:.3f} s (K_F = {kf:.4g})")
    rows.append({"estimator": "K_F M=1000", "N": 1000, "D": 784, "ours_s": t_kf, "value": kf})
    record = {"benchmark": "intrinsic_dimension", "rows": rows,
              "provenance": provenance(time.perf_counter() - start, describe_device(device),
                                            code_fingerprint(intrinsic_dimensions)),
              "repeats": args.repeats,
              "data": "MNIST + KMNIST test images, deduplicated, float64, [0, 1] scale",
              "load_average_1_5_15min_before": load}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
