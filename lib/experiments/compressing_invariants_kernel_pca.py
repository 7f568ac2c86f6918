"""Chapter 3's kernel PCA of the stripe model (Paccolat et al. 2021, Sec. 5.2, Figs. 9-10): the NTK of the
one-hidden-layer network of Eq. (1) at initialisation and after feature training, and the kernel of its last hidden
layer, diagonalised; how much of the label's projection lies on the first eigenvector.

:func:`stripe_kernels` trains one network and returns its three Gram matrices (the page's Section 7);
:func:`run_stripe_pca` is the unit of a sweep over seeds and flows (:func:`lib.pipeline.results.run_sweep`): it
summarises them in plain numbers, for the extended run that takes Section 7 from one network to many.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import spearmanr

from lib.data.invariant import invariant_data
from lib.measures.ntk import ntk_gram, pca_summary
from lib.nets.one_hidden_layer import OneHiddenLayer
from lib.training.gradient_flow import FlowResult, flow_options, train_network

TRAINED = "NTK after feature training"
KERNELS = ("NTK at initialisation", TRAINED, "last-layer activations after training")


def stripe_kernels(params: dict) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor], FlowResult]:
    """Draw ``p`` stripe points in dimension ``d`` and a network of width ``h`` from one generator seeded with
    ``seed`` (data first, then weights), train it by the gradient flow of Eq. (2) at ``alpha`` with the flow's
    ``loss``, ``min_step``, ``max_steps`` and ``until`` (the fitted fraction at which it stops), and return the
    points (p, d) float64, their labels (p,) +-1, the (p, p) float64 Gram matrices named in ``KERNELS`` (the NTK of
    every weight before and after training, Eq. 3; the inner products of the last hidden layer's activations
    relu(omega . x / sqrt(d) + b) after training) and the flow. Raises ValueError for p, d or h below 1, or d < 2."""
    for name in ("p", "d", "h"):
        if int(params[name]) < 1:
            raise ValueError(f"{name} must be a positive integer, got {params[name]!r}")
    g = torch.Generator().manual_seed(int(params["seed"]))
    x, y = invariant_data("stripe", int(params["p"]), int(params["d"]), generator=g)
    net = OneHiddenLayer(int(params["d"]), int(params["h"]), generator=g)
    k_init = ntk_gram(net, x)
    flow = train_network(net, x, y, params["alpha"], **flow_options(params))
    with torch.no_grad():
        act = torch.relu(net.preactivation(x))
    return x, y, dict(zip(KERNELS, (k_init, ntk_gram(net, x), act @ act.T))), flow


def first_mode_share(projections) -> float:
    """omega_1^2 / sum_r omega_r^2: the first eigenvector's share of the label projection summed over the top ranks
    (Fig. 9b, d; 1/len when the projection does not depend on the rank). Raises ValueError for an empty or
    all-zero projection, or a negative entry (omega^2 is a square)."""
    proj = np.asarray(projections, dtype=float)
    if proj.ndim != 1 or proj.size == 0 or (proj < 0).any() or proj.sum() <= 0:
        raise ValueError(f"projections must be a non-empty 1-d array of squares, not all zero, got {proj!r}")
    return float(proj[0] / proj.sum())


def run_stripe_pca(params: dict) -> dict:
    """One network of :func:`stripe_kernels` (``params``: d, p, h, alpha, seed, loss, min_step, max_steps, until,
    and ``top``, the eigenvectors kept) summarised for Figs. 9-10: per kernel its top eigenvalues, label projections
    omega_r^2 and mutual informations (:func:`lib.measures.ntk.pca_summary`) and the first eigenvector's share of
    the projection; for the trained NTK also its first eigenvector's cosine with the constant vector, whether its
    components share one sign, and the Spearman correlation of abs(phi_1) with the kernel's diagonal Theta(x, x);
    and how the flow ended (steps, fitted fraction, converged: every point fitted)."""
    _, y, kernels, flow = stripe_kernels(params)
    pcs = {name: pca_summary(K, y, top=int(params["top"])) for name, K in kernels.items()}
    phi1 = np.asarray(pcs[TRAINED]["top2"])[:, 0]
    return {"seed": params["seed"], "p": params["p"], "h": params["h"], "loss": params["loss"],
            "until": params["until"],
            "flow": {"steps": flow.steps, "fitted": flow.history[-1]["fitted"], "converged": flow.converged},
            "kernels": {name: {"eigenvalues": pc["eigenvalues"], "projections": pc["projections"], "mi": pc["mi"],
                               "first_mode_share": first_mode_share(pc["projections"])} for name, pc in pcs.items()},
            "phi1": {"constant_cosine": float(abs(phi1.sum()) / np.sqrt(len(phi1))),
                     "one_sign": bool((phi1 > 0).all() or (phi1 < 0).all()),
                     "diagonal_spearman": float(spearmanr(np.abs(phi1), kernels[TRAINED].diagonal().numpy())[0])}}
