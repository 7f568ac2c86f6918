"""Maximum-entropy diffeomorphisms of images (Petrini, Favero, Geiger & Wyart 2021, Sec. 2 and App. A-C).

A displacement field tau = (tau_u, tau_v) on [0, 1]^2 with fixed boundaries is drawn from the maximum-entropy
ensemble at temperature T (Eq. 2):

    tau_u(u, v) = sum_{i,j >= 1} C_ij sin(i pi u) sin(j pi v),    C_ij ~ N(0, T / (i^2 + j^2)),

independently for tau_v. High frequencies are cut off at c. **Cutoff rule:** we keep the modes with
sqrt(i^2 + j^2) < c + 1/2, as the authors' library (pcsl-epfl/diffeomorphism) does and as every published R_f was
computed; the paper's text writes i^2 + j^2 <= c^2, which differs for small c (c = 3 keeps (1, 3) and (3, 1) here).
An image of n x n pixels sits on the grid u = linspace(0, 1, n), and displacements are measured in pixels,
tau * n, as in the library. The deformed image is [tau x](s) = x(s - tau(s)), read off by bilinear or Gaussian
interpolation with source coordinates clamped to the image.

Unlike the library (one field per call, global RNG), every image gets its own field, drawn from a seeded
``torch.Generator``, and a whole batch is deformed by one einsum and one ``grid_sample``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F

INTERPOLATIONS = ("bilinear", "gaussian")
GAUSSIAN_SIGMA = 0.4715  # px: the width of the Gaussian interpolation kernel of the authors' library (App. C)


def _check_cut(c: float) -> None:
    if not c >= 1:
        raise ValueError(f"the cutoff c must be >= 1 (got {c}); c = 1 keeps the single mode (1, 1)")


@lru_cache(maxsize=64)
def _modes(c: float) -> tuple[tuple[int, int], ...]:
    m = math.floor(c + 0.5)
    return tuple((i, j) for i in range(1, m + 1) for j in range(1, m + 1) if math.hypot(i, j) < c + 0.5)


def mode_count(c: float) -> int:
    """The number of modes (i, j) kept by the cutoff sqrt(i^2 + j^2) < c + 1/2."""
    _check_cut(c)
    return len(_modes(c))


def mode_weights(c: float, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(m, m) standard deviations of C_ij / sqrt(T): 1/sqrt(i^2 + j^2) inside the cutoff, 0 outside (Eq. 2)."""
    _check_cut(c)
    m = math.floor(c + 0.5)
    k = torch.arange(1, m + 1, dtype=dtype)
    r = (k[:, None] ** 2 + k[None, :] ** 2).sqrt()
    return (r < c + 0.5) / r


def sine_basis(n: int, m: int, dtype: torch.dtype = torch.float64, derivative: bool = False) -> torch.Tensor:
    """(n, m) matrix sin(k pi u) (or its derivative k pi cos(k pi u)) on u = linspace(0, 1, n), k = 1..m."""
    u = torch.linspace(0, 1, n, dtype=dtype)
    k = torch.arange(1, m + 1, dtype=dtype)
    if derivative:
        return math.pi * k * torch.cos(math.pi * u[:, None] * k)
    return torch.sin(math.pi * u[:, None] * k)


def sample_coefficients(batch: int, T: float | torch.Tensor, c: float, *,
                        generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(batch, 2, m, m) coefficients C_ij of tau_u and tau_v, one independent field per image (Eq. 2).

    ``T`` is a number or a (batch,) tensor of temperatures (one per image). Single precision by default, as in the
    authors' library: displacements are then exact to ~1e-7 pixel.
    """
    e = mode_weights(c, dtype)
    z = torch.randn((batch, 2, *e.shape), generator=generator, dtype=dtype)
    t = torch.as_tensor(T, dtype=dtype).reshape(-1, 1, 1, 1)
    if (t < 0).any():
        raise ValueError("the temperature T must be non-negative")
    return z * e * t.sqrt()


def displacement(coef: torch.Tensor, n: int) -> torch.Tensor:
    """(B, 2, n, n) pixel displacements n * tau(s) on the n x n pixel grid; channel 0 is along x (columns).

    ``coef[:, k, i, j]`` multiplies sin(i pi u) sin(j pi v) with u along x, as in the authors' library.
    """
    s = sine_basis(n, coef.shape[-1], coef.dtype).to(coef.device)
    return n * (s @ coef.transpose(-1, -2) @ s.T)  # u[y, x] = sum_ij C_ij s[x, i] s[y, j], as two batched GEMMs


def sample_displacement(batch: int, n: int, T: float | torch.Tensor, c: float, *,
                        generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(batch, 2, n, n) pixel displacement fields of independent max-entropy diffeomorphisms."""
    return displacement(sample_coefficients(batch, T, c, generator=generator, dtype=dtype), n)


def _source_coordinates(field: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n = field.shape[-1]
    grid = torch.arange(n, dtype=field.dtype, device=field.device)
    xs = (grid[None, None, :] - field[:, 0]).clamp(0, n - 1)  # [tau x](s) = x(s - tau(s))
    ys = (grid[None, :, None] - field[:, 1]).clamp(0, n - 1)
    return xs, ys


def remap_bilinear(images: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
    """Bilinear remap of a batch (B, C, n, n) by pixel displacements (B, 2, n, n), one ``grid_sample`` call."""
    n = images.shape[-1]
    base = torch.linspace(-1, 1, n, dtype=images.dtype, device=images.device)
    offset = field.to(images.dtype).permute(0, 2, 3, 1) * (2 / (n - 1))  # (B, n, n, 2) in grid units, (x, y)
    grid = (torch.stack(torch.meshgrid(base, base, indexing="xy"), dim=-1) - offset).clamp_(-1, 1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)


def remap_gaussian(images: torch.Tensor, field: torch.Tensor, sigma: float = GAUSSIAN_SIGMA,
                   radius: int = 3) -> torch.Tensor:
    """Gaussian-interpolation remap: each output pixel is the normalised Gaussian-weighted mean of source pixels.

    The library sums over all n^2 source pixels (O(n^4)); the kernel is separable and falls below 1e-17 beyond
    3 px at sigma = 0.47 px, so we sum over a (2 radius)^2 window around the source point: O(n^2) and equal to the
    dense sum to float precision (tested).
    """
    b, ch, n, _ = images.shape
    xs, ys = _source_coordinates(field.to(images.dtype))
    offsets = torch.arange(-radius + 1, radius + 1, device=images.device)

    def axis_weights(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = p.floor().long()[..., None] + offsets  # (B, n, n, 2r) source pixel indices
        w = torch.exp(-(k - p[..., None]) ** 2 / (2 * sigma ** 2)) * ((k >= 0) & (k < n))
        return k.clamp(0, n - 1), w / w.sum(-1, keepdim=True)

    kx, wx = axis_weights(xs)
    ky, wy = axis_weights(ys)
    flat = images.reshape(b, ch, n * n)
    out = torch.zeros_like(images)
    for a in range(2 * radius):
        for d in range(2 * radius):
            index = (ky[..., a] * n + kx[..., d]).reshape(b, 1, n * n).expand(b, ch, n * n)
            out += (wy[..., a] * wx[..., d])[:, None] * flat.gather(2, index).reshape(b, ch, n, n)
    return out


def remap(images: torch.Tensor, field: torch.Tensor, interp: str = "bilinear") -> torch.Tensor:
    """Deform a batch of square images (B, C, n, n) by pixel displacement fields (B, 2, n, n)."""
    if images.ndim != 4 or images.shape[-1] != images.shape[-2]:
        raise ValueError(f"images must be a batch of square images (B, C, n, n), got shape {tuple(images.shape)}")
    if field.shape != (images.shape[0], 2, *images.shape[-2:]):
        raise ValueError(f"field must have shape {(images.shape[0], 2, *images.shape[-2:])}, got {tuple(field.shape)}")
    if interp == "bilinear":
        return remap_bilinear(images, field.to(images.device))
    if interp == "gaussian":
        return remap_gaussian(images, field.to(images.device))
    raise ValueError(f"unknown interpolation {interp!r}; use one of {INTERPOLATIONS}")


def deform(images: torch.Tensor, T: float | torch.Tensor, c: float, interp: str = "bilinear", *,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply an independent max-entropy diffeomorphism of temperature ``T`` and cutoff ``c`` to each image."""
    if images.ndim != 4:
        raise ValueError(f"images must be (B, C, n, n), got shape {tuple(images.shape)}")
    field = sample_displacement(images.shape[0], images.shape[-1], T, c, generator=generator)
    return remap(images, field, interp)


def remap_reference(image: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """One image (C, n, n), remapped the authors' way: clamp, floor/ceil, four gathers (pcsl ``remap``).

    Kept as the validation oracle and benchmark baseline for :func:`remap_bilinear`, which replaces a Python loop of
    these calls (one per image) by one batched call.
    """
    n = image.shape[-1]
    y, x = torch.meshgrid(torch.arange(n, dtype=dx.dtype), torch.arange(n, dtype=dx.dtype), indexing="ij")
    x = (x - dx).clamp(0, n - 1)
    y = (y - dy).clamp(0, n - 1)
    xf, yf, xc, yc = x.floor().long(), y.floor().long(), x.ceil().long(), y.ceil().long()
    flat = image.reshape(-1, n * n)

    def at(xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        return flat[:, (n * yi + xi).flatten()].reshape(image.shape)

    xv, yv = (x - xf).to(image.dtype), (y - yf).to(image.dtype)
    return ((1 - yv) * (1 - xv) * at(xf, yf) + (1 - yv) * xv * at(xc, yf)
            + yv * (1 - xv) * at(xf, yc) + yv * xv * at(xc, yc))


# ------------------------------------------------------------------------------------ magnitude: delta and T

def centre_mode_sum(c: float) -> float:
    """S(c) = sum of 1/(i^2 + j^2) over kept modes with i and j odd (the modes that move the image centre)."""
    _check_cut(c)
    return sum(1.0 / (i * i + j * j) for i, j in _modes(c) if i % 2 and j % 2)


def displacement_sq(T: float, c: float, n: int, exact: bool = True) -> float:
    """delta^2: the mean squared displacement of the image centre (u = v = 1/2), in pixels^2.

    Exact for the finite set of kept modes, delta^2 = 2 n^2 T S(c); with ``exact=False`` the large-c asymptote of
    Eq. (3), delta^2 = (pi/4) n^2 T ln c, since S(c) ~ (pi/8) ln c.
    """
    if exact:
        return 2 * n * n * T * centre_mode_sum(c)
    _check_cut(c)
    return math.pi / 4 * n * n * T * math.log(c)


def temperature_for_delta(delta: float, c: float, n: int, exact: bool = False) -> float:
    """The temperature T whose centre displacement is ``delta`` pixels (Eq. 3 inverted).

    The default is the asymptotic formula T = 4 delta^2 / (pi n^2 ln c), which is what the authors used for every
    "delta = 1" result (the true rms displacement is then 1.27 px at n = 32, c = 3); ``exact=True`` uses S(c).
    """
    if delta < 0:
        raise ValueError(f"delta must be non-negative, got {delta}")
    if not exact and c <= 1:
        raise ValueError("the asymptotic formula needs c > 1 (ln 1 = 0); use exact=True for c = 1")
    return delta ** 2 / displacement_sq(1.0, c, n, exact=exact)


def gradient_norm_sq(T: float, c: float, exact: bool = True) -> float:
    """<||grad tau||^2>, Eq. (1) in [0,1]^2 units: exactly (pi^2 / 2) T N_modes; asymptotically (pi^3/8) c^2 T."""
    if exact:
        return math.pi ** 2 / 2 * T * mode_count(c)
    return math.pi ** 3 / 8 * c * c * T


# ------------------------------------------------------------------------------------ bijectivity

def jacobian_determinant(coef: torch.Tensor, n: int) -> torch.Tensor:
    """(B, n, n) det of the Jacobian of s -> s - tau(s) on an n x n grid of [0, 1]^2 (App. B).

    The map is a diffeomorphism where this determinant is positive everywhere.
    """
    m = coef.shape[-1]
    s = sine_basis(n, m, coef.dtype).to(coef.device)
    ds = sine_basis(n, m, coef.dtype, derivative=True).to(coef.device)
    ct = coef.transpose(-1, -2)
    du = s @ ct @ ds.T  # d tau_k / du
    dv = ds @ ct @ s.T  # d tau_k / dv
    return (1 - du[:, 0]) * (1 - dv[:, 1]) - dv[:, 0] * du[:, 1]


def bijective_fraction(T: float, c: float, samples: int = 200, *, grid: int = 64,
                       generator: torch.Generator | None = None) -> float:
    """The fraction of sampled fields whose map s -> s - tau(s) has a positive Jacobian everywhere on the grid."""
    coef = sample_coefficients(samples, T, c, generator=generator)
    return float((jacobian_determinant(coef, grid).flatten(1).amin(1) > 0).double().mean())


def phase_diagram(temperatures: list[float], cuts: list[float], samples: int = 100, *, grid: int = 64,
                  seed: int = 0) -> torch.Tensor:
    """(len(cuts), len(temperatures)) probability that a sampled field is a diffeomorphism (Fig. 1's green region)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.tensor([[bijective_fraction(T, c, samples, grid=grid, generator=gen) for T in temperatures]
                         for c in cuts])
