"""Exact k-nearest neighbours of a point cloud, the shared first step of the intrinsic-dimension estimators.

Points are a tensor of shape (N, ...) flattened to (N, D); the search runs on the tensor's device in blocks. The
cloud is centred first (distances do not change; the matmul form loses no digits to a common offset). Candidates
are ranked with the matmul form ||a||^2 + ||b||^2 - 2 a.b in ``rank_dtype`` (float32 by default: twice the speed of
float64 GEMMs), one GEMM of the points augmented by their squared norms, each pair of row blocks multiplied once,
and the distances of those that can be among the k nearest recomputed in float64. A rounding bound
of the matmul form (:func:`matmul_error_bound`) proves that no point outside the candidates can be closer than the
k-th returned neighbour; rows where the proof fails get more candidates. The result is exact to a proven relative
5e-11 whatever the offset and dtype.
"""

from __future__ import annotations

import torch

from lib.pipeline.checks import as_points

_UNIT_ROUNDOFF = {torch.float64: 2.0 ** -53, torch.float32: 2.0 ** -24}
_TF32_UNIT_ROUNDOFF = 2.0 ** -11  # 10 mantissa bits
SQUARED_RTOL = 1e-10  # proven relative accuracy of every returned squared distance (5e-11 on distances)
_BLOCK_ROWS = 2048  # rows of a block of the symmetric search (fastest of 1024-4096 at N = 20,000 on 2 cores)
_GATHER_ROWS = 32  # rows whose candidates are gathered at once on the CPU (the block stays in cache)
_MIN_DIAGONAL_ROWS = 512  # diagonal blocks are built from their upper half down to blocks of this many rows
_COMPACT_AT = 2  # a row block's kept entries are reduced to kc per row once they exceed this many times kc


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


def _ranked_candidates(Xr: torch.Tensor, sq: torch.Tensor, kc: int, budget_bytes: int
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``kc`` smallest computed values of ``sq[a] + sq[b] - 2 a.b`` (b != a) of every row ``a``, ascending, and
    their indices b: two (N, kc) tensors.

    Symmetric blocked search: the product of each pair of row blocks is computed once and serves both (half the
    GEMM of a row-by-row search). Diagonal blocks come first: the ``kc``-th smallest value of a row among its own
    block's points is a threshold its final ``kc``-th value cannot exceed, so of an off-diagonal block only the
    entries below their row's (or column's) threshold are kept, a few per row instead of a top-k of every block
    (the top-k where more than 4 kc per row beat the thresholds). When a row block has kept more than
    ``_COMPACT_AT`` kc entries per row, they are reduced to each row's best ``kc`` and its thresholds tightened, so
    memory stays O(N kc) whatever N. Every entry left out has a computed value at least the returned ``kc``-th one.

    Each entry is one dot product of the augmented rows ``[a, ||a||^2, 1]`` and ``[-2 b, 1, ||b||^2]``: D + 2 terms
    whose absolute values sum to at most (||a|| + ||b||)^2, so :func:`matmul_error_bound` holds as for the
    separate form (the norms are rounded once, from float64). A diagonal block is built from its upper half
    (recursively, down to ``_MIN_DIAGONAL_ROWS``), so the GEMM computes little more than the N^2 / 2 entries."""
    n, device = len(Xr), Xr.device
    blocks = _blocks(n, kc, budget_bytes, Xr.element_size())
    threshold = torch.empty(n, dtype=Xr.dtype, device=device)
    # per row block: kept entries (row, col, value), rows non-decreasing within each piece, and their count
    kept: list[list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]] = [[] for _ in blocks]
    count = [0] * len(blocks)

    def compact(p: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Reduce row block ``p``'s kept entries to each row's ``kc`` smallest; returns them as (rows, kc) values and
        columns, ascending, and tightens the thresholds."""
        a0, a1 = blocks[p]
        row, col, value = (torch.cat(t) for t in zip(*kept[p]))
        counts = torch.bincount(row - a0, minlength=a1 - a0)
        if int(counts.max()) * (a1 - a0) * (Xr.element_size() + 8) <= budget_bytes:  # a padded table, row top-k
            if len(kept[p]) > 1:  # pieces are each sorted by row, not their concatenation
                order = row.argsort(stable=True)
                row, col, value = row[order], col[order], value[order]
            slot = torch.arange(len(row), device=device) - (torch.cumsum(counts, 0) - counts)[row - a0]
            table = torch.full((a1 - a0, int(counts.max())), float("inf"), dtype=Xr.dtype, device=device)
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

    # [a, ||a||^2, 1] . [-2 b, 1, ||b||^2] = ||a||^2 + ||b||^2 - 2 a.b: one GEMM, no pass adding the norms
    ones = torch.ones(n, 1, dtype=Xr.dtype, device=device)
    left, right = torch.cat([Xr, sq[:, None], ones], 1), torch.cat([-2 * Xr, ones, sq[:, None]], 1)

    def block(a0: int, a1: int, b0: int, b1: int) -> torch.Tensor:
        return left[a0:a1] @ right[b0:b1].T

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
        S.fill_diagonal_(float("inf"))  # self excluded, duplicates kept
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
                         rows: torch.Tensor, cand: torch.Tensor, vals: torch.Tensor, bound: torch.Tensor, k: int,
                         budget_bytes: int) -> torch.Tensor:
    """float64 distances (len(rows), kc) from ``rows`` to their candidates ``cand`` (ranked by their computed values
    ``vals``, ascending, each within ``bound[rows]`` of the true squared distance): the matmul form of the centred
    points in float64 where its rounding bound ``bound64`` is within ``SQUARED_RTOL`` of the value, the
    differences of the points elsewhere (near-duplicates). A candidate whose value exceeds the k-th one by more
    than twice the bound is not among the k nearest (its true squared distance exceeds ``vals[:, k-1] + bound``,
    which the first k candidates' do not) and gets +inf instead. The candidates' points are gathered a few rows
    at a time on the CPU (the gathered block stays in cache), ``budget_bytes`` at a time on CUDA, each group as
    wide as its rows need."""
    m, kc = cand.shape
    dim = centred.shape[1]
    step = chunk_rows(m, kc * dim, budget_bytes) if centred.is_cuda else _GATHER_ROWS
    v = vals.to(torch.float64)
    needed, by_width = (v <= v[:, k - 1:k] + 2 * bound[rows, None]).sum(1).sort()  # groups of equal widths
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


def knn_distances(X: torch.Tensor, k: int, *, rank_dtype: torch.dtype | None = None, margin: int = 4,
                  budget_bytes: int = 1 << 28) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances (float64, ascending) and indices of the ``k`` nearest neighbours of every point, self excluded.

    ``X``: (N, ...) real, finite; returns two (N, k) tensors on ``X``'s device, float64 distances and int64
    indices. Duplicates are kept (distance 0). The ranking uses the matmul form in ``rank_dtype`` (default float32,
    float64 where float32 squares could overflow) on the centred cloud, in a symmetric blocked search
    (``_ranked_candidates``) that keeps ``k + margin`` candidates per point. The squared distance of a candidate
    that can be among the k nearest (its value within twice the ranking bound of the k-th) is recomputed in
    float64, by the matmul form where its float64 rounding bound (:func:`matmul_error_bound`) is at most
    ``SQUARED_RTOL`` of it and from the differences elsewhere (near-duplicates). A point's result is accepted when
    its k-th distance is at most the smallest distance any non-candidate can have given the bound; otherwise its
    candidate list is doubled until it is (at most N - 1, the brute force). Every returned distance is therefore that of an exact search to a proven
    relative error of ``SQUARED_RTOL / 2`` (5e-11), whatever the offset or dtype of ``X``; among equidistant
    neighbours the indices may differ from another exact search. Memory stays within about ``budget_bytes`` per
    block, plus O(N (k + margin)) for the candidates.

    Raises ValueError unless 1 <= k < N, for non-finite points, or an unsupported ``rank_dtype``.
    """
    X = as_points(X)
    n, dim = X.shape
    if not 1 <= k < n:
        raise ValueError(f"k={k} nearest neighbours need 1 <= k < N={n}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    X64 = X.to(torch.float64)  # exact differences are taken here: centring would round away tiny ones
    centred = X64 - X64.mean(0)  # translation changes no distance; the matmul form then cancels no common offset
    sq64 = (centred * centred).sum(1)
    norms = sq64.sqrt()
    if rank_dtype is None:  # float32 unless its squares could overflow
        rank_dtype = torch.float32 if 16 * float(norms.max()) ** 2 < torch.finfo(torch.float32).max else torch.float64
    u = unit_roundoff(rank_dtype, X.device)
    Xr = centred.to(rank_dtype)
    sq = sq64.to(rank_dtype)  # one rounding: the bound below covers it with the coordinates' (Higham Sec. 3.1)
    bound = matmul_error_bound(norms, float(norms.max()), dim, u, (dim + 8) * torch.finfo(rank_dtype).tiny)
    bound64 = matmul_error_bound(norms, float(norms.max()), dim, _UNIT_ROUNDOFF[torch.float64],
                                 (dim + 8) * torch.finfo(torch.float64).tiny)
    kc = min(n - 1, k + margin)
    vals, cand = _ranked_candidates(Xr, sq, kc, budget_bytes)
    d_out = torch.empty(n, k, dtype=torch.float64, device=X.device)
    i_out = torch.empty(n, k, dtype=torch.long, device=X.device)
    todo = torch.arange(n, device=X.device)
    while True:
        dist = _candidate_distances(X64, centred, sq64, bound64, todo, cand, vals, bound, k, budget_bytes)
        dist, order = dist.sort(dim=1)
        if kc == n - 1:  # every other point is a candidate: nothing to prove
            done = torch.ones(len(todo), dtype=torch.bool, device=X.device)
        else:
            # A non-candidate b has a computed value >= vals[:, -1], so its true squared distance is at least
            # vals[:, -1] - err; the k-th returned one is at most dist[:, k-1]^2 (1 + SQUARED_RTOL).
            done = dist[:, k - 1] ** 2 * (1 + SQUARED_RTOL) <= vals[:, -1].to(torch.float64) - bound[todo]
        d_out[todo[done]] = dist[done, :k]
        i_out[todo[done]] = cand[done].gather(1, order[done])[:, :k]
        todo, kc = todo[~done], min(n - 1, 2 * kc)
        if not len(todo):
            return d_out, i_out
        vals, cand = _row_candidates(Xr, sq, todo, kc, budget_bytes)


def _row_candidates(Xr: torch.Tensor, sq: torch.Tensor, rows: torch.Tensor, kc: int, budget_bytes: int
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``kc`` smallest computed values of ``sq[a] + sq[b] - 2 a.b`` (b != a) of the given ``rows`` against all
    points, ascending, and their indices: the search for the few rows whose first candidates did not prove their
    neighbours."""
    step = chunk_rows(len(rows), len(Xr), budget_bytes)
    vals, idxs = [], []
    for s in range(0, len(rows), step):
        r = rows[s:s + step]
        S = torch.addmm(sq[r, None] + sq[None, :], Xr[r], Xr.T, alpha=-2.0)
        S[torch.arange(len(r), device=Xr.device), r] = float("inf")
        v, i = S.topk(kc, dim=1, largest=False)
        vals.append(v)
        idxs.append(i)
    return torch.cat(vals), torch.cat(idxs)
