# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Linear regions on data manifolds
#
# *Reproducing {cite:t}`anonymous2022geometry` (an anonymous ICLR 2022 submission).*
#
# **The claim.** A ReLU network is piecewise linear: it cuts its input space into convex *linear regions*, on each of
# which it is an affine function. {cite:t}`hanin2019complexity` showed that at initialisation, and during training,
# the density of region boundaries in a bounded set of $\mathbb{R}^{n_\text{in}}$ is of the order of the number of
# neurons, and the distance from a point to the nearest boundary is of the order of one over it. Real data lie on a
# low-dimensional manifold $M$, so what matters is how the regions cut $M$. The paper proves (Theorems 2 and 3) that
# on an $m$-dimensional manifold the density of boundaries is bounded by the number of neurons times a constant
# $C_M$, set by how much the gradients $\nabla z$ of the neurons shrink when projected onto the tangent space of $M$,
# and that the distance *along the manifold* to the nearest boundary is bounded below through $C_M$ and the
# curvature, independently of the ambient dimension $n_\text{in}$.
#
# This chapter counts regions **exactly** along curves, checks the counter against brute force, and reruns the
# paper's experiments: a circle and a tractrix in the plane, the circle in growing ambient dimension, three
# architectures, and curves on an image manifold.

# %% tags=["parameters"]
profile = "book"  # "smoke" | "book" | "paper": the scale of the run
shrink = False  # bool: True runs this profile's code paths at the smoke profile's sizes (how CI proves `paper` runs)
seed = 0  # int in [0, inf): first seed; run r uses seed + r
data_root = ""  # str: the data root (empty: $GG_DATA_ROOT, then the user cache)
device = "cpu"  # "auto" | "cpu" | "cuda": these nets are tiny, the CPU is the right device
seeds = None  # int > 0 | None: runs per configuration of Figs. 4, 5 and 8 (None: the profile's)
epochs = None  # int > 0 | None: training epochs of the toy problem (None: the profile's)
amplitude = 1.0  # float: a in the target a sin(nu * param)
frequency = 3.0  # float > 0: nu
noise = 0.1  # float in [0, inf): standard deviation of the Gaussian label noise

# %% tags=["hide-input"]
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from lib.experiments.linear_regions import DOMAINS, history_array, run_image_manifold, run_toy
from lib.measures.linear_regions import (circle, count_along_polylines, patterns, relu_layers, slice_partition,
                                         tractrix, tractrix_arclength)
from lib.nets.classifiers import FCNet
from lib.pipeline.chapter import setup_chapter
from lib.pipeline.report import paper_vs_here, show_table

ch = setup_chapter("ch05", profile, {
    "smoke": {"seeds": 2, "arch_seeds": 2, "epochs": 4, "n_in": (2, 10), "nin_seeds": 1, "archs": ((5, 8), (10, 16)),
              "n_vae": 1000, "vae_epochs": 2, "img_train": 200, "img_epochs": 3, "img_curves": 4},
    "book": {"seeds": 10, "arch_seeds": 10, "epochs": 50, "n_in": (2, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50), "nin_seeds": 5,
             "archs": ((5, 8), (10, 16), (20, 32)), "n_vae": 5000, "vae_epochs": 10, "img_train": 1000,
             "img_epochs": 60, "img_curves": 20},
    "paper": {"seeds": 20, "arch_seeds": 30, "epochs": 100, "n_in": (2, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50), "nin_seeds": 20,
              "archs": ((5, 8), (10, 16), (20, 32)), "n_vae": 9000, "vae_epochs": 30, "img_train": 1000,
              "img_epochs": 200, "img_curves": 50},
}, shrink=shrink, sizes=("seeds", "arch_seeds", "epochs", "n_in", "nin_seeds", "n_vae", "vae_epochs", "img_train",
                         "img_epochs", "img_curves"),
   data_root=data_root, device=device, seeds=seeds, epochs=epochs)
cfg = ch.cfg
def toy_config(manifold: str, n_in: int, widths, run: int) -> dict:
    """One toy run; its name is made of its settings, so equal runs of different figures share one cached result."""
    return {**TOY, "name": f"toy-{manifold}-{'-'.join(map(str, widths))}-nin{n_in}", "manifold": manifold,
            "n_in": n_in, "widths": list(widths), "seed": seed + run}


TOY = {"n_train": 1000, "a": amplitude, "nu": frequency, "noise": noise, "batch_size": 50, "lr": 0.01,
       "n_vertices": 400, "n_probe": 1000, "epochs": cfg.epochs}
print(f"profile {cfg.profile}: {cfg.seeds} seeds, {cfg.epochs} epochs; target {amplitude} sin({frequency} x) "
      f"+ N(0, {noise}^2)")

# %% [markdown]
# ## 1. Counting regions exactly along a curve
#
# Along a segment $x(t) = p + t(q - p)$, $t \in [0, 1]$, each neuron of the first layer is an affine function of $t$,
# so its zero is found in closed form. Once the crossings of layer 1 are known, the activation pattern of layer 1 is
# fixed between two consecutive crossings, so every neuron of layer 2 is again affine in $t$ on each such interval,
# and so on: the crossings are found layer by layer, exactly, for all segments of all curves at once
# (`lib.measures.linear_regions.count_along_polylines`). A curve is handled as a fine polyline, and since regions are convex,
# a region boundary between two vertices is crossed by the chord exactly when it is crossed by the curve, except
# for boundaries that graze the curve between two vertices; refining the polyline settles those, as the figure shows.
#
# What is counted is the number of *activation regions* (distinct on/off patterns) met along the curve, the
# quantity of {cite:t}`hanin2019complexity`; neighbouring regions on which the network happens to have the same
# affine map are also reported separately as *affine pieces*. The paper located boundaries with SLSQP, one root per
# neuron and region; its counts are compared with ours in Section 6.

# %% tags=["hide-input"]
torch.manual_seed(seed)
demo = relu_layers(FCNet(2, (10, 16), 1))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
for name, psi, (lo, hi), color in [("circle", circle, DOMAINS["circle"], "C1"),
                                   ("tractrix", tractrix, DOMAINS["tractrix"], "C0")]:
    ms = [4, 8, 16, 32, 64, 128, 256, 512, 1024]
    counts = [count_along_polylines(demo, psi(torch.linspace(lo, hi, m + 1))[None]).regions.item() for m in ms]
    axes[0].plot(ms, counts, "-o", color=color, label=name)
    dense = torch.linspace(lo, hi, 400001)
    pat = patterns(demo, psi(dense))
    axes[0].axhline(1 + int((pat[1:] != pat[:-1]).any(1).sum()), color=color, linestyle=":",
                    label=f"{name}: 400,000-point sampling")
axes[0].set_xscale("log")
axes[0].set_xlabel("polyline vertices")
axes[0].set_ylabel("activation regions along the curve")
axes[0].set_title("The exact count converges as the polyline is refined")
axes[0].legend(fontsize=8)
t = torch.linspace(-3, 3, 601)
axes[1].plot(t, torch.tanh(t).abs(), label="speed $|\\psi'(t)| = |\\tanh t|$")
axes[1].plot(t, tractrix_arclength(t) - tractrix_arclength(torch.tensor(-3.0)), label="arc length from t = -3")
axes[1].set_xlabel("tractrix parameter t")
axes[1].set_ylabel("value")
axes[1].set_title("The tractrix has a cusp: uniform in t is not uniform on it")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The tractrix $\psi(t) = (t - \tanh t, \operatorname{sech} t)$ moves with speed $|\tanh t|$: it stops at the cusp
# $t = 0$, and its arc length is $\ln\cosh t$ from there. The paper samples "uniformly from the manifold" for training
# and "directly from $t$" for distances; we train on points uniform in arc length (uniform on the manifold) and report
# the distance both ways.

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 2, figsize=(11, 8))
for row, (name, psi, box) in enumerate([("circle", circle, (-1.6, 1.6, -1.6, 1.6)),
                                        ("tractrix", tractrix, (-3.2, 3.2, -1.6, 1.6))]):
    torch.manual_seed(seed)
    _, trained = run_toy(toy_config(name, 2, (10, 16), 0), return_model=True)
    torch.manual_seed(seed)
    for ax, net, when in [(axes[row, 0], FCNet(2, (10, 16), 1), "at initialisation"),
                          (axes[row, 1], trained, f"after {cfg.epochs} epochs")]:
        layers = relu_layers(net)
        regions = slice_partition(layers, torch.zeros(2), torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), box)
        rng = np.random.default_rng(seed)
        for poly, _ in regions:
            ax.fill(poly[:, 0], poly[:, 1], color=rng.uniform(0.35, 0.95, 3), linewidth=0.3, edgecolor="white")
        lo, hi = DOMAINS[name]
        curve = psi(torch.linspace(lo, hi, 400))
        ax.plot(curve[:, 0], curve[:, 1], "k", linewidth=2.2, label=name)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        n_cut = count_along_polylines(layers, curve[None]).regions.item()
        ax.set_title(f"{name}, {when}: {len(regions)} regions, {n_cut} along the curve", fontsize=10)
        ax.legend(loc="lower right", fontsize=8)
fig.suptitle("Exact linear regions (polygon clipping) of the 2-10-16-1 net of the toy problem, with its data manifold")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Regions and distances while learning (Figs. 4, 5 and 12)
#
# The paper's toy problem (App. H): 1,000 points uniform on the circle $\theta \in (-\pi, \pi)$ or on the tractrix
# $t \in (-3, 3)$, targets $a \sin(\nu\,\cdot)$ plus Gaussian noise, a 2-10-16-1 ReLU network (26 neurons) trained by
# Adam with learning rate 0.01. The paper does not give $a$, $\nu$, the noise level, the batch size or the number of
# epochs; the values used here are the notebook's parameters (printed above), with batches of 50. After every epoch we
# count the regions along the curve and measure three distances to the nearest boundary: Hanin & Rolnick's Euclidean
# $\min_z |z(x)|/\lVert\nabla z(x)\rVert$ at points uniform in the parameter (the paper's protocol, normalised by its
# maximum over epochs as in the paper's Fig. 5), and at points uniform on the curve, and the exact distance *along the
# curve* (Theorem 3's geodesic distance) from the crossings.

# %% tags=["hide-input"]
toy_cfgs = [toy_config(m, 2, (10, 16), r) for m in ("circle", "tractrix") for r in range(cfg.seeds)]
toy = ch.sweep(toy_cfgs, run_toy)
by_manifold = {m: [rec for rec in toy if rec["params"]["manifold"] == m] for m in ("circle", "tractrix")}


def band(ax, values, label, color):
    epochs_axis = np.arange(values.shape[1])
    mean, std = values.mean(0), values.std(0)
    ax.plot(epochs_axis, mean, color=color, label=label)
    ax.fill_between(epochs_axis, mean - std, mean + std, color=color, alpha=0.2)


colors = {"circle": "C1", "tractrix": "C0"}
fig, axes = plt.subplots(2, 2, figsize=(11, 7))
for m, recs in by_manifold.items():
    band(axes[0, 0], history_array(recs, "regions"), m, colors[m])
    d = history_array(recs, "dist_param")
    band(axes[0, 1], d / d.max(), m, colors[m])
    band(axes[1, 0], history_array(recs, "dist_geodesic"), m, colors[m])
    band(axes[1, 1], history_array(recs, "test_mse"), m, colors[m])
axes[0, 0].axhline(26, color="k", linestyle=":", label="number of neurons (26)")
axes[0, 0].set_ylabel("activation regions along the curve")
axes[0, 0].set_title("Fig. 4: number of regions")
axes[0, 1].set_ylabel("mean distance / its maximum")
axes[0, 1].set_title("Fig. 5: Euclidean distance to a boundary (uniform in the parameter)")
axes[1, 0].set_ylabel("mean distance along the curve")
axes[1, 0].set_title("Geodesic distance to a boundary (uniform on the curve)")
axes[1, 1].set_yscale("log")
axes[1, 1].axhline(noise ** 2, color="k", linestyle=":", label="noise variance")
axes[1, 1].set_ylabel("test mean squared error")
axes[1, 1].set_title("Fig. 12: test error")
for ax in axes.flat:
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8, loc="center right")
fig.suptitle(f"Circle vs tractrix, 2-10-16-1 net, mean and one standard deviation over {cfg.seeds} seeds")
fig.tight_layout()
plt.show()

final = {m: {k: history_array(recs, k)[:, -1] for k in ("regions", "pieces", "dist_param", "dist_uniform",
                                                          "dist_geodesic", "tangent_ratio", "test_mse")}
         for m, recs in by_manifold.items()}
show_table([{"manifold": m, "regions": v["regions"].mean(), "affine pieces": v["pieces"].mean(),
             "regions / neurons": v["regions"].mean() / 26, "Euclidean dist. (param.)": v["dist_param"].mean(),
             "Euclidean dist. (uniform)": v["dist_uniform"].mean(), "geodesic dist.": v["dist_geodesic"].mean(),
             "mean ||P_T grad z|| / ||grad z||": v["tangent_ratio"].mean(), "test MSE": v["test_mse"].mean()}
            for m, v in final.items()], floatfmt=".3g")

# %% [markdown]
# The last column is the empirical counterpart of $C_M$: how much of a neuron's gradient survives projection onto
# the curve's tangent. Region counts start near the number of neurons and stay of that order throughout training,
# as Hanin & Rolnick's theory and the paper's Theorem 2 predict. The two curves have different lengths
# ($2\pi \approx 6.28$ for the circle, $2 \ln\cosh 3 \approx 4.62$ for the tractrix), which the counts reflect too.

# %% [markdown]
# ## 3. The ambient dimension does not matter (Figs. 6 and 7)
#
# Embed the circle in $\mathbb{R}^{n_\text{in}}$ through a random orthonormal pair of vectors and train the same
# network. Hanin & Rolnick's bounds for a full-dimensional set grow with $n_\text{in}$; the paper's bounds for a
# manifold do not.

# %% tags=["hide-input"]
nin_cfgs = [toy_config("circle", n, (10, 16), r) for n in cfg.n_in for r in range(cfg.nin_seeds)]
nin = ch.sweep(nin_cfgs, run_toy)
rows = []
for n in cfg.n_in:
    recs = [rec for rec in nin if rec["params"]["n_in"] == n]
    rows.append({"n_in": n, "regions": history_array(recs, "regions")[:, -1].mean(),
                 "regions sd": history_array(recs, "regions")[:, -1].std(),
                 "distance": history_array(recs, "dist_param")[:, -1].mean(),
                 "distance sd": history_array(recs, "dist_param")[:, -1].std()})
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
axes[0].errorbar([r["n_in"] for r in rows], [r["regions"] for r in rows], yerr=[r["regions sd"] for r in rows],
                 marker="o", capsize=3)
axes[0].axhline(26, color="k", linestyle=":", label="number of neurons (26)")
axes[0].set_ylabel("regions along the circle (end of training)")
axes[0].set_title("Fig. 6: regions vs input dimension")
axes[0].legend(fontsize=8)
axes[1].errorbar([r["n_in"] for r in rows], [r["distance"] for r in rows], yerr=[r["distance sd"] for r in rows],
                 marker="o", capsize=3)
axes[1].set_ylabel("mean distance to a boundary")
axes[1].set_title("Fig. 7: distance vs input dimension")
for ax in axes:
    ax.set_xlabel("input dimension $n_{in}$")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Architectures (Fig. 8)
#
# Three networks with two hidden layers, (5, 8), (10, 16) and (20, 32) neurons, on both manifolds: the number of
# regions divided by the number of neurons (the paper uses 30 seeds; the `paper` profile does too).

# %% tags=["hide-input"]
arch_cfgs = [toy_config(m, 2, a, r) for a in cfg.archs for m in ("circle", "tractrix") for r in range(cfg.arch_seeds)]
arch = ch.sweep(arch_cfgs, run_toy)
fig, ax = plt.subplots(figsize=(7, 3.8))
styles = dict(zip(cfg.archs, ["--", "-", ":"]))
arch_rows = []
for a in cfg.archs:
    for m in ("circle", "tractrix"):
        recs = [rec for rec in arch if tuple(rec["params"]["widths"]) == a and rec["params"]["manifold"] == m]
        ratio = history_array(recs, "regions") / sum(a)
        ax.plot(ratio.mean(0), linestyle=styles[a], color=colors[m], label=f"{a[0]}, {a[1]}, {m}")
        arch_rows.append({"architecture": f"{a[0]}-{a[1]}", "manifold": m, "regions / neurons (end)": ratio[:, -1].mean()})
ax.set_xlabel("epoch")
ax.set_ylabel("regions / number of neurons")
ax.set_title("Fig. 8: regions per neuron for three architectures")
ax.legend(fontsize=8, ncol=2)
plt.show()
show_table(arch_rows, floatfmt=".2f")

# %% [markdown]
# ## 5. Curves on an image manifold (Fig. 9)
#
# The paper draws curves on the manifold of face paintings with a StyleGAN trained on MetFaces: a straight line in the
# latent space decodes to 100 images that vary smoothly, and the straight line in pixel space between the two end
# images leaves the manifold. Neither StyleGAN's weights nor MetFaces can be used offline here, so a small
# **variational autoencoder** {cite:p}`kingma2014vae` trained on MNIST stands in for the generator (`lib.nets.vae`), on 28x28 digits
# instead of 128x128x3 paintings. As in the paper, a ReLU MLP with hidden layers (256, 64) is trained on *random*
# labels (it can only memorise) with SGD (learning rate 0.01, momentum 0.5, batch 32) on normalised inputs, and after
# every epoch we count its regions along the decoded curves (on the manifold) and along the straight lines between the
# same endpoints (off it), as a log density: log(regions / curve length).

# %% tags=["hide-input"]
img = ch.sweep([{"name": "image-manifold", "n_vae": cfg.n_vae, "vae_epochs": cfg.vae_epochs, "latent": 8,
                 "n_train": cfg.img_train, "widths": [256, 64], "epochs": cfg.img_epochs, "lr": 0.01,
                 "momentum": 0.5, "batch_size": 32, "n_curves": cfg.img_curves, "n_points": 100, "seed": seed,
                 "data_root": data_root}], run_image_manifold)[0]["result"]
hist = img["history"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ep = [h["epoch"] for h in hist]
axes[0].plot(ep, [h["log_density_on"] for h in hist], color="C0", label="on the manifold (decoded latent line)")
axes[0].plot(ep, [h["log_density_off"] for h in hist], color="C2", label="off the manifold (straight pixel line)")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("mean log(regions / length)")
axes[0].set_title("Fig. 9: density of regions on vs off the image manifold")
axes[0].legend(fontsize=8)
axes[1].plot(ep, [h["train_acc"] for h in hist], color="k")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("training accuracy on random labels")
axes[1].set_title("Memorisation of the random labels")
fig.tight_layout()
plt.show()
print(f"mean curve length (normalised pixels): on the manifold {img['length_on']:.1f}, straight line "
      f"{img['length_off']:.1f}; regions at the end: {hist[-1]['regions_on']:.0f} on vs {hist[-1]['regions_off']:.0f} off")

# %% [markdown]
# ## 6. Exact counting vs the paper's SLSQP search
#
# `benchmarks/linear_regions.py` re-implements the paper's counter (App. H: neurons added one at a time, layer by
# layer, each root of $z(\psi(t)) = 0$ searched with SLSQP inside each current region) and runs it on the same random
# 2-10-16-1 networks and curves as ours. Its last committed run:

# %%
import json
from pathlib import Path

bench = Path("book/results/benchmarks/linear_regions.json")
if bench.is_file():
    rec = json.loads(bench.read_text())
    show_table([{"curves": r["curve"], "ours": r.get("ours", r.get("ours_first5")),
                 "SLSQP": r.get("slsqp", r.get("slsqp_first5")), "SLSQP missed": r.get("slsqp_missed"),
                 "ours, ms/curve": 1e3 * r["ours_s_per_curve"], "SLSQP, ms/curve": 1e3 * r["slsqp_s_per_curve"],
                 "speed-up": r["speedup"]} for r in rec["rows"]], floatfmt=".3g")
    print(f"measured {rec['provenance']['date']} on {rec['provenance']['device']}, commit {rec['provenance']['commit']}")
else:
    print("no committed benchmark record; run `python benchmarks/linear_regions.py`")

# %% [markdown]
# SLSQP finds at most one root per call, so a neuron that crosses a region twice (a first-layer neuron's line cuts a
# circle twice) loses a crossing, and a start at a stationary point of $z(\psi(t))$, such as the tractrix's cusp,
# does not move. Its counts are therefore lower bounds; the exact counts are stable when the polyline is refined.

# %% [markdown]
# ## Paper vs here

# %%
paper_vs_here([
    {"quantity": "regions along the curve, 2-10-16-1 net", "paper": "close to #neurons (26) throughout training",
     "here": f"circle {final['circle']['regions'].mean():.0f}, tractrix {final['tractrix']['regions'].mean():.0f}",
     "note": "Fig. 4, end of training"},
    {"quantity": "which manifold has more regions", "paper": "tractrix (larger C_M)",
     "here": max(final, key=lambda m: final[m]["regions"].mean() / (2 * math.pi if m == 'circle' else 2 * math.log(math.cosh(3)))),
     "note": "per unit length, end of training"},
    {"quantity": "regions vs input dimension n_in", "paper": "flat, proportional to #neurons",
     "here": f"{min(r['regions'] for r in rows):.0f} to {max(r['regions'] for r in rows):.0f} for n_in "
             f"{cfg.n_in[0]} to {cfg.n_in[-1]}", "note": "Fig. 6"},
    {"quantity": "regions / neurons across architectures", "paper": "about constant",
     "here": ", ".join(f"{r['architecture']} {r['manifold']}: {r['regions / neurons (end)']:.2f}" for r in arch_rows),
     "note": "Fig. 8"},
    {"quantity": "log density on vs off the image manifold", "paper": "lower on the manifold; decreases with training",
     "here": f"on {hist[-1]['log_density_on']:.2f} vs off {hist[-1]['log_density_off']:.2f} at the end "
             f"(start: {hist[0]['log_density_on']:.2f} vs {hist[0]['log_density_off']:.2f})",
     "note": "Fig. 9; VAE on MNIST instead of StyleGAN on MetFaces"},
])

# %% [markdown]
# ### Where we differ from the paper
#
# Most of the paper's observations reappear: regions along a curve number about as many as the network has neurons
# and stay so during training, they do not grow with the ambient dimension, their number per neuron barely depends on
# the architecture, and on the image manifold the memorising network ends with fewer regions per unit length along
# the decoded curves than along the straight lines. The comparison between the two toy manifolds is the exception:

# %%
length = {"circle": 2 * math.pi, "tractrix": 2 * math.log(math.cosh(3))}
for m, v in final.items():
    print(f"{m:8s}: {v['regions'].mean():5.1f} regions over length {length[m]:.2f} = "
          f"{v['regions'].mean() / length[m]:.2f} per unit length; mean tangent/full gradient ratio "
          f"{v['tangent_ratio'].mean():.3f}")
more = max(final, key=lambda m: final[m]["regions"].mean() / length[m])
print(f"-> here the {more} has more regions per unit length; the paper reports more on the tractrix.")

# %% [markdown]
# The paper attributes the tractrix's larger number of regions to a larger $C_M$, but gives neither values of $C_M$
# nor the numbers behind its Fig. 4, nor the target's amplitude and frequency, the noise, or the training length, all
# of which change the counts (the region count follows the complexity of the fitted function: a higher frequency
# $\nu$ needs more pieces). Our direct measurement of the quantity that $C_M$ bounds, the share of a neuron's gradient
# along the tangent, is similar for the two curves, and the tractrix, which is both shorter and harder to fit (its
# test error stays well above the noise level, as in the paper's Fig. 12), is cut into fewer regions. Exercise 4 and
# the `frequency` parameter of this notebook are the places to probe this further.

# %% [markdown]
# ## Exercises
#
# ```{exercise} Grazing boundaries
# :label: ch05-ex-grazing
#
# Construct a one-hidden-layer network with one neuron whose boundary line $x_1 = 1 - \varepsilon$ nearly grazes the unit
# circle ($\varepsilon = 10^{-3}$). Approximate the circle by a closed polyline of $m$ equal segments with the point
# $\theta = 0$ in the middle of a segment. How many segments does the polyline need before the count is right? Why can
# the number of crossings along a closed curve only go up by two at a time?
# ```
#
# ````{solution} ch05-ex-grazing
# :class: dropdown
#
# The line cuts the circle at $\theta = \pm\arccos(1 - \varepsilon) \approx \pm\sqrt{2\varepsilon} = \pm 0.0447$: two
# crossings. The polygon's edge around $\theta = 0$ lies at distance $\cos(\pi/m)$ from the centre, so the polyline
# reaches the line only if $\cos(\pi/m) > 1 - \varepsilon$, i.e. $m > \pi/\arccos(1 - \varepsilon) = 70.2$: 71 segments
# at least, where a polyline of 70 sees no crossing at all.
#
# ```python
# from lib.measures.linear_regions import circle, count_along_polylines
#
# eps = 1e-3
# layers = [(torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([-(1 - eps)], dtype=torch.float64)),
#           (torch.tensor([[1.0]], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64))]
# for m in (50, 70, 71, 1000):
#     theta = math.pi / m + 2 * math.pi * torch.arange(m + 1, dtype=torch.float64) / m   # closed polyline
#     print(m, int(count_along_polylines(layers, circle(theta)[None]).crossings[0]))      # 0, 0, 2, 2
# ```
#
# Along a closed curve each neuron's preactivation is a continuous function that returns to its starting value, so it
# changes sign an even number of times (generically). A finer polyline can only reveal or lose such pairs of sign
# changes, here both crossings at once, so every count along a closed curve is even and moves by two. Grazing
# boundaries are why the chapter's curves use many vertices: a count is a lower bound until the polyline is fine
# enough near every boundary that nearly touches the curve.
# ````
#
# ```{exercise} Regions and radius
# :label: ch05-ex-radius
#
# Count the crossings along circles of radius $r = 0.25, 0.5, 1, 2, 4, 8$ and 100 for 20 random networks with hidden
# widths (10, 16), as in the chapter's toy experiments, and for one hidden layer of 16. How does the number scale
# with the radius, and why?
# ```
#
# ````{solution} ch05-ex-radius
# :class: dropdown
#
# ```python
# from lib.measures.linear_regions import circle, count_along_polylines, relu_layers
# from lib.nets.classifiers import FCNet
#
# theta = 2 * math.pi * torch.arange(2001, dtype=torch.float64) / 2000
# for widths in ((10, 16), (16,)):
#     for r in (0.25, 0.5, 1, 2, 4, 8, 100):
#         counts = []
#         for seed in range(20):
#             torch.manual_seed(seed)
#             counts.append(int(count_along_polylines(relu_layers(FCNet(2, widths, 1)), r * circle(theta)[None]).crossings[0]))
#         print(widths, r, sum(counts) / 20)
# ```
#
# | $r$ | 0.25 | 0.5 | 1 | 2 | 4 | 8 | 100 |
# |---|---|---|---|---|---|---|---|
# | widths (10, 16) | 7.8 | 16.4 | 31.1 | 41.9 | 47.7 | 50.9 | 51.6 |
# | width 16 | 5.2 | 11.5 | 22.9 | 28.9 | 31.3 | 31.9 | 32.0 |
#
# Up to $r \approx 1$ the count doubles with the radius: near the origin the boundaries have a roughly constant density
# per unit length, so crossings grow with the circumference $2\pi r$. Beyond, they saturate. A boundary of the first
# layer is a line at distance $|b_n|/\lVert w_n\rVert$ from the origin, and PyTorch's initialisation draws $w$ and $b$
# from the same small interval, so these distances are of order 1; a circle crosses a line twice exactly when its
# radius exceeds that distance, and for a single hidden layer the count tends to $2h = 32$. Deeper boundaries are bent
# lines that also become straight rays far from the origin, so the deeper network saturates too (near 52). Counting
# regions "per unit length" therefore only makes sense at the scale of the data, which is why the chapter compares
# curves of the same length at the same scale.
# ````
#
# ```{exercise} One hidden layer: upper bounds
# :label: ch05-ex-bounds
#
# For a network with one hidden layer of $h$ neurons on $\mathbb{R}^2$, show that a straight segment crosses at most
# $h + 1$ regions and a closed convex curve at most $2h$ boundaries. Check both with `count_along_polylines` for
# $h = 16$.
# ```
#
# ````{solution} ch05-ex-bounds
# :class: dropdown
#
# With one hidden layer every boundary is a line $\{w_n\cdot x + b_n = 0\}$, one per neuron. A segment meets a line at
# most once (unless it lies on it), so it crosses at most $h$ boundaries and visits at most $h + 1$ regions; a convex
# closed curve meets a line at most twice, so at most $2h$ crossings. The bounds are reached when every line cuts the
# curve: by the previous exercise that happens for a circle larger than all the lines' distances to the origin.
#
# ```python
# from lib.measures.linear_regions import circle, count_along_polylines, relu_layers
# from lib.nets.classifiers import FCNet
#
# torch.manual_seed(0)
# layers = relu_layers(FCNet(2, (16,), 1))
# segment = torch.tensor([[[-100.0, -37.0], [100.0, 53.0]]], dtype=torch.float64)
# print(count_along_polylines(layers, segment).regions)                # 16 <= 17: one line is (nearly) parallel
# theta = 2 * math.pi * torch.arange(2001, dtype=torch.float64) / 2000
# print(count_along_polylines(layers, 100 * circle(theta)[None]).crossings)  # 32 = 2h
# ```
#
# Deeper networks break these bounds: a boundary of layer 2 bends wherever a layer-1 neuron switches, so a line can
# cross it many times, which is where the exponential number of regions of deep networks can come from. At
# initialisation few of these bends are used: the circle of radius 100 of {ref}`ch05-ex-radius` crosses about 52 boundaries
# for widths (10, 16), close to two per neuron.
# ````
#
# ### Projects
#
# - **Activation regions vs affine pieces.** Find a network for which `pieces < regions` along a curve. Which neurons
#   are responsible? (Hint: a neuron that is never "good", in the paper's sense.)
# - **C_M.** Compute the mean of $\lVert P_T \nabla z\rVert / \lVert\nabla z\rVert$ for random networks on circles of
#   radius 0.5, 1 and 2, and relate it to the counts of {ref}`ch05-ex-radius`.
# - **Uniform in what?** Redo Fig. 5 for the tractrix with points uniform in $t$ and uniform in arc length. Which
#   one reproduces the paper's curve, and which one does Theorem 3 talk about?
# - **Off the manifold.** In Section 5, replace the VAE's latent line by a random curve of the same length in pixel
#   space. Is its density of regions closer to the on- or the off-manifold curve?

# %% [markdown]
# ## Explore: regions of a random network on the circle
#
# For readers running the notebook: change the widths and the seed and watch the regions cut the circle.

# %%
from lib.pipeline.widgets import Slider, interact


def explore(width1=10, width2=16, net_seed=0):
    torch.manual_seed(net_seed)
    layers = relu_layers(FCNet(2, (width1, width2), 1))
    regions = slice_partition(layers, torch.zeros(2), torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]),
                              (-1.6, 1.6, -1.6, 1.6))
    curve = circle(torch.linspace(-math.pi, math.pi, 800))
    n = count_along_polylines(layers, curve[None]).regions.item()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    rng = np.random.default_rng(net_seed)
    for poly, _ in regions:
        ax.fill(poly[:, 0], poly[:, 1], color=rng.uniform(0.35, 0.95, 3), edgecolor="white", linewidth=0.3)
    ax.plot(curve[:, 0], curve[:, 1], "k", linewidth=2)
    ax.set_aspect("equal")
    ax.set_title(f"{n} regions along the circle, {width1 + width2} neurons")
    plt.show()


interact(explore, width1=Slider(10, 2, 40), width2=Slider(16, 2, 40), net_seed=Slider(0, 0, 20));
