"""The results store: keys, provenance, atomic writes, resume after a crash, identical results on any executor."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
import torch

from lib.pipeline.results import ResultStore, SweepError, config_key, run_sweep, start_sweep
from tests.pipeline.sweep_tasks import tiny_training

CONFIGS = [{"name": "blob", "seed": s, "width": w} for s in (0, 1, 2) for w in (4, 8)]


def test_keys_ignore_order_and_see_values():
    assert config_key({"a": 1, "b": [1, 2]}) == config_key({"b": [1, 2], "a": 1})
    assert config_key({"a": 1}) != config_key({"a": 2})
    assert len(config_key({"a": 1})) == 16


def test_save_load_roundtrip_with_provenance(tmp_path):
    store = ResultStore("ch9", "smoke", root=tmp_path)
    params = {"name": "x", "n": 3}
    store.save(params, {"arr": np.arange(3), "t": torch.tensor([0.5]), "v": np.float32(2.5)}, wall_s=1.23456,
               device="cpu")
    rec = store.load(params)
    assert rec["result"] == {"arr": [0, 1, 2], "t": [0.5], "v": 2.5}
    assert rec["params"] == params and (rec["chapter"], rec["profile"]) == ("ch9", "smoke")
    prov = rec["provenance"]
    assert prov["wall_s"] == 1.235 and prov["device"] == "cpu" and prov["torch"] == torch.__version__
    assert set(prov) >= {"commit", "date", "host", "python"}
    assert store.path(params).parent == tmp_path / "ch9" / "smoke"
    with pytest.raises(TypeError, match="cannot store a object"):
        store.save({"name": "bad"}, object(), 0.0, "cpu")
    assert not store.has({"name": "bad"})  # nothing half-written


def test_partial_temporary_files_are_ignored(tmp_path):
    store = ResultStore("ch9", "smoke", root=tmp_path)
    store.save({"name": "ok"}, 1, 0.0, "cpu")
    (store.folder / ".tmp-crashed.json").write_text('{"trunc')  # what a crash mid-write would leave
    assert [r["result"] for r in store.records()] == [1]


calls: list[int] = []


def crashing_task(params: dict) -> dict:
    calls.append(params["seed"])
    if params.get("crash_on") == params["seed"]:
        raise RuntimeError("simulated crash")
    return {"value": params["seed"] ** 2}


def test_sweep_resumes_after_a_crash(tmp_path):
    store = ResultStore("ch9", "smoke", root=tmp_path)
    configs = [{"seed": s} for s in range(5)]
    calls.clear()
    with pytest.raises(SweepError, match="1 of 5 configurations failed"):
        run_sweep([{**c, "crash_on": 2} if c["seed"] == 2 else c for c in configs], crashing_task, store,
                  progress=False)
    assert calls == [0, 1, 2, 3, 4]  # a failure does not stop the others
    assert sorted(r["result"]["value"] for r in store.records()) == [0, 1, 9, 16]
    calls.clear()
    records = run_sweep(configs, crashing_task, store, progress=False)
    assert calls == [2]  # only the missing configuration runs again
    assert [r["result"]["value"] for r in records] == [0, 1, 4, 9, 16]
    calls.clear()
    run_sweep(configs, crashing_task, store, progress=False)
    assert calls == []


def test_equal_configurations_in_one_sweep_run_once(tmp_path):
    store = ResultStore("ch9", "smoke", root=tmp_path)
    calls.clear()
    records = run_sweep([{"seed": 3}, {"seed": 4}, {"seed": 3}], crashing_task, store, progress=False)
    assert calls == [3, 4]
    assert [r["result"]["value"] for r in records] == [9, 16, 9]


def test_a_started_sweep_runs_in_the_background_and_reports_failures(tmp_path):
    store = ResultStore("ch9", "smoke", root=tmp_path)
    calls.clear()
    with ThreadPoolExecutor(2) as pool:
        started = start_sweep([{"seed": s} for s in range(4)], crashing_task, store, pool)
        here = run_sweep([{"seed": 7}], crashing_task, store, pool, progress=False)  # shares the pool meanwhile
        assert [r["result"]["value"] for r in started.result(timeout=30)] == [0, 1, 4, 9]
        failing = start_sweep([{"seed": 5, "crash_on": 5}], crashing_task, store, pool)
        with pytest.raises(SweepError, match="1 of 1 configurations failed"):
            failing.result(timeout=30)
    assert here[0]["result"]["value"] == 49
    assert sorted(calls) == [0, 1, 2, 3, 5, 7]


def _results(records):
    return [json.dumps(r["result"], sort_keys=True) for r in records]


def test_sweep_gives_identical_results_serially_and_on_a_process_pool(tmp_path):
    serial = run_sweep(CONFIGS, tiny_training, ResultStore("ch9", "smoke", root=tmp_path / "a"), progress=False)
    with ProcessPoolExecutor(2) as pool:
        pooled = run_sweep(CONFIGS, tiny_training, ResultStore("ch9", "smoke", root=tmp_path / "b"), pool,
                           progress=False)
    assert _results(serial) == _results(pooled)
    assert len({r["result"]["first_weight"] for r in serial}) == len(CONFIGS)  # the configs really differ


def test_sweep_runs_unchanged_on_a_dask_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    serial = run_sweep(CONFIGS, tiny_training, ResultStore("ch9", "smoke", root=tmp_path / "a"), progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        on_dask = run_sweep(CONFIGS, tiny_training, ResultStore("ch9", "smoke", root=tmp_path / "b"),
                            client.get_executor(), progress=False)
    assert _results(serial) == _results(on_dask)
