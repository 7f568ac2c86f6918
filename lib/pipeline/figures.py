"""One figure style for the book, and helpers that put a paper's reported value beside ours."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

PAPER_COLOR = "#c0392b"
STYLE = {
    "figure.figsize": (6.0, 3.6), "figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight",
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
    "lines.linewidth": 1.8, "lines.markersize": 5, "image.cmap": "gray",
    "axes.prop_cycle": mpl.cycler(color=["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
                                         "#7f7f7f", "#bcbd22", "#17becf"]),
}


def use_style() -> None:
    """Apply the book's matplotlib style (call once at the top of a chapter)."""
    mpl.rcParams.update(STYLE)


def paper_line(ax: plt.Axes, value: float, *, axis: str = "y", label: str = "paper") -> None:
    """A dashed reference line at the paper's reported ``value`` (horizontal for ``axis='y'``), labelled."""
    line = ax.axhline if axis == "y" else ax.axvline
    line(value, color=PAPER_COLOR, linestyle="--", linewidth=1.2, label=f"{label}: {value:g}")


def paper_points(ax: plt.Axes, x, y, *, label: str = "paper", **kwargs) -> None:
    """The paper's reported points (hollow red diamonds), to overlay on our measurement."""
    ax.plot(x, y, linestyle="none", marker="D", markerfacecolor="none", markeredgecolor=PAPER_COLOR,
            label=label, **kwargs)


def image_grid(ax: plt.Axes, images: torch.Tensor, nrow: int = 8, title: str | None = None) -> None:
    """Show a batch (N, C, H, W) in [0, 1] as one grid image on ``ax`` (no axis ticks)."""
    from torchvision.utils import make_grid

    grid = make_grid(images[: nrow * max(1, int(np.ceil(len(images) / nrow)))], nrow=nrow, padding=1, pad_value=1.0)
    ax.imshow(grid.permute(1, 2, 0).numpy() if images.shape[1] == 3 else grid[0].numpy(), vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title)


def log_ticks(ax: plt.Axes, values, axis: str = "x") -> None:
    """On a log axis, put ticks at ``values`` labelled as plain numbers (and no minor labels to collide with)."""
    from matplotlib.ticker import NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xticks if axis == "x" else ax.set_yticks)(list(values), [f"{v:g}" for v in values])
    target.set_minor_formatter(NullFormatter())


def loglog_panel(ax: plt.Axes, ticks, xlabel: str, ylabel: str, title: str, legend_size: int = 8) -> None:
    """Finish a power-law panel: both axes logarithmic, x ticks at ``ticks`` as plain numbers, labels, title and
    legend (the learning curves and scaling ladders of chapters 2 and 3)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_ticks(ax, ticks)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=legend_size)


def kernel_information(summaries: dict[str, dict], title: str) -> plt.Figure:
    """Fig. 9 of Paccolat et al.: for each kernel (a :func:`lib.measures.ntk.pca_summary`), the mutual information of its top
    eigenvectors with the label and the label projections omega_r^2, against the rank r."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    for name, out in summaries.items():
        ranks = range(1, len(out["mi"]) + 1)
        axes[0].plot(ranks, out["mi"], "o-", label=name)
        axes[1].plot(ranks, out["projections"], "o-", label=name)
    axes[0].set_ylabel("I(phi_r; y) (bits)")
    axes[1].set_ylabel("omega_r^2 = <phi_r, y>^2 / p^2")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("eigenvector rank r")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def top_eigenvectors(summaries: dict[str, dict], labels, title: str) -> plt.Figure:
    """Fig. 10 of Paccolat et al.: every point in the plane of each kernel's first two eigenvectors, coloured by
    its label."""
    fig, axes = plt.subplots(1, len(summaries), figsize=(4.3 * len(summaries), 3.8), layout="constrained")
    for ax, (name, out) in zip(np.atleast_1d(axes), summaries.items()):
        v = np.asarray(out["top2"])
        ax.scatter(v[:, 0], v[:, 1], c=np.asarray(labels), cmap="coolwarm", s=5)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("phi_1")
        ax.set_ylabel("phi_2")
    fig.suptitle(title, fontsize=10)
    return fig
