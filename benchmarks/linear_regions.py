"""Benchmark: exact region counting of lib.measures.linear_regions vs the paper's per-neuron SLSQP root solving.

    python benchmarks/linear_regions.py [--nets 5] [--vertices 400]

Tiwari et al. (App. H) add neurons one at a time, layer by layer, and solve |z(x) - b_z| = 0 on the curve with
SLSQP, splitting a region where a root is found. We re-implement that literally with scipy (one SLSQP call per
neuron and current interval, started at a seeded random point of it, bounded to it), on the same random 2-10-16-1 nets and the same
curves (circle on (-pi, pi), tractrix on (-3, 3)). Ours counts on a polyline of ``--vertices`` points, batched over
all nets; its counts are checked to be stable under doubling the vertices. Reports counts, how many crossings SLSQP
misses, and the time ratio, and writes book/results/benchmarks/linear_regions.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from scipy.optimize import minimize

from lib.measures.linear_regions import circle, count_along_polylines, relu_layers, tractrix
from lib.nets.classifiers import FCNet
from lib.pipeline.results import REPO_ROOT, provenance

CURVES = {"circle": (circle, -math.pi, math.pi), "tractrix": (tractrix, -3.0, 3.0)}


def slsqp_count(layers, psi, lo: float, hi: float, seed: int = 0) -> int:
    """Regions along psi([lo, hi]) by per-neuron SLSQP, as described in the paper's App. H.

    Each call starts at a seeded random point of its interval (the paper does not say where; the midpoint of
    (-3, 3) is the tractrix's cusp, where dz/dt = 0 and SLSQP cannot move)."""
    rng = np.random.default_rng(seed)
    intervals = [(lo, hi)]
    h_fn = lambda th: torch.as_tensor(np.atleast_1d(th), dtype=torch.float64)  # noqa: E731
    for li, (W, b) in enumerate(layers[:-1]):
        for n in range(W.shape[0]):
            def z(th, li=li, n=n):
                h = psi(h_fn(th))
                for Wk, bk in layers[:li]:
                    h = torch.relu(h @ Wk.T + bk)
                return float((h @ W[n] + b[n])[0])
            split = []
            for a, c in intervals:
                res = minimize(lambda v: z(v[0]) ** 2, x0=[rng.uniform(a, c)], method="SLSQP", bounds=[(a, c)],
                               options={"ftol": 1e-14, "maxiter": 200})
                root = float(res.x[0])
                if res.fun < 1e-12 and a + 1e-9 < root < c - 1e-9:  # |z| < 1e-6 at the solution
                    split += [(a, root), (root, c)]
                else:
                    split.append((a, c))
            intervals = split
    return len(intervals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", type=int, default=5)
    parser.add_argument("--vertices", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1000, help="random circles per net for the batched timing")
    args = parser.parse_args()
    torch.set_num_threads(1)  # both methods work on tiny tensors, where threads only add overhead
    nets = []
    for seed in range(args.nets):
        torch.manual_seed(seed)
        nets.append(relu_layers(FCNet(2, (10, 16), 1)))
    rows, start = [], time.perf_counter()
    for name, (psi, lo, hi) in CURVES.items():
        params = torch.linspace(lo, hi, args.vertices + 1, dtype=torch.float64)
        finer = torch.linspace(lo, hi, 2 * args.vertices + 1, dtype=torch.float64)
        count_along_polylines(nets[0], psi(params)[None])  # warm-up: time steady-state calls only
        t0 = time.perf_counter()
        ours = [count_along_polylines(L, psi(params)[None]).regions.item() for L in nets]
        t_ours = (time.perf_counter() - t0) / len(nets)
        stable = [count_along_polylines(L, psi(finer)[None]).regions.item() for L in nets]
        t0 = time.perf_counter()
        slsqp = [slsqp_count(L, psi, lo, hi) for L in nets]
        t_slsqp = (time.perf_counter() - t0) / len(nets)
        missed = int(sum(max(0, o - s) for o, s in zip(ours, slsqp)))
        rows.append({"curve": name, "ours": ours, "ours_refined": stable, "slsqp": slsqp, "slsqp_missed": missed,
                     "ours_s_per_curve": t_ours, "slsqp_s_per_curve": t_slsqp, "speedup": t_slsqp / t_ours})
        print(f"{name:8s}: ours {ours} (x2 vertices: {stable}), SLSQP {slsqp}; SLSQP misses {missed} crossings; "
              f"{t_ours * 1e3:.1f} ms vs {t_slsqp * 1e3:.0f} ms per curve: {t_slsqp / t_ours:.0f}x", flush=True)
    # Batched: many curves of one net in one call (random circles: centres in [-0.5, 0.5]^2, radii in [0.5, 1.5]).
    g = torch.Generator().manual_seed(0)
    centres = torch.rand(args.batch, 1, 2, generator=g, dtype=torch.float64) - 0.5
    radii = 0.5 + torch.rand(args.batch, 1, 1, generator=g, dtype=torch.float64)
    theta = torch.linspace(-math.pi, math.pi, args.vertices + 1, dtype=torch.float64)
    curves = centres + radii * circle(theta)[None]
    t0 = time.perf_counter()
    batched = count_along_polylines(nets[0], curves)
    t_batch = (time.perf_counter() - t0) / args.batch
    theta2 = torch.linspace(-math.pi, math.pi, 2 * args.vertices + 1, dtype=torch.float64)
    refined = count_along_polylines(nets[0], centres + radii * circle(theta2)[None])
    stable_share = float((refined.regions == batched.regions).double().mean())
    subset = range(5)
    t0 = time.perf_counter()
    slsqp_sub = [slsqp_count(nets[0], lambda th, i=i: centres[i, 0] + radii[i, 0] * circle(th), -math.pi, math.pi)
                 for i in subset]
    t_slsqp_b = (time.perf_counter() - t0) / len(subset)
    ok = all(s <= int(batched.regions[i]) for i, s in zip(subset, slsqp_sub))
    rows.append({"curve": f"{args.batch} random circles, one net, one call", "ours_s_per_curve": t_batch,
                 "slsqp_s_per_curve": t_slsqp_b, "speedup": t_slsqp_b / t_batch, "slsqp_never_exceeds_ours": ok,
                 "ours_first5": batched.regions[:5].tolist(), "slsqp_first5": slsqp_sub,
                 "share_stable_under_doubling": stable_share})
    print(f"batched : {args.batch} circles in one call, {t_batch * 1e3:.2f} ms per curve vs SLSQP "
          f"{t_slsqp_b * 1e3:.0f} ms per curve: {t_slsqp_b / t_batch:.0f}x; first five ours "
          f"{batched.regions[:5].tolist()} vs SLSQP {slsqp_sub}; {100 * stable_share:.1f}% of the counts unchanged "
          f"with twice the vertices")
    record = {"benchmark": "linear_regions", "rows": rows, "nets": "2-10-16-1 ReLU, PyTorch default init, seeds 0..",
              "provenance": provenance(time.perf_counter() - start, "cpu (1 thread)")}
    out = REPO_ROOT / "book" / "results" / "benchmarks" / "linear_regions.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
