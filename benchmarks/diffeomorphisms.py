"""Benchmark: batched max-entropy diffeomorphisms (lib.measures.diffeomorphisms) vs the authors' per-image algorithm.

    python benchmarks/diffeomorphisms.py [--images 500] [--temperatures 30]

The authors' protocol (diffeo-sota ``diffeo_imgs``) calls pcsl ``deform`` once per image: sample a c x c Gaussian
field by einsum, then remap with clamped floor/ceil gathers; for Gaussian interpolation a dense n^2 x n^2 kernel.
We time that loop (``lib.measures.diffeomorphisms.remap_reference`` plus a per-image field, as the library) against one batched call
(``lib.measures.diffeomorphisms.deform``: one einsum for all fields + ``grid_sample``; a windowed Gaussian kernel), on MNIST test
images (28 px, 1 channel) and on random 3x32x32 images, over cuts (3, 5, 15) and ``--temperatures`` temperatures.
Equality is checked on identical fields. Also times R_f of a ResNet-18 on 500 probes on this CPU. Writes
book/results/benchmarks/diffeomorphisms.json.
"""

from __future__ import annotations

import argparse
import functools
import math
import time

import torch

from lib.data import load_dataset
from lib.measures.diffeomorphisms import (GAUSSIAN_SIGMA, deform, mode_weights, remap, remap_reference,
                                          sample_displacement, sine_basis, temperature_for_delta)
from lib.measures.relative_stability import relative_stability
from lib.nets.classifiers import build_model
from lib.pipeline.results import write_benchmark

CUTS = (3, 5, 15)


@functools.lru_cache(maxsize=None)
def modes(n: int, c: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mode weights and sine basis, cached as the library's ``scalar_field_modes`` is."""
    e = mode_weights(c, torch.float32)
    return e, sine_basis(n, e.shape[0], torch.float32)


def reference_deform(image: torch.Tensor, T: float, c: float) -> torch.Tensor:
    """The library's ``deform`` for one image: one field (two c x c Gaussian coefficient sets), then ``remap``."""
    n = image.shape[-1]
    e, s = modes(n, c)
    u = torch.einsum("ij,xi,yj->yx", torch.randn(e.shape) * e, s, s)
    v = torch.einsum("ij,xi,yj->yx", torch.randn(e.shape) * e, s, s)
    return remap_reference(image, math.sqrt(T) * n * u, math.sqrt(T) * n * v)


def dense_gaussian(image: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """The library's Gaussian interpolation for one image: an n^2 x n^2 weight matrix, normalised per output pixel."""
    n = image.shape[-1]
    grid = torch.arange(n, dtype=dx.dtype)
    xs = (grid[None, :] - dx).clamp(0, n - 1).flatten()
    ys = (grid[:, None] - dy).clamp(0, n - 1).flatten()
    px, py = grid.repeat(n), grid.repeat_interleave(n)
    w = torch.exp(-((xs[:, None] - px) ** 2 + (ys[:, None] - py) ** 2) / (2 * GAUSSIAN_SIGMA ** 2))
    w = w / w.sum(1, keepdim=True)
    return (image.reshape(-1, n * n) @ w.T.to(image.dtype)).reshape(image.shape)


def temperatures(n: int, c: float, count: int) -> list[float]:
    """The authors' sweep: log-spaced from T(delta=1)/15 up to 2 T_max (no-overhang bound 4 / (pi^3 c^2 ln c))."""
    t_max = 4 / (math.pi ** 3 * c * c * math.log(c))
    lo, hi = temperature_for_delta(1.0, c, n) / 15, 2 * t_max
    return torch.logspace(math.log10(lo), math.log10(hi), count).tolist()


def bench_bilinear(images: torch.Tensor, n_temps: int) -> dict:
    n, total = images.shape[-1], 0
    t_loop = t_ours = 0.0
    max_diff = 0.0
    gen = torch.Generator().manual_seed(0)
    for c in CUTS:
        for T in temperatures(n, c, n_temps):
            t0 = time.perf_counter()
            torch.stack([reference_deform(im, T, c) for im in images])
            t_loop += time.perf_counter() - t0
            t0 = time.perf_counter()
            deform(images, T, c, generator=gen)
            t_ours += time.perf_counter() - t0
            total += len(images)
        field = sample_displacement(len(images), n, temperatures(n, c, n_temps)[-1], c, generator=gen)
        looped = torch.stack([remap_reference(im, f[0], f[1]) for im, f in zip(images, field)])
        max_diff = max(max_diff, float((remap(images, field) - looped).abs().max()))
    return {"deformations": total, "loop_img_per_s": total / t_loop, "ours_img_per_s": total / t_ours,
            "speedup": t_loop / t_ours, "max_abs_diff_same_field": max_diff}


def bench_gaussian(images: torch.Tensor, n_dense: int) -> dict:
    n = images.shape[-1]
    gen = torch.Generator().manual_seed(1)
    T = temperature_for_delta(1.0, 3, n)
    field = sample_displacement(len(images), n, T, 3, generator=gen)
    t0 = time.perf_counter()
    dense = torch.stack([dense_gaussian(im.double(), f[0], f[1]) for im, f in zip(images[:n_dense], field)])
    t_dense = (time.perf_counter() - t0) / n_dense
    t0 = time.perf_counter()
    ours = remap(images, field, "gaussian")
    t_ours = (time.perf_counter() - t0) / len(images)
    return {"dense_img_per_s": 1 / t_dense, "ours_img_per_s": 1 / t_ours, "speedup": t_dense / t_ours,
            "max_abs_diff_vs_dense": float((ours[:n_dense].double() - dense).abs().max())}


def bench_many_diffeos(images: torch.Tensor, per_image: int) -> dict:
    """Deform every probe ``per_image`` times (one T per round): the deformation side of R_f at scale."""
    n = images.shape[-1]
    gen = torch.Generator().manual_seed(2)
    T = temperature_for_delta(1.0, 3, n)
    t0 = time.perf_counter()
    for _ in range(per_image):
        deform(images, T, 3, generator=gen)
    wall = time.perf_counter() - t0
    return {"images": len(images), "diffeos_per_image": per_image, "seconds": wall,
            "img_per_s": len(images) * per_image / wall}


def bench_rf(images: torch.Tensor) -> list[dict]:
    rows = []
    for width in (1.0, 0.25):
        model = build_model("resnet18", 10, images.shape[1], images.shape[-1], seed=0, width=width).eval()
        t0 = time.perf_counter()
        out = relative_stability(model, images, temperature_for_delta(1.0, 3, images.shape[-1]), 3)
        wall = time.perf_counter() - t0
        rows.append({"model": f"resnet18 (width {width})", "probes": len(images), "seconds": wall, "R_f_init": out["R"],
                     "forward_img_per_s": 3 * len(images) / wall})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--temperatures", type=int, default=30)
    parser.add_argument("--dense", type=int, default=50, help="images for the O(n^4) dense Gaussian baseline")
    parser.add_argument("--diffeos", type=int, default=1000, help="diffeomorphisms per probe for the scale test")
    args = parser.parse_args()
    torch.set_num_threads(2)
    start = time.perf_counter()
    mnist = load_dataset("mnist", "test").x[: args.images]
    synthetic = torch.rand(args.images, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    record = {"benchmark": "diffeomorphisms", "cuts": CUTS, "temperatures": args.temperatures, "rows": []}
    for name, images in (("MNIST 1x28x28", mnist), ("random 3x32x32", synthetic)):
        row = {"images": name, "bilinear": bench_bilinear(images, args.temperatures),
               "gaussian": bench_gaussian(images, args.dense)}
        record["rows"].append(row)
        b, g = row["bilinear"], row["gaussian"]
        print(f"{name}: bilinear loop {b['loop_img_per_s']:.0f} img/s, batched {b['ours_img_per_s']:.0f} img/s "
              f"({b['speedup']:.0f}x), max diff {b['max_abs_diff_same_field']:.1e}; gaussian dense "
              f"{g['dense_img_per_s']:.0f} img/s, windowed batched {g['ours_img_per_s']:.0f} img/s ({g['speedup']:.0f}x), "
              f"max diff {g['max_abs_diff_vs_dense']:.1e}", flush=True)
    record["many_diffeos"] = bench_many_diffeos(mnist, args.diffeos)
    print(f"{args.images} probes x {args.diffeos} diffeos: {record['many_diffeos']['seconds']:.1f} s", flush=True)
    record["r_f"] = bench_rf(mnist)
    for r in record["r_f"]:
        print(f"R_f of {r['model']} on {r['probes']} probes: {r['seconds']:.1f} s "
              f"({r['forward_img_per_s']:.0f} forward img/s)")
    write_benchmark("diffeomorphisms", record, time.perf_counter() - start, "cpu (2 threads)")


if __name__ == "__main__":
    main()
