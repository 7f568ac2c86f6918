"""Results are keyed by the code that computed them (issue 16): an edit of a measurement a sweep imports makes a
chapter rerun recompute its records; an edit elsewhere does not; committed long runs are kept and flagged."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from lib.pipeline import results
from lib.pipeline.chapter import Chapter
from lib.pipeline.results import ResultStore, code_fingerprint, run_sweep
from tests.pipeline import sweep_tasks

CONFIGS = [{"name": "blob", "seed": s, "d": 3} for s in (0, 1)]


@pytest.fixture
def calls(monkeypatch):
    """Count the calls of the sweep task (serial sweeps run it in this process)."""
    seen = []
    original = sweep_tasks.blob_dimension

    def counted(params):
        seen.append(params["seed"])
        return original(params)

    counted.__module__, counted.__qualname__ = original.__module__, original.__qualname__
    monkeypatch.setattr(sweep_tasks, "blob_dimension", counted)
    return seen


def edit(monkeypatch, relative: str) -> None:
    """Simulate an edit of one lib file (a comment appended), as the fingerprint reads it."""
    target = results.REPO_ROOT / relative
    read = results._read_source
    monkeypatch.setattr(results, "_read_source",
                        lambda path: read(path) + ("\n# edited\n" if Path(path) == target else ""))


def chapter(store: ResultStore) -> Chapter:
    return Chapter("ch9", SimpleNamespace(profile=store.profile), store, None, torch.device("cpu"))


def test_fingerprint_covers_the_imported_measurement_and_nothing_else(monkeypatch):
    before = code_fingerprint(sweep_tasks.blob_dimension)
    assert len(before) == 16 and before == code_fingerprint(sweep_tasks.blob_dimension)
    edit(monkeypatch, "lib/measures/ntk.py")  # not imported by the task: same code
    assert code_fingerprint(sweep_tasks.blob_dimension) == before
    edit(monkeypatch, "lib/measures/neighbours.py")  # imported through intrinsic_dimension
    assert code_fingerprint(sweep_tasks.blob_dimension) != before


def test_a_rerun_after_editing_the_measurement_recomputes_its_records(tmp_path, monkeypatch, calls):
    ch = chapter(ResultStore("ch9", "smoke", root=tmp_path))
    first = ch.sweep(CONFIGS, sweep_tasks.blob_dimension, progress=False)
    assert calls == [0, 1]
    code = first[0]["provenance"]["code"]
    assert code == code_fingerprint(sweep_tasks.blob_dimension) and not first[0]["code_changed"]
    ch.sweep(CONFIGS, sweep_tasks.blob_dimension, progress=False)
    assert calls == [0, 1]  # same code: reused
    edit(monkeypatch, "lib/measures/intrinsic_dimension.py")
    again = ch.sweep(CONFIGS, sweep_tasks.blob_dimension, progress=False)
    assert calls == [0, 1, 0, 1]  # other code: recomputed, never reused silently
    assert again[0]["provenance"]["code"] != code and not again[0]["code_changed"]
    assert again[0]["result"] == first[0]["result"]  # (the simulated edit changes no number)


def test_records_without_a_fingerprint_are_recomputed(tmp_path, calls):
    store = ResultStore("ch9", "smoke", root=tmp_path)
    store.save(CONFIGS[0], {"mle": -1.0}, 0.0, "cpu")  # an old record: no code fingerprint
    records = run_sweep(CONFIGS, sweep_tasks.blob_dimension, store, progress=False)
    assert calls == [0, 1] and records[0]["result"]["mle"] > 0


def test_committed_records_of_other_code_are_kept_flagged_and_announced(tmp_path, monkeypatch, calls, capsys):
    store = ResultStore("ch9", "paper", root=tmp_path, keep_other_code=True)
    run_sweep(CONFIGS, sweep_tasks.blob_dimension, store, progress=False)
    edit(monkeypatch, "lib/measures/intrinsic_dimension.py")
    records = run_sweep(CONFIGS, sweep_tasks.blob_dimension, store, progress=False)
    assert calls == [0, 1] and all(r["code_changed"] for r in records)
    assert "2 of 2 results of ch9/paper shown here were computed by other code" in capsys.readouterr().out
    on_disk = json.loads(store.path(CONFIGS[0]).read_text())
    assert on_disk["provenance"]["code"] == records[0]["provenance"]["code"]  # the file is left as committed


def test_the_committed_folder_keeps_other_code_by_default(tmp_path):
    assert ResultStore("ch9", "paper").keep_other_code
    assert not ResultStore("ch9", "smoke").keep_other_code
    assert not ResultStore("ch9", "paper", root=tmp_path).keep_other_code
