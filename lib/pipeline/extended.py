"""Extended runs: a chapter's result table from a run too long for the ``book`` profile's 15 minutes (its ``paper``
profile run on a CPU or GPU, hours), committed under ``book/results/<chapter>/paper/`` and shown on the book-profile
page beside the page's own table, marked as an extended run with its provenance. Where none is committed, the page
says so and how to make one::

    rows = [comparison_row(...), ...]
    paper_vs_here(rows)
    save_table(ch, "paper_vs_here", rows)          # paper profile: book/results/ch05/paper/table-paper_vs_here.json
    show_extended_table(ch, "paper_vs_here", rows)  # other profiles: the committed table beside this run's, or absent

A single long measurement of the ``book`` page (e.g. chapter 2's full-width network with 1000 diffeomorphisms per
probe) is an *extended record* instead: :func:`extended_record` computes it when the chapter is run with its
``extended`` parameter, stores it under ``book/results/<chapter>/<profile>-extended/`` for commit, and otherwise reads
the committed record or says that it is absent::

    record = extended_record(ch, params, run_many_diffeos, run=extended, cost="about 90 min on 2 CPU cores")

A ladder of runs too long for the page (e.g. its own configurations with more seeds) is an *extended sweep*: one
record per configuration in the same folder, made by :func:`extended_sweep` with the same ``extended`` parameter and
read only when every configuration has one::

    records = extended_sweep(ch, [config(..., seed=r) for r in range(1, 4)], run_model, run=extended)

``GG_COMMITTED_RESULTS`` (a folder) replaces ``book/results`` as the place the committed tables are read from (tests
use it to show a page with and without them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Callable, Sequence

from lib.pipeline.chapter import Chapter
from lib.pipeline.cli import chapters
from lib.pipeline.report import markdown_table
from lib.pipeline.results import COMMITTED_RESULTS, REPO_ROOT, ResultStore, code_fingerprint, provenance, run_sweep

EXTENDED_PROFILE = "paper"


def committed_root() -> Path:
    """Where committed tables are read from: ``$GG_COMMITTED_RESULTS`` when set, else ``book/results``."""
    return Path(os.environ.get("GG_COMMITTED_RESULTS") or COMMITTED_RESULTS)


def table_path(key: str, name: str) -> Path:
    """``<committed root>/<key>/paper/table-<name>.json``, the committed table ``name`` of chapter ``key``."""
    return committed_root() / key / EXTENDED_PROFILE / f"table-{name}.json"


def _notebook(key: str) -> Path | None:
    """The source of chapter ``key`` (``ch05``: ``notebooks/05_*.py``), None for a key that names no chapter."""
    number = re.fullmatch(r"ch(\d+)", key)
    return next((c.source for c in chapters() if number and c.number == int(number[1])), None)


def notebook_fingerprint(key: str) -> str | None:
    """A 16-hex-digit hash of chapter ``key``'s notebook source (``notebooks/NN_*.py``), or None if there is none."""
    path = _notebook(key)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path else None


def save_table(ch: Chapter, name: str, rows: Sequence[dict]) -> Path | None:
    """At the ``paper`` profile (not shrunk), write ``rows`` with the chapter's resolved parameters, the code
    fingerprints of the records in its store, their number and summed compute time (``records_wall_s``: a rerun that
    reuses stored records takes seconds), the notebook's fingerprint and the provenance (commit, device, wall time
    since :func:`~lib.pipeline.chapter.setup_chapter`) to the store folder, ``book/results/<key>/paper/``, for
    commit; return the path. Other profiles write nothing (None): their tables are the page itself."""
    if ch.store.profile != EXTENDED_PROFILE:
        return None
    provs = [json.loads(p.read_text())["provenance"] for p in ch.store.folder.glob("*.json")
             if not p.name.startswith("table-")]
    codes = sorted({p.get("code") or "" for p in provs} - {""})
    record = {"chapter": ch.key, "name": name, "profile": ch.store.profile, "rows": list(rows),
              "cfg": {k: v for k, v in vars(ch.cfg).items()}, "record_codes": codes,
              "records": len(provs), "records_wall_s": round(sum(p.get("wall_s", 0.0) for p in provs), 1),
              "notebook": notebook_fingerprint(ch.key),
              "provenance": provenance(time.perf_counter() - ch.started, str(ch.device))}
    path = ch.store.folder / f"table-{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=str))
    print(f"wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}: commit it to show this "
          "run on the book-profile page")
    return path


def short_commit(commit: str | None) -> str:
    """A commit as the pages print it: its first 10 characters, keeping ``+dirty`` (uncommitted changes, from
    :func:`lib.pipeline.results.git_commit`) so that a reader sees the record was not made from a clean commit."""
    if not commit:
        return "?"
    return commit[:10] + ("+dirty" if commit.endswith("+dirty") else "")


def _describe(record: dict) -> str:
    prov = record["provenance"]
    cfg = ", ".join(f"{k}={v}" for k, v in record["cfg"].items() if k != "profile")
    runs = (f"; {record['records']} stored runs, {record['records_wall_s'] / 3600:.2g} h of compute summed over them"
            if "records" in record else "")
    return (f"profile `{record['profile']}` ({cfg}); table made at commit "
            f"{short_commit(prov.get('commit'))}, {prov['date'][:10]}, {prov['device']}{runs}")


def show_extended_table(ch: Chapter, name: str, rows: Sequence[dict], command: str | None = None,
                        code: Sequence[Callable] = ()) -> dict | None:
    """On a page run at any profile but ``paper``: the committed ``paper`` table ``name`` of this chapter beside
    this run's ``rows`` (matched by ``quantity``: here and its verdict, then the extended run's), with the extended
    run's provenance, a warning when the notebook changed since it ran, and one when its stored runs were made by
    other code than the functions ``code`` (the experiments whose records the table rests on) are now (their
    :func:`~lib.pipeline.results.code_fingerprint` against the table's ``record_codes``); or, where none is
    committed, a line saying so and the ``command`` that makes it. Returns the committed record, or None."""
    from IPython.display import Markdown, display

    if ch.cfg.profile == EXTENDED_PROFILE:
        return None
    number = re.fullmatch(r"ch(\d+)", ch.key)
    command = command or (f"make paper CH={int(number[1])}" if number else "")
    path = table_path(ch.key, name)
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    if not path.is_file():
        print(f"Paper-profile run: none committed ({shown} is absent), so this page shows the {ch.cfg.profile} "
              f"profile only. `{command}` makes one on a GPU (on a CPU add YES=1 ARGS=\"-p workers=2\": hours or more), "
              f"then commit {shown.parent}/.")
        return None
    record = json.loads(path.read_text())
    extended = {r["quantity"]: r for r in record["rows"]}
    mine = {r["quantity"] for r in rows}
    combined = [{"quantity": r["quantity"], "paper": r["paper"], f"here ({ch.cfg.profile})": r["here"],
                 "verdict": r.get("verdict"), "extended run": extended.get(r["quantity"], {}).get("here"),
                 "verdict (extended)": extended.get(r["quantity"], {}).get("verdict")} for r in rows]
    combined += [{"quantity": q, "paper": r["paper"], f"here ({ch.cfg.profile})": None, "verdict": None,
                  "extended run": r["here"], "verdict (extended)": r.get("verdict")}
                 for q, r in extended.items() if q not in mine]
    changed = record.get("notebook") != notebook_fingerprint(ch.key)
    now = sorted({code_fingerprint(fn) for fn in code})
    other = sorted(set(record.get("record_codes", [])) - set(now)) if code else []
    display(Markdown(f"**Extended run** (committed in `{shown}`): {_describe(record)}."
                     + (" *The notebook has changed since this run: its rows are those of the code at that commit.*"
                        if changed else "")
                     + (f" *Its stored runs were made by other code than this commit's (code fingerprint"
                        f"{'s' if len(other) > 1 else ''} {', '.join(other)}; now {', '.join(now)}): their numbers "
                        f"are those of the code at that commit (`{command}` refreshes them).*" if other else "")))
    display(Markdown(markdown_table(combined)))
    return record


def extended_store(ch: Chapter) -> ResultStore:
    """The committed store of ``ch``'s extended records: ``<committed root>/<key>/<profile>-extended/``."""
    return ResultStore(ch.key, f"{ch.store.profile}-extended", root=committed_root())


def extended_record(ch: Chapter, params: dict, fn: Callable[[dict], object], *, run: bool = False,
                    cost: str = "") -> dict | None:
    """The extended record of ``fn(params)``: computed now when ``run`` (or recomputed, when the stored one is from
    other code) and saved in :func:`extended_store` for commit; else the committed record (announced with its commit,
    date, wall time and device: the result's ``device`` where it reports one), with a note when ``fn``'s
    code has changed since (its numbers are then those of the code at the record's commit); else None, after a line
    saying that it is absent, the command that makes it (the chapter with ``-p extended=True``) and its ``cost``."""
    store = extended_store(ch)
    shown = store.path(params)
    shown = shown.relative_to(REPO_ROOT) if shown.is_relative_to(REPO_ROOT) else shown
    if run:
        store.keep_other_code = False
        record = run_sweep([params], fn, store)[0]
        print(f"wrote {shown}: commit it to show this run on the page")
        return record
    command = _command(ch)
    if not store.has(params):
        print(f"Extended run: none committed ({shown} is absent). `{command}` makes it"
              + (f" ({cost})" if cost else "") + f", then commit {shown.parent}/.")
        return None
    record = store.load(params)
    print(f"Extended run (committed in {shown}): " + _made([record], fn, command))
    return record


def _command(ch: Chapter) -> str:
    """The command that makes ``ch``'s extended records: the chapter at its profile with ``-p extended=True``."""
    number = re.fullmatch(r"ch(\d+)", ch.key)
    return f"python -m lib run {int(number[1]) if number else ch.key} --profile {ch.cfg.profile} -p extended=True"


def _wall(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 600 else f"{seconds / 60:.0f} min"


def _made(records: Sequence[dict], fn: Callable[[dict], object], command: str) -> str:
    """Where, when and on what ``records`` were computed, their summed wall time, and a note when ``fn``'s code has
    changed since (their numbers are then those of the code at their commit)."""
    provs = [r["provenance"] for r in records]
    devices = sorted({str(r["result"].get("device", p["device"]) if isinstance(r["result"], dict) else p["device"])
                      for r, p in zip(records, provs)})
    commits = sorted({short_commit(p.get("commit")) for p in provs})
    dates = sorted({p["date"][:10] for p in provs})
    code = code_fingerprint(fn)
    changed = sum(p.get("code") != code for p in provs)
    return (f"computed at commit {', '.join(commits)}, {' to '.join(dict.fromkeys((dates[0], dates[-1])))}, on "
            f"{', '.join(devices)}, in {_wall(sum(p['wall_s'] for p in provs))}"
            + (f" ({len(records)} runs)" if len(records) > 1 else "") + "."
            + ((" The code of its experiment has changed since" + (f" for {changed} of them" if len(records) > 1
                                                                   and changed < len(records) else "")
                + f": these numbers are those of the code at that commit (`{command}` refreshes them).")
               if changed else ""))


def extended_sweep(ch: Chapter, configs: Sequence[dict], fn: Callable[[dict], object], *, run: bool = False,
                   cost: str = "", what: str = "Extended runs") -> list[dict] | None:
    """The extended records of ``fn`` over ``configs`` (a ladder of runs too long for the page, e.g. more seeds of
    its own configurations), one file each in :func:`extended_store`: computed now when ``run`` (each configuration
    not stored from the same code; a failing one raises :class:`~lib.pipeline.results.SweepError` after the others
    are saved) for commit; else the committed records when every configuration has one (announced with their
    commits, dates, devices and summed wall time, and a note when ``fn``'s code has changed since); else None, after
    a line saying how many are absent (``what``: how the page names them), the command that makes them and its
    ``cost``. Raises ValueError for an empty ``configs``."""
    configs = list(configs)
    if not configs:
        raise ValueError("configs: an extended sweep needs at least one configuration, got none")
    store = extended_store(ch)
    shown = store.folder.relative_to(REPO_ROOT) if store.folder.is_relative_to(REPO_ROOT) else store.folder
    paths = {store.path(c) for c in configs}  # a repeated configuration is one record
    if run:
        store.keep_other_code = False
        records = run_sweep(configs, fn, store)
        print(f"wrote {len(paths)} records under {shown}/: commit them to show these runs on the page")
        return records
    missing = {path for path in paths if not path.is_file()}
    if missing:
        every = missing == paths
        print(f"{what}: " + (f"none committed (none of its {len(paths)} records is in {shown}/)" if every else
                             f"{len(missing)} of its {len(paths)} records are not committed in {shown}/")
              + f". `{_command(ch)}` makes " + ("them" if every else "the missing ones")
              + (f" ({cost})" if cost else "") + f", then commit {shown}/.")
        return None
    records = [store.load(c) for c in configs]
    unique = list({store.path(c): r for c, r in zip(configs, records)}.values())  # a repeated configuration ran once
    print(f"{what} (committed in {shown}/): " + _made(unique, fn, _command(ch)))
    return records
