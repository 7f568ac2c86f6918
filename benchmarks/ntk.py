"""Benchmark: the one-hidden-layer NTK Gram matrix in closed form vs per-sample gradients (torch.func).

    python benchmarks/ntk.py [--p 1000] [--h 10000] [--d 10]

The network of Paccolat et al. Eq. (1) at the paper's width h = 10^4, d = 10, p = 1000 stripe points (float64).
``lib.nets.one_hidden_layer.ntk_gram`` (two p x h matrix products, of which only the blocks on and below the diagonal are computed)
against ``lib.measures.ntk.empirical_ntk`` (``vmap(grad)`` Jacobians contracted block by block, the generic method; the
authors' ``compute_kernels`` loops over samples with one backward each, which is slower still), in one run. Values
must agree to 1e-10 relative. Then the closed form alone at p = ``--large`` (10^4 by default; the generic method
would need ~100x the work), with the process's peak memory. Writes book/results/benchmarks/ntk.json.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from lib.data.invariant import invariant_data
from lib.measures.ntk import empirical_ntk, ntk_gram
from lib.nets.one_hidden_layer import OneHiddenLayer
from lib.pipeline.results import write_benchmark


def best_of(fn, repeats: int = 3) -> tuple[torch.Tensor, float]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--p", type=int, default=1000)
    parser.add_argument("--h", type=int, default=10000)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--large", type=int, default=10000, help="p for the closed form alone (0: skip)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    start = time.perf_counter()
    g = torch.Generator().manual_seed(0)
    x, _ = invariant_data("stripe", args.p, args.d, generator=g)
    model = OneHiddenLayer(args.d, args.h, generator=g)
    closed, t_closed = best_of(lambda: ntk_gram(model, x))
    generic, t_generic = best_of(lambda: empirical_ntk(model, x, chunk=250))
    rel = float((closed - generic).abs().max() / closed.abs().max())
    record = {"benchmark": "ntk", "p": args.p, "h": args.h, "d": args.d, "dtype": "float64",
              "closed_form_s": t_closed, "torch_func_s": t_generic, "speedup": t_generic / t_closed,
              "max_rel_diff": rel}
    print(f"p={args.p}, h={args.h}, d={args.d}: closed form {t_closed:.2f} s, torch.func {t_generic:.2f} s "
          f"({t_generic / t_closed:.1f}x), max relative difference {rel:.1e}", flush=True)
    if args.large:
        del closed, generic
        x_large, _ = invariant_data("stripe", args.large, args.d, generator=g)
        _, t_large = best_of(lambda: ntk_gram(model, x_large), repeats=1)
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
        record.update({"large_p": args.large, "large_closed_form_s": t_large, "peak_memory_gb": peak_gb})
        print(f"p={args.large}: closed form {t_large:.1f} s, peak memory of the process {peak_gb:.1f} GB", flush=True)
    write_benchmark("ntk", record, time.perf_counter() - start, "cpu (2 threads)")


if __name__ == "__main__":
    main()
