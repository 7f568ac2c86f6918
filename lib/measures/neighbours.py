"""Exact k-nearest neighbours of a point cloud, the shared first step of the intrinsic-dimension estimators.

Points are a tensor of shape (N, ...) flattened to (N, D); the search runs on the tensor's device in blocks. The
cloud is centred first (distances do not change; the matmul form loses no digits to a common offset). Candidates
are ranked with the matmul form ||a||^2 + ||b||^2 - 2 a.b, each pair of row blocks multiplied once: in float32 by
default (twice the speed of float64 GEMMs), one GEMM of the points augmented by their squared norms; for 8-bit data
(images stored as k/255, or integer codes) on the CPU, exactly in integers by an int8 GEMM (four times the speed of
float32's). The distances of the candidates that can be among the k nearest are recomputed in float64. A bound on the
ranking's error (:func:`matmul_error_bound` for floats; the data's distance from the 8-bit grid for integers) proves that no point outside the candidates can be closer than the
k-th returned neighbour; rows where the proof fails get more candidates. The result is exact to a proven relative
5e-11 whatever the offset and dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from lib.pipeline.checks import as_points

_UNIT_ROUNDOFF = {torch.float64: 2.0 ** -53, torch.float32: 2.0 ** -24}
_TF32_UNIT_ROUNDOFF = 2.0 ** -11  # 10 mantissa bits
SQUARED_RTOL = 1e-10  # proven relative accuracy of every returned squared distance (5e-11 on distances)
_BLOCK_ROWS = 2048  # rows of a block of the symmetric search (fastest of 1024-4096 at N = 20,000 on 2 cores)
_GATHER_ROWS = 32  # rows whose candidates are gathered at once on the CPU (the block stays in cache)
_MIN_DIAGONAL_ROWS = 512  # diagonal blocks are built from their upper half down to blocks of this many rows
_COMPACT_AT = 2  # a row block's kept entries are reduced to kc per row once they exceed this many times kc
_GRID_LEVELS = (255, 1)  # 8-bit data, levels per unit: images in [0, 1] (ToTensor, this book's loaders), integer codes
_GRID_MAX_DIM = 33_000  # 255^2 D < 2^31: every squared distance of 8-bit codes, and the sentinel above it, fit int32
_GRID_PROBE_ROWS = 64  # rows checked first: data off the grid are told apart without a pass over all of them


def _sparse_nonzero(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``mask.nonzero(as_tuple=True)`` of a contiguous 2-D bool mask with few True entries, in row-major order: the
    mask is scanned 8 entries (one int64 word) at a time and only its nonzero words are unpacked (several times
    faster than ``nonzero`` below about 1% True on the CPU)."""
    flat = mask.view(-1)
    if flat.numel() % 8:
        return mask.nonzero(as_tuple=True)
    words = flat.view(torch.int64).nonzero().squeeze(1)
    word, byte = flat.view(-1, 8)[words].nonzero(as_tuple=True)
    index = words[word] * 8 + byte
    return index // mask.shape[1], index % mask.shape[1]


def chunk_rows(n_rows: int, n_cols: int, budget_bytes: int) -> int:
    """Rows per chunk so that an (rows, n_cols) float64 block stays within ``budget_bytes``."""
    return max(1, min(n_rows, budget_bytes // max(1, 8 * n_cols)))


def unit_roundoff(dtype: torch.dtype, device: torch.device) -> float:
    """Unit roundoff u of a matrix product in ``dtype`` on ``device`` (TF32's when CUDA float32 GEMMs may use it).

    Raises ValueError for dtypes other than float32 and float64."""
    if dtype not in _UNIT_ROUNDOFF:
        raise ValueError(f"rank_dtype must be torch.float32 or torch.float64, got {dtype}")
    if dtype == torch.float32 and device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32:
        return _TF32_UNIT_ROUNDOFF
    return _UNIT_ROUNDOFF[dtype]


def matmul_error_bound(norm_a: torch.Tensor, norm_max: float, n_terms: int, u: float,
                       underflow: float = 0.0) -> torch.Tensor:
    """Bound on ``abs((||b||^2 - 2 a.b + ||a||^2) - ||a - b||^2)`` when the matmul form is evaluated in floating point.

    With coordinates rounded to unit roundoff ``u`` and sums of ``n_terms`` products, the standard bound for dot
    products in any summation order (Higham, *Accuracy and Stability of Numerical Algorithms*, Sec. 3.1),
    ``abs(fl(a.b) - a.b) <= gamma_n ||a|| ||b||`` with ``gamma_n = n u / (1 - n u)``, applied to ``||b||^2``,
    ``a.b``, the final additions and the rounding of the coordinates, gives ``gamma_{D+8} (||a|| + ||b||)^2 <=
    gamma_{D+8} (||a|| + M)^2`` with M the largest norm, plus ``underflow``, the absolute error that gradual
    underflow can add (Higham Sec. 2.1; callers pass ``(D + 8)`` times the smallest normal number of the dtype).
    ``norm_a`` (rows,) float64; returns (rows,) float64.
    Raises ValueError when ``(n_terms + 8) u >= 1/2`` (no useful bound)."""
    nu = (n_terms + 8) * u
    if nu >= 0.5:
        raise ValueError(f"D = {n_terms} coordinates are too many for a rounding bound at unit roundoff {u:.3g}")
    return nu / (1 - nu) * (norm_a + norm_max) ** 2 + underflow


Rows = slice | torch.Tensor  # a block of rows or their indices


@dataclass(frozen=True)
class _Ranking:
    """How pairs are ranked. ``values(a, b0, b1)``: the ranking values, in ``dtype``, of rows ``a`` against points
    b0:b1 (a (rows, b1 - b0) block); ``squared(v)``: float64 squared distances of ranking values; ``bound(rows, v)``:
    for the given rows and their (rows, kc) table ``v`` of squared values (ascending; every point left out has a
    value at least the row's last), a bound per row on ``abs(value - true squared distance)`` of the points in the
    table, such that every point left out is at least ``v[:, -1] - bound`` away (squared)."""
    values: Callable[[Rows, int, int], torch.Tensor]
    dtype: torch.dtype
    squared: Callable[[torch.Tensor], torch.Tensor]
    bound: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _largest(dtype: torch.dtype) -> float:
    """A value no ranking value reaches: +inf for floats, the largest int32 (above 255^2 ``_GRID_MAX_DIM``)."""
    return float("inf") if dtype.is_floating_point else torch.iinfo(dtype).max


def _float_ranking(centred: torch.Tensor, sq64: torch.Tensor, norms: torch.Tensor, rank_dtype: torch.dtype
                   ) -> _Ranking:
    """The matmul form in ``rank_dtype``: each value is one dot product of the augmented rows ``[a, ||a||^2, 1]``
    and ``[-2 b, 1, ||b||^2]``, D + 2 terms whose absolute values sum to at most (||a|| + ||b||)^2, so
    :func:`matmul_error_bound` holds as for the separate form (the norms are rounded once, from float64)."""
    n, dim = centred.shape
    u = unit_roundoff(rank_dtype, centred.device)
    bound = matmul_error_bound(norms, float(norms.max()), dim, u, (dim + 8) * torch.finfo(rank_dtype).tiny)
    Xr, sq = centred.to(rank_dtype), sq64.to(rank_dtype)[:, None]
    ones = torch.ones(n, 1, dtype=rank_dtype, device=centred.device)
    left, right = torch.cat([Xr, sq, ones], 1), torch.cat([-2 * Xr, ones, sq], 1)
    return _Ranking(values=lambda a, b0, b1: left[a] @ right[b0:b1].T, dtype=rank_dtype,
                    squared=lambda v: v.to(torch.float64), bound=lambda rows, v: bound[rows])


def _grid_ranking(X64: torch.Tensor, per_unit: int) -> tuple[_Ranking, float] | None:
    """The exact integer ranking of points near the 8-bit grid ``k * scale``, ``scale = 1 / per_unit`` (k integers
    spanning at most 256 levels), and the distance ``E`` of the points from it (the most by which a distance between two points can differ
    from that of their grid points: twice the largest ``||x - k scale||``, plus the rounding of its own
    computation); None when the levels span more than 256 values.

    The codes ``k - (min k + 128)`` are int8 (padded with zero columns to a multiple of 8); an int8 GEMM with int32
    sums (``torch._int_mm``) gives their squared distances exactly (255^2 D < 2^31 for D <= ``_GRID_MAX_DIM``). A
    grid point's squared distance g^2 = value * scale^2 differs from the true t^2 by at most ``2 E g + E^2`` (and the
    float64 rounding of the product), so with g at most the row's last value the bound holds for every candidate,
    and a point beyond it is at least ``(g - E)^2`` away."""
    scale = 1 / per_unit
    levels = torch.round(X64 * per_unit)
    lo, hi = (float(v) for v in levels.aminmax())
    if hi - lo > 255:
        return None
    deviation = float(torch.linalg.vector_norm(torch.sub(X64, levels, alpha=scale), dim=1).max())
    big = X64.shape[1] ** 0.5 * (max(abs(lo), abs(hi)) * scale + deviation)  # a bound on ||x||
    err = 2 * (deviation + 2.0 ** -50 * big)  # 8 u (||x|| + ||e||) covers the rounding of x - fl(k fl(scale))
    codes = torch.nn.functional.pad(levels.sub_(lo + 128).to(torch.int8), (0, -X64.shape[1] % 8))
    sq = codes.to(torch.int32).pow_(2).sum(1, dtype=torch.int32)
    s2 = scale * scale

    def values(a: Rows, b0: int, b1: int) -> torch.Tensor:
        return torch.add(sq[a, None], torch._int_mm(codes[a], codes[b0:b1].T), alpha=-2).add_(sq[None, b0:b1])

    def bound(rows: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        last = v[:, -1]
        return 2 * err * last.sqrt() + err * err + 2.0 ** -50 * last

    return _Ranking(values=values, dtype=torch.int32, squared=lambda v: v.to(torch.float64) * s2, bound=bound), err


def _pair_distances(X64: torch.Tensor, a: torch.Tensor, b: torch.Tensor, budget_bytes: int) -> torch.Tensor:
    """float64 distances ||X64[a] - X64[b]|| of the index pairs ``a``, ``b`` (m,), from the differences, in pieces of
    at most ``budget_bytes``."""
    step = chunk_rows(len(a), X64.shape[1], budget_bytes)
    return torch.cat([(X64[a[i:i + step]] - X64[b[i:i + step]]).norm(dim=1) for i in range(0, len(a), step)]
                     or [X64.new_empty(0)])


def _blocks(n: int, kc: int, budget_bytes: int, itemsize: int) -> list[tuple[int, int]]:
    """Row blocks ``(start, stop)`` of the symmetric search: ``_BLOCK_ROWS`` rows (fewer when a square block would
    exceed ``budget_bytes``), never fewer than ``kc + 1`` (a block's own points give each of its rows ``kc``
    candidates); a last block smaller than that is merged into the one before."""
    size = max(kc + 1, min(_BLOCK_ROWS, int((budget_bytes / itemsize) ** 0.5)))
    starts = list(range(0, n, size))
    if len(starts) > 1 and n - starts[-1] < kc + 1:
        starts.pop()
    return list(zip(starts, starts[1:] + [n]))


def _ranked_candidates(ranking: _Ranking, n: int, kc: int, budget_bytes: int, device: torch.device
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``kc`` smallest ranking values (b != a) of every row ``a`` of the ``n`` points, ascending, and their
    indices b: two (N, kc) tensors.

    Symmetric blocked search: the product of each pair of row blocks is computed once and serves both (half the
    GEMM of a row-by-row search). Diagonal blocks come first: the ``kc``-th smallest value of a row among its own
    block's points is a threshold its final ``kc``-th value cannot exceed, so of an off-diagonal block only the
    entries below their row's (or column's) threshold are kept, a few per row instead of a top-k of every block
    (the top-k where more than 4 kc per row beat the thresholds). When a row block has kept more than
    ``_COMPACT_AT`` kc entries per row, they are reduced to each row's best ``kc`` and its thresholds tightened, so
    memory stays O(N kc) whatever N. Every entry left out has a computed value at least the returned ``kc``-th one.

    A diagonal block is built from its upper half (recursively, down to ``_MIN_DIAGONAL_ROWS``), so the GEMM
    computes little more than the N^2 / 2 entries."""
    dtype, itemsize, largest = ranking.dtype, ranking.dtype.itemsize, _largest(ranking.dtype)
    blocks = _blocks(n, kc, budget_bytes, itemsize)
    threshold = torch.empty(n, dtype=dtype, device=device)
    # per row block: kept entries (row, col, value), rows non-decreasing within each piece, and their count
    kept: list[list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]] = [[] for _ in blocks]
    count = [0] * len(blocks)

    def compact(p: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Reduce row block ``p``'s kept entries to each row's ``kc`` smallest; returns them as (rows, kc) values and
        columns, ascending, and tightens the thresholds."""
        a0, a1 = blocks[p]
        row, col, value = (torch.cat(t) for t in zip(*kept[p]))
        counts = torch.bincount(row - a0, minlength=a1 - a0)
        if int(counts.max()) * (a1 - a0) * (itemsize + 8) <= budget_bytes:  # a padded table, row top-k
            if len(kept[p]) > 1:  # pieces are each sorted by row, not their concatenation
                order = row.argsort(stable=True)
                row, col, value = row[order], col[order], value[order]
            slot = torch.arange(len(row), device=device) - (torch.cumsum(counts, 0) - counts)[row - a0]
            table = torch.full((a1 - a0, int(counts.max())), largest, dtype=dtype, device=device)
            index = torch.zeros(table.shape, dtype=torch.long, device=device)
            table[row - a0, slot] = value
            index[row - a0, slot] = col
            vals, order = table.topk(kc, dim=1, largest=False)
            cols = index.gather(1, order)
        else:  # too wide for a table (a few rows with very many entries): sort by (row, value)
            order = value.argsort(stable=True)
            order = order[row[order].argsort(stable=True)]
            first = torch.cumsum(counts, 0) - counts
            take = order[(first[:, None] + torch.arange(kc, device=device)).flatten()]
            vals, cols = value[take].view(-1, kc), col[take].view(-1, kc)
        kept[p] = [(torch.arange(a0, a1, device=device).repeat_interleave(kc), cols.flatten(), vals.flatten())]
        count[p] = len(kept[p][0][0])
        threshold[a0:a1] = vals[:, -1]
        return vals, cols

    def keep(p: int, rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor) -> None:
        kept[p].append((rows, cols, values))
        count[p] += len(rows)
        if count[p] > _COMPACT_AT * kc * (blocks[p][1] - blocks[p][0]):
            compact(p)

    def keep_block(S: torch.Tensor, p: int, c0: int, transposed: bool = False) -> None:
        """Keep the entries of block ``S`` (of ``S.T`` when ``transposed``) for the rows of block ``p`` (columns
        from c0) below their thresholds, or the top-kc of each row when there are more than 4 kc per row."""
        r0, r1 = blocks[p]
        limit = threshold[r0:r1]
        # the mask is taken on S itself: nonzero of a transposed view is slow
        r, c = _sparse_nonzero(S < (limit[None, :] if transposed else limit[:, None]))
        if len(r) <= 4 * kc * (r1 - r0):  # rows unsorted when transposed: compact() sorts pieces by row
            keep(p, (c if transposed else r) + r0, (r if transposed else c) + c0, S[r, c])
            return
        v, i = (S.T if transposed else S).topk(min(kc, S.shape[0 if transposed else 1]), dim=1, largest=False)
        keep(p, torch.arange(r0, r1, device=device).repeat_interleave(v.shape[1]), i.flatten() + c0, v.flatten())

    def block(a0: int, a1: int, b0: int, b1: int) -> torch.Tensor:
        return ranking.values(slice(a0, a1), b0, b1)

    def diagonal_block(a0: int, a1: int) -> torch.Tensor:
        """The symmetric block of rows and columns a0:a1 from its upper half: two diagonal blocks (recursively)
        and one off-diagonal block, used twice."""
        if a1 - a0 < 2 * _MIN_DIAGONAL_ROWS:
            return block(a0, a1, a0, a1)
        m = (a0 + a1) // 2
        upper = block(a0, m, m, a1)
        return torch.cat([torch.cat([diagonal_block(a0, m), upper], 1), torch.cat([upper.T, diagonal_block(m, a1)], 1)])

    for p, (a0, a1) in enumerate(blocks):
        S = diagonal_block(a0, a1)
        S.fill_diagonal_(largest)  # self excluded, duplicates kept
        v, i = S.topk(kc, dim=1, largest=False)
        keep(p, torch.arange(a0, a1, device=device).repeat_interleave(kc), i.flatten() + a0, v.flatten())
        threshold[a0:a1] = v[:, -1]
    for p, (a0, a1) in enumerate(blocks):
        for q in range(p + 1, len(blocks)):
            b0, b1 = blocks[q]
            S = block(a0, a1, b0, b1)
            keep_block(S, p, b0)  # candidates of rows a0:a1
            keep_block(S, q, a0, transposed=True)  # candidates of rows b0:b1
    vals, cols = zip(*(compact(p) for p in range(len(blocks))))
    return torch.cat(vals), torch.cat(cols)


def _candidate_distances(X64: torch.Tensor, centred: torch.Tensor, sq64: torch.Tensor, bound64: torch.Tensor,
                         rows: torch.Tensor, cand: torch.Tensor, v: torch.Tensor, bound: torch.Tensor, k: int,
                         budget_bytes: int) -> torch.Tensor:
    """float64 distances (len(rows), kc) from ``rows`` to their candidates ``cand`` (ranked by their squared values
    ``v``, float64, ascending, each within the row's ``bound`` of the true squared distance): the matmul form of the centred
    points in float64 where its rounding bound ``bound64`` is within ``SQUARED_RTOL`` of the value, the
    differences of the points elsewhere (near-duplicates). A candidate whose value exceeds the k-th one by more
    than twice the bound is not among the k nearest (its true squared distance exceeds ``vals[:, k-1] + bound``,
    which the first k candidates' do not) and gets +inf instead. The candidates' points are gathered a few rows
    at a time on the CPU (the gathered block stays in cache), ``budget_bytes`` at a time on CUDA, each group as
    wide as its rows need."""
    m, kc = cand.shape
    dim = centred.shape[1]
    step = chunk_rows(m, kc * dim, budget_bytes) if centred.is_cuda else _GATHER_ROWS
    needed, by_width = (v <= v[:, k - 1:k] + 2 * bound[:, None]).sum(1).sort()  # groups of equal widths
    widths = torch.nn.functional.pad(needed, (0, -m % step)).view(-1, step).amax(1)
    sorted_cand, sorted_rows = cand[by_width], rows[by_width]
    dots = torch.empty(m, kc, dtype=centred.dtype, device=centred.device)
    dots[by_width] = torch.cat([torch.nn.functional.pad(
        torch.bmm(centred.index_select(0, sorted_cand[s:s + step, :w].flatten()).view(-1, w, dim),
                  centred[sorted_rows[s:s + step], :, None])[..., 0], (0, kc - w))
        for s, w in zip(range(0, m, step), widths.tolist())] or [centred.new_empty(0, kc)])
    computed = torch.empty(m, kc, dtype=torch.bool, device=cand.device)
    computed[by_width] = torch.arange(kc, device=cand.device) < widths.repeat_interleave(step)[:m, None]
    sq_dist = (sq64[rows, None] + sq64[cand] - 2 * dots).masked_fill(~computed, float("inf"))
    dist = sq_dist.clamp_min(0.0).sqrt()
    loose = (bound64[rows, None] >= SQUARED_RTOL * sq_dist.clamp_min(0.0)).nonzero(as_tuple=True)
    dist[loose] = _pair_distances(X64, rows[loose[0]], cand[loose], budget_bytes)
    return dist


def _choose_ranking(X: torch.Tensor, X64: torch.Tensor, centred: torch.Tensor, sq64: torch.Tensor,
                    norms: torch.Tensor, rank_dtype: torch.dtype | None) -> _Ranking:
    """The ranking of ``knn_distances``: the integer one for 8-bit data on the CPU (``rank_dtype`` None or int8) when
    its bound is no looser than the float32 ranking's at the largest norm; the matmul form in ``rank_dtype``
    otherwise (None: float32, or float64 where float32 squares could overflow)."""
    if rank_dtype not in (None, torch.int8, torch.float32, torch.float64):
        raise ValueError(f"rank_dtype must be None, torch.float32, torch.float64 or torch.int8, got {rank_dtype}")
    if rank_dtype not in (None, torch.int8):
        return _float_ranking(centred, sq64, norms, rank_dtype)
    largest = float(norms.max())
    float32_squares = 16 * largest ** 2 < torch.finfo(torch.float32).max
    if X.device.type == "cpu" and X.shape[1] <= _GRID_MAX_DIM:
        # a float ranking's bound for two points of the largest norm, against the grid's for the largest distance
        loosest = float(matmul_error_bound(norms.new_tensor(largest), largest, X.shape[1], _UNIT_ROUNDOFF[
            torch.float32 if float32_squares else torch.float64]))

        def tight(found: tuple[_Ranking, float] | None) -> bool:  # all points equal (largest 0): both are exact
            return found is not None and (rank_dtype == torch.int8 or largest == 0
                                          or 4 * found[1] * largest + found[1] ** 2 <= loosest)

        for per_unit in _GRID_LEVELS:
            if tight(_grid_ranking(X64[:_GRID_PROBE_ROWS], per_unit)):  # tells most other data apart at once
                found = _grid_ranking(X64, per_unit)
                if tight(found):
                    return found[0]
    if rank_dtype == torch.int8:
        raise ValueError("rank_dtype=torch.int8 needs 8-bit data on the CPU: values k/255 or integers k spanning at "
                         f"most 256 levels, and D <= {_GRID_MAX_DIM}; got {X.dtype} on {X.device.type}, D = "
                         f"{X.shape[1]}")
    return _float_ranking(centred, sq64, norms, torch.float32 if float32_squares else torch.float64)


def knn_distances(X: torch.Tensor, k: int, *, rank_dtype: torch.dtype | None = None, margin: int = 4,
                  budget_bytes: int = 1 << 28) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances (float64, ascending) and indices of the ``k`` nearest neighbours of every point, self excluded.

    ``X``: (N, ...) real, finite; returns two (N, k) tensors on ``X``'s device, float64 distances and int64
    indices. Duplicates are kept (distance 0). Candidates are ranked on the centred cloud in a symmetric blocked
    search (``_ranked_candidates``) that keeps ``k + margin`` of them per point, by the matmul form in
    ``rank_dtype``: ``None`` (the default) ranks 8-bit data on the CPU exactly in integers (``torch.int8``: images
    stored as k/255, as torchvision's ``ToTensor`` and this book's loaders give them, or integer codes k; at most 256
    levels, D <= 33,000; a GEMM four times float32's speed), other data in float32 (float64 where float32 squares
    could overflow); ``torch.float32``, ``torch.float64`` or ``torch.int8`` choose one. The squared distance of a
    candidate that can be among the k nearest (its value within twice the ranking's error bound of the k-th) is
    recomputed in float64, by the matmul form where its float64 rounding bound (:func:`matmul_error_bound`) is at
    most ``SQUARED_RTOL`` of it and from the differences elsewhere (near-duplicates). A point's result is accepted
    when its k-th distance is at most the smallest distance any non-candidate can have given the bound; otherwise
    its candidate list is doubled until it is (at most N - 1, the brute force). Every returned distance is therefore
    that of an exact search to a proven relative error of ``SQUARED_RTOL / 2`` (5e-11), whatever the offset or
    dtype of ``X``; among equidistant neighbours the indices may differ from another exact search. Memory stays
    within about ``budget_bytes`` per block, plus O(N (k + margin)) for the candidates.

    Raises TypeError for a ``k`` that is not an int; ValueError unless 1 <= k < N, for non-finite points, integer
    coordinates spanning more than 2^53 (not exact in float64), distances whose squares overflow float64, an
    unsupported ``rank_dtype``, or ``rank_dtype=torch.int8`` for data that are not 8-bit (or not on the CPU).
    """
    X = as_points(X)
    n, dim = X.shape
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__} {k!r}")
    if not 1 <= k < n:
        raise ValueError(f"k={k} nearest neighbours need 1 <= k < N={n}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if not X.is_floating_point():  # shifted in integers first: float64 holds any range below 2^53 exactly
        X = X.long() - X.long().amin(0)
        if int(X.max()) > 2 ** 53:
            raise ValueError(f"X has integer coordinates spanning {int(X.max())} > 2^53, which float64 cannot hold "
                             "exactly; rescale or subtract an offset first")
    X64 = X.to(torch.float64)  # exact differences are taken here: centring would round away tiny ones
    centred = X64 - X64.mean(0)  # translation changes no distance; the matmul form then cancels no common offset
    sq64 = (centred * centred).sum(1)
    if not torch.isfinite(4 * sq64.max()):  # squared distances reach (2 max ||x - mean||)^2
        raise ValueError(f"X's squared distances overflow float64 (coordinates up to {float(X64.abs().max()):.3g})"
                         "; rescale X first (ratios of distances, and so intrinsic dimensions, do not change)")
    norms = sq64.sqrt()
    ranking = _choose_ranking(X, X64, centred, sq64, norms, rank_dtype)
    bound64 = matmul_error_bound(norms, float(norms.max()), dim, _UNIT_ROUNDOFF[torch.float64],
                                 (dim + 8) * torch.finfo(torch.float64).tiny)
    kc = min(n - 1, k + margin)
    vals, cand = _ranked_candidates(ranking, n, kc, budget_bytes, X.device)
    d_out = torch.empty(n, k, dtype=torch.float64, device=X.device)
    i_out = torch.empty(n, k, dtype=torch.long, device=X.device)
    todo = torch.arange(n, device=X.device)
    while True:
        v = ranking.squared(vals)
        bound = ranking.bound(todo, v)
        dist = _candidate_distances(X64, centred, sq64, bound64, todo, cand, v, bound, k, budget_bytes)
        dist, order = dist.sort(dim=1)
        if kc == n - 1:  # every other point is a candidate: nothing to prove
            done = torch.ones(len(todo), dtype=torch.bool, device=X.device)
        else:
            # A non-candidate is at least v[:, -1] - bound away (squared); the k-th returned one is at most
            # dist[:, k-1]^2 (1 + SQUARED_RTOL).
            done = dist[:, k - 1] ** 2 * (1 + SQUARED_RTOL) <= v[:, -1] - bound
        d_out[todo[done]] = dist[done, :k]
        i_out[todo[done]] = cand[done].gather(1, order[done])[:, :k]
        todo, kc = todo[~done], min(n - 1, 2 * kc)
        if not len(todo):
            return d_out, i_out
        vals, cand = _row_candidates(ranking, todo, n, kc, budget_bytes)


def _row_candidates(ranking: _Ranking, rows: torch.Tensor, n: int, kc: int, budget_bytes: int
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``kc`` smallest ranking values (b != a) of the given ``rows`` against all ``n`` points, ascending, and
    their indices: the search for the few rows whose first candidates did not prove their neighbours."""
    step = chunk_rows(len(rows), n, budget_bytes)
    vals, idxs = [], []
    for s in range(0, len(rows), step):
        r = rows[s:s + step]
        S = ranking.values(r, 0, n)
        S[torch.arange(len(r), device=r.device), r] = _largest(ranking.dtype)
        v, i = S.topk(kc, dim=1, largest=False)
        vals.append(v)
        idxs.append(i)
    return torch.cat(vals), torch.cat(idxs)
