"""Benchmark: streaming RM characteristics and one-path PGD (lib) vs the released RMQM pipeline's algorithms.

    python benchmarks/manifold_quality.py [--images 2000] [--pgd-images 256]

Three comparisons, each in one run on the same inputs:

1. Metrics on fixed float32 embeddings (10,000 walks x 100 steps x 128 dims): ``lib.measures.manifold_quality`` (two row-wise
   norms, 256 walks at a time, as the streaming pipeline)
   vs the authors' ``calculate_pointwise_distances_metrics`` + pandas ``pct_change`` (a full J x J cdist per image),
   re-run by ``lib.measures.manifold_quality.reference_metrics``; values must agree to 1e-6.
2. The noise sweep end to end on a LeNet encoder and ``--images`` MNIST test images: ours (all 100 alterations of a
   batch in one forward, distances streamed) vs the authors' loop (for each eps, the whole set through the encoder
   in batches of 128, embeddings appended with ``np.concatenate``, a sorted DataFrame, then the metrics).
3. PGD: one 30-step path (30 gradient steps per image) vs the authors' restart per iteration count (435 steps),
   counted and timed on ``--pgd-images`` images with the cross-entropy loss.

Writes book/results/benchmarks/manifold_quality.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from lib.data import load_dataset
from lib.measures.adversarial import pgd_path
from lib.measures.manifold_quality import (manifold_characteristics, measure_walks, noise_walk, reference_metrics,
                                           walk_distances)
from lib.nets.classifiers import LeNetEncoder
from lib.pipeline.results import write_benchmark
from lib.training.contrastive import method_loss

KEYS = (("D", "D"), ("D_prev", "D_prev"), ("D_RC", "spike"), ("P_RC", "spike_prev"))


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def bench_metrics(n: int = 10000, steps: int = 100, dim: int = 128) -> dict:
    g = torch.Generator().manual_seed(0)
    walks = torch.randn(n, 1, dim, generator=g) + 0.1 * torch.randn(n, steps, dim, generator=g).cumsum(1)
    def ours_metrics():  # as the streaming pipeline computes them: batch by batch of 256 walks
        parts = [walk_distances(walks[i:i + 256]) for i in range(0, n, 256)]
        return manifold_characteristics(*(torch.cat(d).double() for d in zip(*parts)), variant="code")

    ours, t_ours = timed(ours_metrics)
    ref, t_ref = timed(reference_metrics, walks.reshape(n * steps, dim), steps)
    diff = max(abs(ours[a] - ref[b]) for a, b in KEYS)
    return {"walks": n, "steps": steps, "dim": dim, "ours_s": t_ours, "reference_s": t_ref,
            "speedup": t_ref / t_ours, "max_abs_diff": diff}


def reference_noise_sweep(encoder, x: torch.Tensor, steps: int, seed: int) -> dict:
    """The authors' generate_embeddings loop: per eps, every batch through the encoder, np.concatenate per batch."""
    gen = torch.Generator().manual_seed(seed)
    frames = []
    with torch.no_grad():
        for j, eps in enumerate(np.linspace(0, 1, steps)):
            points = np.zeros((1, encoder.features[-1].out_features))
            for start in range(0, len(x), 128):
                xb = x[start:start + 128]
                xb = (xb + float(eps) * torch.randn(xb.shape, generator=gen)).clamp(0, 1)
                points = np.concatenate((points, encoder(xb).numpy()))
            frame = pd.DataFrame(points[1:])
            frame["noise"] = j
            frame["image_index"] = np.arange(len(x))
            frames.append(frame)
    df = pd.concat(frames).sort_values(["image_index", "noise"]).drop(["noise", "image_index"], axis=1)
    return reference_metrics(df.values, steps)


def bench_noise_sweep(encoder, x: torch.Tensor, steps: int = 100) -> dict:
    (d_orig, d_prev), t_ours = timed(measure_walks, encoder, x, noise_walk, seed=0)
    ours = manifold_characteristics(d_orig, d_prev, variant="code")
    ref, t_ref = timed(reference_noise_sweep, encoder, x, steps, 0)
    return {"images": len(x), "steps": steps, "forward_passes": len(x) * steps, "ours_s": t_ours,
            "reference_s": t_ref, "speedup": t_ref / t_ours, "ours_D": ours["D"], "reference_D": ref["D"],
            "note": "different noise draws: D agrees statistically, not to the bit"}


def bench_pgd(encoder, x: torch.Tensor, y: torch.Tensor, steps: int = 30) -> dict:
    calls = {"n": 0}

    def loss(a):
        calls["n"] += 1
        return method_loss("cross_entropy", encoder, a, y)

    path, t_ours = timed(pgd_path, x, loss, steps=steps)
    ours_calls = calls["n"]
    calls["n"] = 0
    start = time.perf_counter()
    restarted = [pgd_path(x, loss, steps=j)[:, -1] for j in range(steps)]  # the authors: iterations 0..steps-1
    t_ref = time.perf_counter() - start
    same = max(float((path[:, j] - r).abs().max()) for j, r in enumerate(restarted))
    return {"images": len(x), "steps": steps, "ours_gradient_steps": ours_calls, "reference_gradient_steps": calls["n"],
            "ours_s": t_ours, "reference_s": t_ref, "speedup": t_ref / t_ours,
            "max_abs_diff_same_iterates": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--pgd-images", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(2)
    start = time.perf_counter()
    torch.manual_seed(0)
    encoder = LeNetEncoder(128, 10).eval()
    test = load_dataset("mnist", "test")
    record = {"benchmark": "manifold_quality", "metrics": bench_metrics()}
    m = record["metrics"]
    print(f"metrics on {m['walks']} x {m['steps']} x {m['dim']}: ours {m['ours_s']:.2f} s, pandas pipeline "
          f"{m['reference_s']:.2f} s ({m['speedup']:.0f}x), max diff {m['max_abs_diff']:.1e}", flush=True)
    record["noise_sweep"] = bench_noise_sweep(encoder, test.x[:args.images])
    s = record["noise_sweep"]
    print(f"noise sweep {s['images']} x {s['steps']}: ours {s['ours_s']:.1f} s, loop {s['reference_s']:.1f} s "
          f"({s['speedup']:.1f}x); D {s['ours_D']:.4f} vs {s['reference_D']:.4f}", flush=True)
    record["pgd"] = bench_pgd(encoder, test.x[:args.pgd_images], test.y[:args.pgd_images])
    p = record["pgd"]
    print(f"PGD {p['images']} images: {p['ours_gradient_steps']} vs {p['reference_gradient_steps']} gradient steps, "
          f"{p['ours_s']:.1f} s vs {p['reference_s']:.1f} s ({p['speedup']:.1f}x), iterates equal to "
          f"{p['max_abs_diff_same_iterates']:.1e}")
    write_benchmark("manifold_quality", record, time.perf_counter() - start, "cpu (2 threads)")


if __name__ == "__main__":
    main()
