"""One call that sets a chapter up: its profile, the figure style, its results store and sweep workers, its device
and the datasets it needs, so that a notebook's first code cell holds only the chapter's own choices::

    ch = setup_chapter("ch02", profile, {"smoke": {...}, "book": {...}, "paper": {...}},
                       data_root=data_root, device=device, datasets=("datasets",), seeds=seeds)
    ch.cfg.n_train                        # the profile's value, or the notebook parameter that overrides it
    records = ch.sweep(configs, run_model)  # resumable, saved in ch.store, on ch.executor when workers > 0
"""

from __future__ import annotations

import concurrent.futures as cf
import re
import time
from dataclasses import dataclass, field
from multiprocessing import get_context
from types import SimpleNamespace
from typing import Callable, Iterable, Mapping, Sequence

import torch

from lib.data import data_roots, get_spec, present, stand_ins_in_use
from lib.pipeline.device import pick_device
from lib.pipeline.figures import use_style
from lib.pipeline.profiles import resolve_profile
from lib.pipeline.results import ResultStore, run_sweep, start_sweep


@dataclass
class Chapter:
    """A chapter's resolved settings and the shared machinery its cells use.

    ``cfg``: the profile's entries with the notebook's overrides applied (plus ``cfg.profile``). ``store``: its
    :class:`~lib.pipeline.results.ResultStore`. ``root``: the data root argument (``None``: the default search).
    ``device``: where its experiments run. ``present``: for each profile entry named in ``datasets``, the datasets
    of that entry found under the data roots, in the entry's order. ``executor``: a process pool of ``workers``
    single-threaded processes (spawned, so that torch threads are never forked), or ``None`` to run here.
    ``started``: ``time.perf_counter()`` when the chapter was set up (the wall time of saved tables).
    """

    key: str
    cfg: SimpleNamespace
    store: ResultStore
    root: str | None
    device: torch.device
    present: dict[str, list[str]] = field(default_factory=dict)
    executor: cf.Executor | None = None
    started: float = field(default_factory=time.perf_counter)

    def describe(self) -> str:
        """One line for the page: the profile and every resolved parameter the chapter runs with, the device, and the
        command that reruns the chapter (for keys ``chNN``)."""
        values = ", ".join(f"{name}={value}" for name, value in vars(self.cfg).items() if name != "profile")
        line = f"{self.key} at profile {self.cfg.profile!r}: {values}; device {self.device}"
        number = re.fullmatch(r"ch(\d+)", self.key)
        return line + (f"; rerun: python -m lib run {int(number[1])} --profile {self.cfg.profile}" if number else "")

    def sweep(self, configs: Iterable[dict], fn: Callable[[dict], object], progress: bool = True) -> list[dict]:
        """:func:`~lib.pipeline.results.run_sweep` of ``fn`` over ``configs`` in this chapter's store and workers."""
        return run_sweep(configs, fn, self.store, self.executor, progress)

    def start(self, configs: Iterable[dict], fn: Callable[[dict], object]) -> cf.Future:
        """:func:`~lib.pipeline.results.start_sweep`: the same sweep in the background; ``.result()`` waits."""
        return start_sweep(configs, fn, self.store, self.executor)

    def close(self) -> None:
        """Shut the workers down (after the chapter's last sweep)."""
        if self.executor is not None:
            self.executor.shutdown()
            self.executor = None


def setup_chapter(key: str, profile: str, table: dict[str, dict], *, data_root: str = "", device: str = "auto",
                  datasets: Sequence[str] | Mapping[str, Sequence[str]] = (), workers: int = 0,
                  shrink: bool = False, sizes: Sequence[str] = (), **overrides) -> Chapter:
    """Resolve ``profile`` in the chapter's ``table`` with the notebook parameters ``overrides`` (``None`` keeps
    the profile's value; see :func:`~lib.pipeline.profiles.resolve_profile`), apply the book's figure style, open
    the results store ``key``/``profile``, pick the device, start ``workers`` processes, and check the data.

    ``shrink`` runs ``profile``'s code paths (its architectures, losses, dtypes, optimizers: every entry not named in
    ``sizes``) at the ``smoke`` profile's sizes (the entries named in ``sizes``), so that a test can prove in
    seconds that the ``paper`` profile runs; its results go to their own store (``<profile>-shrunk``).

    ``datasets`` names entries of the profile table that list datasets (a tuple of names, or one name), or maps
    labels to lists of datasets; each entry needs at least one of its datasets under the data roots, else
    ``FileNotFoundError`` names the entry, its datasets and the roots searched. A dataset read from its embedded
    stand-in (``python -m lib run`` offline) is announced in the cell's output, and the results store is then
    ``<profile>+<stand-in>-for-<dataset>``, apart from the results of the real data. Raises
    :class:`~lib.pipeline.profiles.ProfileError` for an unknown profile or override, ``ValueError`` for
    ``workers < 0`` and ``RuntimeError`` for CUDA asked for where there is none.
    """
    if workers < 0:
        raise ValueError(f"workers={workers}: the number of worker processes must be >= 0 (0: run in this kernel)")
    unknown = sorted(set(sizes) - set(table.get("smoke", {})))
    if unknown:
        raise ValueError(f"sizes names {unknown}, which are not entries of the profile table")
    if shrink:
        table = {**table, profile: {**table[profile], **{k: table["smoke"][k] for k in sizes}}}
    cfg = resolve_profile(profile, table, **overrides)
    use_style()
    root = data_root or None
    found = {}
    groups = datasets if isinstance(datasets, Mapping) else {entry: getattr(cfg, entry) for entry in datasets}
    for entry, names in groups.items():
        names = (names,) if isinstance(names, str) else tuple(names)
        found[entry] = present(names, root)
        if not found[entry]:
            roots = ", ".join(str(r) for r in data_roots(root))
            raise FileNotFoundError(f"{key} needs one of {names} ({entry!r}) but none is under the data "
                                    f"roots searched: {roots}. Fetch them with `python -m lib.data fetch "
                                    f"{' '.join(names)}` (or set GG_DATA_MIRROR / GG_DATA_ROOT; see the page 'The "
                                    f"data of this book').")
    stand_ins = stand_ins_in_use(root)
    for name, stand_in in stand_ins.items():
        print(f"Data: {name} is not under the data roots and could not be fetched, so this run reads {stand_in} in its "
              f"place ({get_spec(stand_in).title}: {get_spec(stand_in).source}); its numbers are not those of the "
              f"full {get_spec(name).title}.")
    executor = (cf.ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=torch.set_num_threads,
                                       initargs=(1,)) if workers else None)
    # Results computed on a stand-in are stored apart (never mistaken for, nor overwriting, those of the real data).
    label = "+".join([f"{cfg.profile}-shrunk" if shrink else cfg.profile,
                      *(f"{stand_in}-for-{name}" for name, stand_in in stand_ins.items())])
    chapter = Chapter(key, cfg, ResultStore(key, label), root, pick_device(device), found, executor)
    print(chapter.describe(), flush=True)
    return chapter
