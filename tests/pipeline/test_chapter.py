"""setup_chapter: the one line a chapter page shows instead of its parameter cells."""

from __future__ import annotations

from lib.pipeline.chapter import setup_chapter

TABLE = {"smoke": {"n": 10, "models": "lenet"}, "book": {"n": 100, "models": "lenet,fc"},
         "paper": {"n": 1000, "models": "resnet18"}}


def test_setup_prints_the_profile_and_every_resolved_parameter(capsys):
    ch = setup_chapter("chXX", "smoke", TABLE, device="cpu", n=25)
    assert capsys.readouterr().out == "chXX at profile 'smoke': n=25, models=lenet; device cpu\n"
    assert ch.describe() == "chXX at profile 'smoke': n=25, models=lenet; device cpu"


def test_a_chapter_key_adds_the_command_that_reruns_it():
    ch = setup_chapter("ch07", "book", TABLE, device="cpu")
    assert ch.describe() == ("ch07 at profile 'book': n=100, models=lenet,fc; device cpu; "
                             "rerun: python -m lib run 7 --profile book")
