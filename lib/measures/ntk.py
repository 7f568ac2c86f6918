"""Empirical neural tangent kernels and their principal components (Paccolat et al. 2021, Sec. 5 and App. D).

- :func:`empirical_ntk`: the Gram matrix grad_W f(x_i) . grad_W f(x_j) of any scalar-output network, from per-sample
  gradients batched with ``torch.func`` (``vmap`` of ``grad``) and contracted chunk by chunk, so that the Jacobian of
  p = 10^4 inputs never has to fit in memory at once. The one-hidden-layer net has a closed form,
  :func:`ntk_gram` (symmetric blocks, chunked over neurons).
- :func:`kernel_pca`: eigenvalues and eigenvectors of a Gram matrix, largest first, and the label projections
  omega_lambda^2 = <phi_lambda, y>^2 / p^2 of Sec. 5.1 (with unit-norm eigenvectors).
- :func:`binary_mutual_information`: the k-nearest-neighbour estimator of App. D for I(phi; y) with balanced binary
  labels, in bits.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from lib.nets.classifiers import eval_mode
from lib.nets.one_hidden_layer import SQRT2, OneHiddenLayer


def _per_sample_gradients(model: nn.Module, x: torch.Tensor, names: tuple[str, ...] | None = None) -> torch.Tensor:
    """(n, P) gradients of the scalar output w.r.t. the parameters ``names`` (default: all), one row per input."""
    params = {k: v.detach() for k, v in model.named_parameters()}
    unknown = sorted(set(names or ()) - set(params))
    if unknown:
        raise ValueError(f"{type(model).__name__} has no parameters {unknown}; it has {sorted(params)}")
    free = {k: params[k] for k in (names or params)}
    fixed = {k: v for k, v in params.items() if k not in free}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def f(p, xi):
        return functional_call(model, ({**fixed, **p}, buffers), (xi.unsqueeze(0),)).reshape(())

    grads = vmap(grad(f), in_dims=(None, 0))(free, x)
    return torch.cat([g.reshape(len(x), -1) for g in grads.values()], 1)


def empirical_ntk(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor | None = None, *,
                  chunk: int = 512, parameters: tuple[str, ...] | None = None) -> torch.Tensor:
    """Theta(x1_i, x2_j) = grad f(x1_i) . grad f(x2_j) for a network with one output per input.

    Per-sample gradients are computed ``chunk`` inputs at a time (``torch.func.vmap(grad)``) and contracted into the
    Gram matrix block by block, so memory is O(chunk x parameters + p^2). ``parameters`` (names, as in
    ``named_parameters``) restricts the gradient to those weights, e.g. the readout alone for the kernel of the last
    hidden layer (Sec. 5.2).

    ``x1`` (n1, ...), ``x2`` (n2, ...) or None (then x2 = x1 and the Gram matrix is symmetric); returns (n1, n2) in
    the parameters' dtype on ``x1``'s device. The model is evaluated in eval mode (BatchNorm on its running
    statistics, Dropout off; ``torch.func`` cannot trace their training-mode updates and randomness) and its modes
    are restored after. Raises ValueError for a model whose output is not one scalar per input, unknown
    ``parameters`` names or ``chunk`` < 1."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    with eval_mode(model):
        with torch.no_grad():
            out = model(x1[:1])
        if out.numel() != 1:
            raise ValueError(f"empirical_ntk needs one scalar output per input; {type(model).__name__} gives "
                             f"{tuple(out.shape[1:])} per input")
        return _gram(model, x1, x2, chunk, parameters)


def _gram(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor | None, chunk: int,
          parameters: tuple[str, ...] | None) -> torch.Tensor:
    """The blocks of :func:`empirical_ntk`, with the model already in eval mode."""
    symmetric = x2 is None
    x2 = x1 if symmetric else x2
    grads = lambda x: _per_sample_gradients(model, x, parameters)  # noqa: E731
    out = torch.empty(len(x1), len(x2), dtype=next(model.parameters()).dtype, device=x1.device)
    blocks2 = [(j, grads(x2[j:j + chunk])) for j in range(0, len(x2), chunk)] if not symmetric else None
    for i in range(0, len(x1), chunk):
        gi = grads(x1[i:i + chunk])
        if symmetric:
            for j in range(0, i + 1, chunk):
                gj = gi if j == i else grads(x1[j:j + chunk])
                block = gi @ gj.T
                out[i:i + chunk, j:j + chunk] = block
                out[j:j + chunk, i:i + chunk] = block.T
        else:
            for j, gj in blocks2:
                out[i:i + chunk, j:j + chunk] = gi @ gj.T
    return out


def kernel_pca(K: torch.Tensor, y: torch.Tensor, top: int | None = None) -> dict[str, torch.Tensor]:
    """Eigen-decomposition of a symmetric Gram matrix, largest eigenvalue first.

    Returns ``eigenvalues`` (p,) or (top,), ``eigenvectors`` (p, r) with unit norm and the label ``projections``
    omega_lambda^2 = <phi_lambda, y>^2 / p^2 (Sec. 5.1). Eigenvectors are determined up to sign; the projections are
    not affected."""
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] != len(y):
        raise ValueError(f"K must be (p, p) with p = len(y) = {len(y)}, got {tuple(K.shape)}")
    vals, vecs = torch.linalg.eigh(K)
    vals, vecs = vals.flip(0), vecs.flip(1)
    if top is not None:
        vals, vecs = vals[:top], vecs[:, :top]
    proj = (vecs.T @ y.to(vecs.dtype)) ** 2 / len(y) ** 2
    return {"eigenvalues": vals, "eigenvectors": vecs, "projections": proj}


def pca_summary(K: torch.Tensor, y: torch.Tensor, top: int = 10, k: int = 5) -> dict[str, list]:
    """What Figs. 9-10 show of a Gram matrix: its top ``top`` eigenvalues, the label projections omega_r^2, the
    mutual information I(phi_r; y) of each eigenvector with the labels (k-NN estimator, App. D), and the
    coordinates of every point on the first two eigenvectors, as plain lists."""
    out = kernel_pca(K, y, top=top)
    vecs = out["eigenvectors"]
    return {"eigenvalues": out["eigenvalues"].tolist(), "projections": out["projections"].tolist(),
            "mi": [binary_mutual_information(vecs[:, r], y, k) for r in range(vecs.shape[1])],
            "top2": vecs[:, :2].tolist()}


def binary_mutual_information(values: torch.Tensor, labels: torch.Tensor, k: int = 5) -> float:
    """I(phi; y) in bits for balanced labels +-1 (App. D): ``q_+(x_i) = 1 / (1 + (r_+ / r_-)^d)``, with ``r_y`` the distance
    from x_i to its k-th nearest neighbour of label y (x_i counts as its own neighbour, as the authors' code), and
    I = 1 - mean_i h_2(q_+(x_i)). ``values``: (p,) or (p, d); each column is standardised first."""
    x = values.reshape(len(values), -1).double()
    x = (x - x.mean(0)) / x.std(0).clamp_min(1e-300)
    d = x.shape[1]
    pos, neg = labels > 0, labels <= 0
    if int(pos.sum()) < k or int(neg.sum()) < k:
        raise ValueError(f"each label needs at least k = {k} points")
    r_pos, r_neg = _kth_distance(x, x[pos], k), _kth_distance(x, x[neg], k)
    # q_+ = 1 / (1 + (r_+/r_-)^d), computed in log space; h_2 in bits
    q = torch.sigmoid(-d * (torch.log(r_pos.clamp_min(1e-300)) - torch.log(r_neg.clamp_min(1e-300))))
    return float(1 - _binary_entropy(q).mean())


def _binary_entropy(q: torch.Tensor) -> torch.Tensor:
    """h_2(q) = -q log2 q - (1 - q) log2(1 - q), with 0 log 0 = 0."""
    return -(q * torch.log2(q.clamp_min(1e-300)) + (1 - q) * torch.log2((1 - q).clamp_min(1e-300)))


def _kth_distance(query: torch.Tensor, ref: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each query row to its k-th nearest row of ``ref``. In one dimension by sorting (the k-th
    neighbour is among the k reference values on either side of the query's insertion point): O(n log n);
    otherwise exact, in chunks of 2048 queries."""
    if query.shape[1] > 1 or len(ref) < 2 * k:
        return torch.cat([torch.cdist(query[i:i + 2048], ref).kthvalue(k, dim=1).values
                          for i in range(0, len(query), 2048)])
    sorted_ref = ref[:, 0].sort().values
    q = query[:, 0].contiguous()
    start = (torch.searchsorted(sorted_ref, q) - k).clamp(0, len(sorted_ref) - 2 * k)
    dist = (sorted_ref[start[:, None] + torch.arange(2 * k)] - q[:, None]).abs()
    return dist.sort(dim=1).values[:, k - 1]


def gaussian_mixture_mi(separation: float) -> float:
    """Exact I(x; y) in bits for y = +-1 equiprobable and x | y ~ N(y * separation / 2, 1): a test oracle for
    :func:`binary_mutual_information`, by numerical integration of 1 - E[h_2(P(y=+|x))]."""
    grid = torch.linspace(-12 - separation, 12 + separation, 200_001, dtype=torch.float64)
    mu = separation / 2
    dens = lambda m: torch.exp(-(grid - m) ** 2 / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    p_pos, p_neg = dens(mu), dens(-mu)
    px = (p_pos + p_neg) / 2
    q = p_pos / (p_pos + p_neg)
    return float(1 - torch.trapezoid(px * _binary_entropy(q), grid))


@torch.no_grad()
def ntk_gram(model: OneHiddenLayer, x1: torch.Tensor, x2: torch.Tensor | None = None, *,
             neuron_chunk: int = 2048, row_blocks: int = 8) -> torch.Tensor:
    """The NTK Gram matrix Theta(x1_i, x2_j) = grad_W f(x1_i) . grad_W f(x2_j) of Eq. (1), in closed form:

    Theta = [sigma(Z1) sigma(Z2)^T + (sigma'(Z1) beta)(sigma'(Z2) beta)^T * (x1 x2^T / d + 1)] / h^2,

    the three terms being the gradients w.r.t. beta, omega and b (``*`` elementwise, beta multiplying columns).
    Neurons are summed ``neuron_chunk`` at a time (memory O(p x neuron_chunk + p^2), so p = 10^4 fits); with
    ``x2=None`` the matrix is symmetric and only the blocks on and below the diagonal of a ``row_blocks`` x
    ``row_blocks`` partition are multiplied, (1 + 1/row_blocks)/2 of the work."""
    symmetric = x2 is None
    x2 = x1 if symmetric else x2
    p1, p2 = len(x1), len(x2)
    act = x1.new_zeros(p1, p2)  # sigma(Z1) sigma(Z2)^T
    slope = x1.new_zeros(p1, p2)  # (sigma'(Z1) beta)(sigma'(Z2) beta)^T
    edges = [round(p1 * k / row_blocks) for k in range(row_blocks + 1)] if symmetric else [0, p1]
    for n0 in range(0, model.h, neuron_chunk):
        s1, g1 = _neuron_features(model, x1, slice(n0, n0 + neuron_chunk))
        s2, g2 = (s1, g1) if symmetric else _neuron_features(model, x2, slice(n0, n0 + neuron_chunk))
        for i0, i1 in zip(edges[:-1], edges[1:]):
            cols = slice(0, i1) if symmetric else slice(0, p2)
            act[i0:i1, cols] += s1[i0:i1] @ s2[cols].T
            slope[i0:i1, cols] += g1[i0:i1] @ g2[cols].T
    act += slope.mul_(x1 @ x2.T / model.d + 1)
    act /= model.h ** 2
    return _mirror_lower_(act) if symmetric else act


def _neuron_features(model: OneHiddenLayer, x: torch.Tensor, neurons: slice) -> tuple[torch.Tensor, torch.Tensor]:
    """sigma(z) and sigma'(z) beta for the given neurons: the beta- and (omega, b)-gradients up to the input factor."""
    if x.ndim != 2 or x.shape[1] != model.d:
        raise ValueError(f"inputs must have shape (p, {model.d}), got {tuple(x.shape)}")
    z = x @ model.omega[neurons].T / math.sqrt(model.d) + model.b[neurons]
    return SQRT2 * torch.relu(z), SQRT2 * (z > 0).to(z.dtype) * model.beta[neurons]


def _mirror_lower_(m: torch.Tensor) -> torch.Tensor:
    """Overwrite the strict upper triangle of ``m`` with its lower triangle (in place; one temporary copy)."""
    m.tril_()
    m += m.tril(-1).T
    return m
