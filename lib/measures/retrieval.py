"""Nearest-neighbour retrieval on representations: the downstream task of van der Merwe et al. (2022), Sec. 4."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def nearest_neighbour(reference: torch.Tensor, query: torch.Tensor, *, normalize: bool = True,
                      chunk: int = 4096) -> torch.Tensor:
    """Index in ``reference`` (M, E) of the Euclidean nearest neighbour of each row of ``query`` (N, E), computed in
    chunks of queries; with ``normalize`` both are first scaled to unit L2 norm (the authors' vector search)."""
    if reference.ndim != 2 or query.ndim != 2 or reference.shape[1] != query.shape[1]:
        raise ValueError(f"reference and query must be (M, E) and (N, E), got {tuple(reference.shape)} and "
                         f"{tuple(query.shape)}")
    if normalize:
        reference, query = F.normalize(reference, dim=1), F.normalize(query, dim=1)
    return torch.cat([torch.cdist(query[i:i + chunk], reference).argmin(1) for i in range(0, len(query), chunk)])


def one_nn_accuracy(reference: torch.Tensor, reference_labels: torch.Tensor, query: torch.Tensor,
                    query_labels: torch.Tensor, *, groups: tuple[torch.Tensor, torch.Tensor] | None = None,
                    normalize: bool = True) -> float:
    """Accuracy of a 1-nearest-neighbour classifier (``KNeighborsClassifier(n_neighbors=1)``) fitted on the reference
    embeddings. With ``groups`` = (reference group, query group) each query is matched only within its group (the
    20-way Omniglot one-shot runs: a query is classified among the 20 training images of its run)."""
    if groups is None:
        pred = reference_labels[nearest_neighbour(reference, query, normalize=normalize)]
        return float((pred == query_labels).float().mean())
    ref_group, query_group = groups
    correct = 0
    for g in torch.unique(query_group):
        r, q = ref_group == g, query_group == g
        pred = reference_labels[r][nearest_neighbour(reference[r], query[q], normalize=normalize)]
        correct += int((pred == query_labels[q]).sum())
    return correct / len(query)
