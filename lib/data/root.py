"""Where datasets are looked for: argument > environment variable > user cache directory."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "GG_DATA_ROOT"


def cache_root() -> Path:
    """The per-user cache directory used when neither an argument nor ``$GG_DATA_ROOT`` names a root."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geometry-generalization" / "data"


def data_roots(root: str | os.PathLike | None = None) -> list[Path]:
    """The data roots to search, in order.

    An explicit ``root`` wins alone (it is where a user pointed us, so nothing else is searched); otherwise
    ``$GG_DATA_ROOT`` (when set) and then the user cache directory.
    """
    if root not in (None, ""):
        return [Path(root).expanduser().resolve()]
    roots = []
    env = os.environ.get(ENV_VAR)
    if env:
        roots.append(Path(env).expanduser().resolve())
    roots.append(cache_root())
    return roots


def writable(path: str | os.PathLike) -> bool:
    """Whether files may be created under ``path``: its nearest existing folder is writable and has a write
    permission bit (a folder made read-only on purpose, as a shared data pack, is never written, even by root)."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    return os.access(p, os.W_OK) and bool(p.stat().st_mode & 0o222)


def download_root(root: str | os.PathLike | None = None) -> Path:
    """Where a download is written: the first data root searched that is :func:`writable` (a read-only
    ``$GG_DATA_ROOT`` is read, and downloads go to the user cache), else the first root (the write then fails with
    an error naming it)."""
    roots = data_roots(root)
    return next((r for r in roots if writable(r)), roots[0])
