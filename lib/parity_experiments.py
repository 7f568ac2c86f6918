"""Chapter 3's real-data experiment (Paccolat et al. 2021, Sec. 5.2, Figs. 8-10): the MnasNet-like CNN on MNIST
parity, the network in the feature regime against four frozen kernels.

``run_parity`` is the unit of a sweep (:func:`lib.results.run_sweep`). For one training-set size p, channel scale h
and seed it draws three disjoint sets of MNIST digits (training, kernel training, test), then

- trains the network with the alpha-trick (F = alpha (f - f_0), alpha = 2e-3 and the softhinge with beta_s = 3 as
  the released MNIST runs) by the adaptive gradient flow of :mod:`lib.gradient_flow`;
- computes four Gram matrices on the kernel-training set: the NTK (every parameter) and the last-layer kernel
  (readout weights and bias only: pooled post-activations) at initialisation and after training;
- trains each frozen kernel on the kernel-training set, "an independent trainset of the same size" (Fig. 8), and
  measures every test error on the same test set;
- summarises each Gram matrix by kernel PCA (:func:`lib.ntk.pca_summary`: eigenvalues, label projections, mutual
  information of the top eigenvectors with the label, the first two eigenvectors) for Figs. 9-10.
"""

from __future__ import annotations

import time

import torch

from .config import pick_device
from .data.parity import parity_sets
from .gradient_flow import FlowResult, train_kernel, train_network
from .invariant_experiments import sign_error
from .mnas import MnasNetLike
from .ntk import empirical_ntk, pca_summary

DTYPES = {"float32": torch.float32, "float64": torch.float64}
READOUT = ("readout", "bias")  # the last layer's parameters
KERNELS = ("init_ntk", "init_last_layer", "final_ntk", "final_last_layer")


def _flow_summary(flow: FlowResult) -> dict:
    return {"steps": flow.steps, "rejected": flow.rejected, "t_end": flow.t, "t_star": flow.t_star,
            "converged": flow.converged, "fitted": flow.history[-1]["fitted"]}


def _kernels(net: MnasNetLike, x: torch.Tensor, x_test: torch.Tensor, chunk: int) -> dict[str, tuple]:
    """(train Gram, test-train Gram) in float64 for the full NTK and the last-layer kernel of ``net``."""
    out = {}
    for name, params in (("ntk", None), ("last_layer", READOUT)):
        k_train = empirical_ntk(net, x, chunk=chunk, parameters=params).double()
        k_test = empirical_ntk(net, x_test, x, chunk=chunk, parameters=params).double()
        out[name] = (k_train, k_test)
    return out


def run_parity(params: dict) -> dict:
    """One network and four frozen kernels on MNIST parity. ``params``: p, h, alpha, seed, n_test, dtype
    ("float32" or "float64"), data_root, and the flow's loss, softness, max_dgrad, tau, until, max_steps; optional
    ``device``, ``top`` (eigenvectors kept, default 10) and ``chunk`` (per-sample gradients at a time, default 256)."""
    if params["dtype"] not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {params['dtype']!r}")
    dtype = DTYPES[params["dtype"]]
    device = pick_device(params.get("device", "cpu"))
    chunk, top = params.get("chunk", 256), params.get("top", 10)
    p, n_test = params["p"], params["n_test"]
    sets = parity_sets((p, p, n_test), seed=params["seed"], root=params["data_root"])
    (x, y), (x_k, y_k), (x_test, y_test) = [(a.to(device, dtype), b.to(device, dtype)) for a, b in sets]
    g = torch.Generator().manual_seed(params["seed"])
    net = MnasNetLike(params["h"], generator=g).to(device, dtype)
    flow = {k: params[k] for k in ("loss", "softness", "max_dgrad", "tau", "until", "max_steps")}
    start = time.perf_counter()
    init = _kernels(net, x_k, x_test, chunk)
    with torch.no_grad():
        f0_test = net(x_test)
    feature = train_network(net, x, y, params["alpha"], **flow)
    with torch.no_grad():
        network_error = sign_error(net(x_test) - f0_test, y_test)
    final = _kernels(net, x_k, x_test, chunk)
    record = {"p": p, "h": params["h"], "alpha": params["alpha"], "seed": params["seed"],
              "parameters": sum(w.numel() for w in net.parameters()),
              "network": {"test_error": network_error, **_flow_summary(feature)},
              "labels": y_k.tolist()}
    y_k, y_test = y_k.double(), y_test.double()
    for name, (k_train, k_test) in (("init_ntk", init["ntk"]), ("init_last_layer", init["last_layer"]),
                                    ("final_ntk", final["ntk"]), ("final_last_layer", final["last_layer"])):
        a, kflow = train_kernel(k_train, y_k, loss=flow["loss"], softness=flow["softness"], until=flow["until"],
                                max_steps=flow["max_steps"])
        record[name] = {"test_error": sign_error(k_test @ a, y_test), **_flow_summary(kflow),
                        "pca": pca_summary(k_train.cpu(), y_k.cpu(), top=top)}
    record["wall_s"] = time.perf_counter() - start
    return record
