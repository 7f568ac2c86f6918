"""A results store keyed by (chapter, profile, parameters) and the fingerprint of the code that computed each
record, with provenance, and a resumable sweep runner.

One JSON file per result, written atomically (a temporary file in the same folder, then ``os.replace``), so a crash
leaves either the whole record or nothing. ``run_sweep`` saves each configuration as soon as it finishes and skips
those already stored *by the same code*, so a rerun after a crash resumes where the last one stopped, and a rerun
after an edit of the code a sweep imports recomputes its records. The fingerprint (:func:`code_fingerprint`) hashes
the source of the sweep function's module and of every lib module it imports, transitively. Results of ``paper``
runs live under ``book/results/`` and are committed: those runs are too long to redo, so a committed record made by
other code is kept, flagged (``record["code_changed"]``) and announced next to the chapter's output; the other
profiles cache under ``.cache/results/`` (ignored by git).
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import datetime as dt
import functools
import hashlib
import inspect
import json
import os
import platform
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from lib.data.registry import stand_ins_in_use, unverified_in_use
from lib.pipeline.widgets import progress_bar

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


def _read_source(path: Path) -> str:
    """The text of a source file (one place, so that tests can simulate an edit)."""
    return path.read_text()


_AST_LOCK = threading.Lock()


def _lib_imports(source: str) -> set[str]:
    """Every ``lib`` module a source imports, at any depth: ``from lib.a import b`` gives ``lib.a`` and, when b is
    a module, ``lib.a.b``; parents (``lib``, ``lib.a``) are included since importing runs their ``__init__``."""
    found = set()
    # CPython 3.11: two threads parsing at once can fail ("AST constructor recursion depth mismatch"); sweeps started
    # in the background take their fingerprint in the calling thread (start_sweep), and parses here are serialised.
    with _AST_LOCK:
        tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "lib":
                found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def _module_file(module: str) -> Path | None:
    base = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def code_fingerprint(fn: Callable) -> str:
    """A 16-hex-digit hash of the code that ``fn`` runs: the source of its module (of ``fn`` itself when it has no
    module file, e.g. a notebook cell, read with ``inspect.getsource``) and of every lib module reached from it
    through imports, transitively.

    Any edit of those files (comments included: the safe side) changes the fingerprint; lib modules it does not
    import do not. ``functools.partial`` objects are followed to their function."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    module = inspect.getmodule(fn)
    in_file = module is not None and module.__name__ != "__main__" and getattr(module, "__file__", None)
    first = _read_source(Path(module.__file__)) if in_file else inspect.getsource(fn)
    sources = {"<fn>": first}
    todo = sorted(_lib_imports(first))
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in sources or path is None:
            continue
        sources[name] = _read_source(path)
        todo.extend(sorted(_lib_imports(sources[name]) - set(sources)))
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(f"{name}\0{sources[name]}\0".encode())
    return digest.hexdigest()[:16]


def provenance(wall_s: float, device: str, code: str | None = None) -> dict:
    """Where, when and with what a result was computed; ``code``: the :func:`code_fingerprint` of its function.
    Also, when any: the datasets read from their embedded stand-ins (``data_stand_ins``) and the splits on disk whose
    files differ from the official release (``data_not_verified``)."""
    return {"commit": git_commit(), "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "device": device, "wall_s": round(wall_s, 3), "host": platform.node(), "python": platform.python_version(),
            "torch": torch.__version__, "code": code,
            **({"data_stand_ins": stand_ins} if (stand_ins := stand_ins_in_use()) else {}),
            **({"data_not_verified": unverified} if (unverified := unverified_in_use()) else {})}


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
    ``<root>/<chapter>/<profile>/<name>-<key>.json`` holding ``params``, ``result`` and ``provenance`` (with the
    ``code`` fingerprint of the function that computed it).

    ``keep_other_code``: whether a record made by other code is kept (and flagged) rather than recomputed; by
    default only in the committed results (``book/results/``), whose long runs CI cannot redo."""

    def __init__(self, chapter: str, profile: str, root: str | os.PathLike | None = None,
                 keep_other_code: bool | None = None):
        self.chapter, self.profile = chapter, profile
        base = Path(root if root is not None else default_root(profile))
        self.folder = base / chapter / profile
        self.keep_other_code = (base.resolve() == COMMITTED_RESULTS.resolve() if keep_other_code is None
                                else keep_other_code)

    def path(self, params: dict) -> Path:
        name = str(params.get("name", "run")).replace("/", "_")
        return self.folder / f"{name}-{config_key(params)}.json"

    def has(self, params: dict) -> bool:
        return self.path(params).is_file()

    def load(self, params: dict) -> dict:
        """The stored record (``params``, ``result``, ``provenance``) of ``params``."""
        with open(self.path(params)) as f:
            return json.load(f)

    def is_current(self, params: dict, code: str) -> bool:
        """Whether a record of ``params`` exists and was computed by code with fingerprint ``code``."""
        return self.has(params) and self.load(params)["provenance"].get("code") == code

    def save(self, params: dict, result, wall_s: float, device: str, code: str | None = None) -> dict:
        """Write a record atomically and return it; ``code``: the fingerprint of the code that computed it."""
        record = {"chapter": self.chapter, "profile": self.profile, "params": params, "result": result,
                  "provenance": provenance(wall_s, device, code)}
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
    code = code_fingerprint(fn)  # here, not in the thread: parsing there races with the kernel compiling cells
    thread = cf.ThreadPoolExecutor(1, thread_name_prefix=f"sweep-{store.chapter}")
    future = thread.submit(run_sweep, list(configs), fn, store, executor, False, code)
    thread.shutdown(wait=False)
    return future


def run_sweep(configs: Iterable[dict], fn: Callable[[dict], object], store: ResultStore,
              executor: cf.Executor | None = None, progress: bool = True, code: str | None = None) -> list[dict]:
    """Run ``fn`` on every configuration not yet in ``store`` from the same code (:func:`code_fingerprint` of
    ``fn``); return all records in the order of ``configs``, each with ``code_changed`` (True only for a record of
    other code kept by a store with ``keep_other_code``, which is then announced in the output).

    ``executor`` is any ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor``, or a Dask client's
    ``client.get_executor()``); ``None`` runs serially here. ``fn`` must be picklable for process-based executors
    (a module-level function). Each result is saved as soon as it arrives; a failing configuration does not stop
    the others, and a :class:`SweepError` listing the failures is raised at the end. ``code``: the fingerprint of
    ``fn`` when the caller computed it already.
    """
    configs = list(configs)
    code = code or code_fingerprint(fn)
    redo = [c for c in configs if not store.has(c) or not (store.keep_other_code or store.is_current(c, code))]
    todo = list({store.path(c): c for c in redo}.values())  # equal configurations run once
    failures: list[tuple[dict, BaseException]] = []
    bar = progress_bar(total=len(todo), desc=f"sweep {store.chapter}/{store.profile}", disable=not progress or not todo,
               leave=False)
    if executor is None:
        for params in todo:
            try:
                store.save(params, *timed_call(fn, params), code=code)
            except Exception as err:  # noqa: BLE001 - reported below with the configuration
                failures.append((params, err))
            bar.update()
    else:
        futures = {executor.submit(timed_call, fn, params): params for params in todo}
        for fut in cf.as_completed(futures):
            try:
                store.save(futures[fut], *fut.result(), code=code)
            except Exception as err:  # noqa: BLE001
                failures.append((futures[fut], err))
            bar.update()
    bar.close()
    if failures:
        lines = "\n".join(f"  {p}: {type(e).__name__}: {e}" for p, e in failures)
        raise SweepError(f"{len(failures)} of {len(todo)} configurations failed (the others are saved in "
                         f"{store.folder}; rerun to resume):\n{lines}")
    records = [store.load(c) for c in configs]
    for r in records:
        r["code_changed"] = r["provenance"].get("code") != code
    kept = [r for r in records if r["code_changed"]]
    if kept:
        print(f"note: {len(kept)} of {len(records)} results of {store.chapter}/{store.profile} shown here were "
              f"computed by other code (fingerprints {sorted({str(r['provenance'].get('code')) for r in kept})}, "
              f"now {code}); they are kept because {store.folder} holds committed long runs. Rerun the "
              "profile to refresh them.", flush=True)
    return records
