"""A results store keyed by (chapter, profile, parameters), with provenance, and a resumable sweep runner.

One JSON file per result, written atomically (a temporary file in the same folder, then ``os.replace``), so a crash
leaves either the whole record or nothing. ``run_sweep`` saves each configuration as soon as it finishes and skips
those already stored, so a rerun after a crash resumes where the last one stopped. Results of ``paper`` runs live
under ``book/results/`` and are committed; the other profiles cache under ``.cache/results/`` (ignored by git).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from tqdm.auto import tqdm

from lib.data.registry import stand_ins_in_use

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_RESULTS = REPO_ROOT / "book" / "results"
CACHED_RESULTS = REPO_ROOT / ".cache" / "results"


def _jsonable(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().tolist()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} in a JSON result; convert it to numbers or lists")


def config_key(params: dict) -> str:
    """A stable 16-hex-digit key of a parameter dict (order of keys does not matter)."""
    text = json.dumps(params, sort_keys=True, default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def git_commit() -> str:
    """The current commit, with ``+dirty`` when the work tree has uncommitted changes (``unknown`` outside git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(wall_s: float, device: str) -> dict:
    """Where, when and with what a result was computed."""
    return {"commit": git_commit(), "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "device": device, "wall_s": round(wall_s, 3), "host": platform.node(), "python": platform.python_version(),
            "torch": torch.__version__, **({"data_stand_ins": stand_ins} if (stand_ins := stand_ins_in_use()) else {})}


def write_benchmark(name: str, record: dict, wall_s: float, device: str) -> Path:
    """Save a benchmark record with its provenance as ``book/results/benchmarks/<name>.json``; return the path."""
    out = REPO_ROOT / "book" / "results" / "benchmarks" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**record, "provenance": provenance(wall_s, device)}, indent=1))
    print(f"wrote {out}")
    return out


def default_root(profile: str) -> Path:
    """``book/results`` for ``paper`` (committed), ``.cache/results`` otherwise (ignored by git)."""
    return COMMITTED_RESULTS if profile == "paper" else CACHED_RESULTS


class ResultStore:
    """Results of one chapter at one profile, one JSON file per parameter set:
    ``<root>/<chapter>/<profile>/<name>-<key>.json`` holding ``params``, ``result`` and ``provenance``."""

    def __init__(self, chapter: str, profile: str, root: str | os.PathLike | None = None):
        self.chapter, self.profile = chapter, profile
        self.folder = Path(root if root is not None else default_root(profile)) / chapter / profile

    def path(self, params: dict) -> Path:
        name = str(params.get("name", "run")).replace("/", "_")
        return self.folder / f"{name}-{config_key(params)}.json"

    def has(self, params: dict) -> bool:
        return self.path(params).is_file()

    def load(self, params: dict) -> dict:
        """The stored record (``params``, ``result``, ``provenance``) of ``params``."""
        with open(self.path(params)) as f:
            return json.load(f)

    def save(self, params: dict, result, wall_s: float, device: str) -> dict:
        """Write a record atomically and return it."""
        record = {"chapter": self.chapter, "profile": self.profile, "params": params, "result": result,
                  "provenance": provenance(wall_s, device)}
        text = json.dumps(record, indent=1, sort_keys=True, default=_jsonable)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path(params))
        return json.loads(text)

    def records(self) -> list[dict]:
        """Every stored record of this chapter and profile (partial temporary files are ignored)."""
        out = []
        for p in sorted(self.folder.glob("*.json")):
            if not p.name.startswith(".tmp-"):
                with open(p) as f:
                    out.append(json.load(f))
        return out


def timed_call(fn: Callable[[dict], object], params: dict) -> tuple[object, float, str]:
    """Run ``fn(params)``; return its result, the wall time and the device it reports (``params['device']``)."""
    start = time.perf_counter()
    result = fn(params)
    return result, time.perf_counter() - start, str(params.get("device", "cpu"))


class SweepError(RuntimeError):
    """Some configurations of a sweep failed; the others were saved."""


def start_sweep(configs: Iterable[dict], fn: Callable[[dict], object], store: ResultStore,
                executor: cf.Executor | None = None) -> cf.Future:
    """:func:`run_sweep` in a background thread, without a progress bar: its jobs go to ``executor`` now and share
    it with the sweeps started after it, so a long sweep overlaps the rest of a chapter. ``.result()`` waits and
    returns the records (or raises the :class:`SweepError`)."""
    thread = cf.ThreadPoolExecutor(1, thread_name_prefix=f"sweep-{store.chapter}")
    future = thread.submit(run_sweep, list(configs), fn, store, executor, False)
    thread.shutdown(wait=False)
    return future


def run_sweep(configs: Iterable[dict], fn: Callable[[dict], object], store: ResultStore,
              executor: cf.Executor | None = None, progress: bool = True) -> list[dict]:
    """Run ``fn`` on every configuration not yet in ``store``; return all records in the order of ``configs``.

    ``executor`` is any ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor``, or a Dask client's
    ``client.get_executor()``); ``None`` runs serially here. ``fn`` must be picklable for process-based executors
    (a module-level function). Each result is saved as soon as it arrives; a failing configuration does not stop
    the others, and a :class:`SweepError` listing the failures is raised at the end.
    """
    configs = list(configs)
    todo = list({store.path(c): c for c in configs if not store.has(c)}.values())  # equal configurations run once
    failures: list[tuple[dict, BaseException]] = []
    bar = tqdm(total=len(todo), desc=f"sweep {store.chapter}/{store.profile}", disable=not progress or not todo,
               leave=False)
    if executor is None:
        for params in todo:
            try:
                store.save(params, *timed_call(fn, params))
            except Exception as err:  # noqa: BLE001 - reported below with the configuration
                failures.append((params, err))
            bar.update()
    else:
        futures = {executor.submit(timed_call, fn, params): params for params in todo}
        for fut in cf.as_completed(futures):
            try:
                store.save(futures[fut], *fut.result())
            except Exception as err:  # noqa: BLE001
                failures.append((futures[fut], err))
            bar.update()
    bar.close()
    if failures:
        lines = "\n".join(f"  {p}: {type(e).__name__}: {e}" for p, e in failures)
        raise SweepError(f"{len(failures)} of {len(todo)} configurations failed (the others are saved in "
                         f"{store.folder}; rerun to resume):\n{lines}")
    return [store.load(c) for c in configs]
