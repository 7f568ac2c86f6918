"""A per-cell watchdog for headless notebook runs: a kernel that sits idle while a cell is outstanding is a stall.

nbclient waits for a cell's execute reply for as long as the cell's timeout; a reply that never comes (the kernel
idle in epoll, no CPU) would cost the whole timeout. :class:`StallWatchdog` is given to papermill as nbclient's
``timeout_func`` (so it learns which cell runs, and gives it the wall-clock limit) and polls the CPU time of the
kernel's process tree (the kernel and every worker it started) in a thread. When that tree has used less than
``busy_fraction`` of one core for ``idle_s`` seconds while a cell is outstanding, it records the stall (cell
number, first source line, idle seconds) and kills the kernel, so nbclient stops at once with ``DeadKernelError``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import psutil


@dataclass(frozen=True)
class Stall:
    """A stalled cell: ``number`` is its execution count (``In [number]``), ``line`` its first non-empty line."""

    number: int
    line: str
    idle_s: float

    def __str__(self) -> str:
        return (f"cell [{self.number}] ({self.line!r}) stalled: the kernel used no CPU for {self.idle_s:.0f} s "
                f"while its reply was outstanding")


def _kernel_tree(parent: psutil.Process) -> list[psutil.Process]:
    """The kernels started by ``parent`` (processes running ``ipykernel``) and all their descendants."""
    tree = []
    for child in parent.children(recursive=False):
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                tree += [child, *child.children(recursive=True)]
        except psutil.Error:
            continue
    return tree


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            continue
    return total


class StallWatchdog:
    """Watch the kernels started by this process while papermill runs; use as a context manager.

    ``cell_timeout``: the wall-clock limit each cell gets from nbclient (``None``: none). ``idle_s``: seconds of an
    idle kernel tree, during a cell, that count as a stall. ``poll_s``: seconds between CPU readings.
    ``busy_fraction``: the share of one core under which the tree counts as idle. After the run, ``stall`` holds
    the :class:`Stall` found, or ``None``. Raises ``ValueError`` for ``idle_s <= 0``, ``poll_s <= 0``,
    ``poll_s > idle_s`` or ``busy_fraction`` outside (0, 1).
    """

    def __init__(self, cell_timeout: int | None, idle_s: float = 120.0, poll_s: float = 2.0,
                 busy_fraction: float = 0.01) -> None:
        if not idle_s > 0:
            raise ValueError(f"idle_s={idle_s!r}: must be > 0 seconds")
        if not 0 < poll_s <= idle_s:
            raise ValueError(f"poll_s={poll_s!r}: must be > 0 and at most idle_s={idle_s!r}")
        if not 0 < busy_fraction < 1:
            raise ValueError(f"busy_fraction={busy_fraction!r}: must lie in (0, 1)")
        self.cell_timeout, self.idle_s, self.poll_s, self.busy_fraction = cell_timeout, idle_s, poll_s, busy_fraction
        self.stall: Stall | None = None
        self._cell: tuple[int, str] | None = None
        self._count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cell-watchdog", daemon=True)

    def timeout_func(self, cell: Any) -> int | None:
        """nbclient's ``timeout_func``: called as each code cell starts; records it and returns its time limit."""
        lines = [line for line in str(cell.get("source", "")).splitlines() if line.strip()]
        with self._lock:
            self._count += 1
            self._cell = (self._count, lines[0].strip() if lines else "")
        return self.cell_timeout

    def __enter__(self) -> StallWatchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        me = psutil.Process()
        last_cpu, last_busy, last_cell = None, time.monotonic(), None
        while not self._stop.wait(self.poll_s):
            tree = _kernel_tree(me)
            cpu, now = _cpu_seconds(tree), time.monotonic()
            with self._lock:
                cell = self._cell
            if cell != last_cell or last_cpu is None or abs(cpu - last_cpu) > self.busy_fraction * self.poll_s:
                last_busy = now
            last_cpu, last_cell = cpu, cell
            if cell is not None and tree and now - last_busy >= self.idle_s:
                self.stall = Stall(cell[0], cell[1], now - last_busy)
                for p in reversed(tree):
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                return
