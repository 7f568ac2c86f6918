"""Extended runs: a paper-profile table is saved with its provenance, shown beside a book-profile page's own table
when committed, and its absence is said; chapter 5 runs both ways."""

from __future__ import annotations

import json
from types import SimpleNamespace

import nbformat
import pytest
import torch

from lib.pipeline import cli, extended
from lib.pipeline.chapter import Chapter
from lib.pipeline.results import ResultStore

ROWS = [{"quantity": "slope", "paper": "0.5", "here": "0.7 [0.5, 0.9]", "verdict": "reproduced", "note": "n"},
        {"quantity": "gap", "paper": "> 0", "here": "-3 [-4, -2]", "verdict": "not reproduced", "note": ""}]


def _chapter(tmp_path, profile: str, key: str = "ch05") -> Chapter:
    store = ResultStore(key, profile, root=tmp_path)
    store.save({"name": "run", "seed": 0}, 1.0, 2.0, "cpu", code="abcd1234abcd1234")
    return Chapter(key, SimpleNamespace(profile=profile.split("-")[0], seeds=20), store, None, torch.device("cpu"))


def test_save_table_writes_rows_params_and_provenance_at_the_paper_profile_only(tmp_path):
    path = extended.save_table(_chapter(tmp_path, "paper"), "paper_vs_here", ROWS)
    record = json.loads(path.read_text())
    assert path == tmp_path / "ch05" / "paper" / "table-paper_vs_here.json"
    assert record["rows"] == ROWS and record["cfg"] == {"profile": "paper", "seeds": 20}
    assert record["record_codes"] == ["abcd1234abcd1234"]  # the code of the records the table was made from
    assert record["notebook"] == extended.notebook_fingerprint("ch05") and len(record["notebook"]) == 16
    assert record["provenance"]["device"] == "cpu" and record["provenance"]["wall_s"] >= 0
    assert record["records"] == 1 and record["records_wall_s"] == 2.0  # the stored run's compute time
    for profile in ("book", "paper-shrunk", "smoke"):  # their tables are the page itself: nothing written
        assert extended.save_table(_chapter(tmp_path / profile, profile), "paper_vs_here", ROWS) is None


def test_show_extended_table_beside_this_run_or_says_it_is_absent(tmp_path, monkeypatch, capsys):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    monkeypatch.setenv("GG_COMMITTED_RESULTS", str(tmp_path / "committed"))
    page = _chapter(tmp_path / "cache", "book")
    assert extended.show_extended_table(page, "paper_vs_here", ROWS) is None
    out = capsys.readouterr().out
    assert "Paper-profile run: none committed" in out and "table-paper_vs_here.json is absent" in out
    assert "`make paper CH=5` makes one on a GPU" in out and not shown

    paper = _chapter(tmp_path / "committed", "paper")
    extended.save_table(paper, "paper_vs_here", [{**ROWS[0], "here": "0.52 [0.45, 0.6]"},
                                                 {"quantity": "only there", "paper": "1", "here": "2",
                                                  "verdict": "not reproduced"}])
    record = extended.show_extended_table(page, "paper_vs_here", ROWS)
    assert record is not None and "Extended run" in shown[0] and "profile `paper` (seeds=20)" in shown[0]
    assert "notebook has changed" not in shown[0]
    table = shown[1]
    assert "| slope | 0.5 | 0.7 [0.5, 0.9] | reproduced | 0.52 [0.45, 0.6] | reproduced |" in table
    assert "| gap | > 0 | -3 [-4, -2] | not reproduced | — | — |" in table  # not in the extended run
    assert "| only there | 1 | — | — | 2 | not reproduced |" in table  # only in the extended run
    monkeypatch.setattr(extended, "notebook_fingerprint", lambda key: "0" * 16)
    extended.show_extended_table(page, "paper_vs_here", ROWS)
    assert "notebook has changed since this run" in shown[2] and "other code" not in shown[2]
    monkeypatch.setattr(extended, "code_fingerprint", lambda fn: {len: "abcd1234abcd1234"}.get(fn, "ffff0000ffff0000"))
    extended.show_extended_table(page, "paper_vs_here", ROWS, code=[len])  # the records' code: no warning
    assert "other code" not in shown[4]
    extended.show_extended_table(page, "paper_vs_here", ROWS, code=[len, sum])  # sum made none of them
    assert "other code" not in shown[6]  # every record code is one of this commit's
    extended.show_extended_table(page, "paper_vs_here", ROWS, code=[sum])
    assert ("made by other code than this commit's (code fingerprint abcd1234abcd1234; now ffff0000ffff0000)"
            in shown[8]) and "`make paper CH=5` refreshes them" in shown[8]
    assert extended.show_extended_table(paper, "paper_vs_here", ROWS) is None  # the paper page shows its own


def _outputs(nb) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/markdown", "")
                   for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.book
def test_chapter_5_shows_a_committed_extended_run_and_says_when_it_is_absent(tmp_path, monkeypatch):
    """The page builds both ways: with the committed tables deleted it says the extended run is absent; with
    tables present it shows them beside its own."""
    chapter = cli.get_chapter("5")
    try:
        cli.prepare_data([chapter], "smoke", {})
    except cli.DataMissing as err:
        pytest.skip(f"chapter 5 needs downloaded data: {err}")
    monkeypatch.setenv("GG_COMMITTED_RESULTS", str(tmp_path / "none"))
    text = _outputs(nbformat.read(cli.run_chapter(chapter, "smoke", {}, log_output=False), as_version=4))
    assert text.count("Paper-profile run: none committed") == 2  # Paper vs here, and Where we differ
    for name in ("paper_vs_here", "where_we_differ"):
        folder = tmp_path / "some" / "ch05" / "paper"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"table-{name}.json").write_text(json.dumps({
            "rows": [{"quantity": "marker row", "paper": "p", "here": "extended value 123", "verdict": "v"}],
            "cfg": {"profile": "paper", "seeds": 20}, "profile": "paper", "notebook": None,
            "provenance": {"commit": "f" * 40, "date": "2026-11-30T00:00:00+00:00", "device": "cpu", "wall_s": 3600}}))
    monkeypatch.setenv("GG_COMMITTED_RESULTS", str(tmp_path / "some"))
    text = _outputs(nbformat.read(cli.run_chapter(chapter, "smoke", {}, log_output=False), as_version=4))
    assert "Paper-profile run: none committed" not in text and text.count("extended value 123") == 2
    assert "Extended run (1 more image-manifold network at this profile): none committed" in text  # its own sweeps


def _double(params: dict) -> dict:
    return {"twice": 2 * params["x"]}


def test_extended_record_is_made_on_request_read_when_committed_and_said_absent(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GG_COMMITTED_RESULTS", str(tmp_path / "committed"))
    page = _chapter(tmp_path / "cache", "book", key="ch02")
    params = {"name": "long", "x": 21}
    assert extended.extended_record(page, params, _double, cost="about 2 h") is None
    out = capsys.readouterr().out
    assert "Extended run: none committed" in out and "ch02/book-extended/long-" in out and "about 2 h" in out
    assert "`python -m lib run 2 --profile book -p extended=True` makes it" in out

    made = extended.extended_record(page, params, _double, run=True)
    assert made["result"] == {"twice": 42} and made["provenance"]["wall_s"] >= 0
    assert extended.extended_store(page).has(params)  # under the committed root, for commit
    capsys.readouterr()
    read = extended.extended_record(page, params, _double)
    assert read["result"] == {"twice": 42} and "Extended run (committed in" in capsys.readouterr().out

    stored = extended.extended_store(page).path(params)  # as if the experiment's code had changed since
    record = json.loads(stored.read_text())
    record["provenance"]["code"] = "0" * 16
    stored.write_text(json.dumps(record))
    extended.extended_record(page, params, _double)
    assert "has changed since" in capsys.readouterr().out
    assert extended.extended_record(page, params, _double, run=True)["provenance"]["code"] != "0" * 16  # redone


def test_extended_sweep_is_made_on_request_read_when_all_committed_and_said_absent(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GG_COMMITTED_RESULTS", str(tmp_path / "committed"))
    page = _chapter(tmp_path / "cache", "book", key="ch02")
    configs = [{"name": "seed", "x": x} for x in (1, 2, 3)]
    assert extended.extended_sweep(page, configs + configs[:1], _double, cost="about 20 min", what="Ladder 1") is None
    out = capsys.readouterr().out
    assert "Ladder 1: none committed (none of its 3 records is in" in out and "ch02/book-extended/" in out
    assert "`python -m lib run 2 --profile book -p extended=True` makes them (about 20 min)" in out

    made = extended.extended_sweep(page, configs, _double, run=True)
    assert [r["result"] for r in made] == [{"twice": 2}, {"twice": 4}, {"twice": 6}]
    assert all(extended.extended_store(page).has(c) for c in configs)
    capsys.readouterr()
    read = extended.extended_sweep(page, configs, _double, what="Ladder 1")
    assert [r["result"]["twice"] for r in read] == [2, 4, 6]
    out = capsys.readouterr().out
    assert "Ladder 1 (committed in" in out and "(3 runs)." in out and "changed since" not in out
    assert len(extended.extended_sweep(page, configs + configs[:1], _double)) == 4  # a repeated one: read twice,
    assert "(3 runs)." in capsys.readouterr().out  # counted once

    extended.extended_store(page).path(configs[0]).unlink()  # one record missing: the page does not use a part
    assert extended.extended_sweep(page, configs, _double) is None
    out = capsys.readouterr().out
    assert "1 of its 3 records are not committed" in out and "makes the missing ones" in out
    extended.extended_sweep(page, configs, _double, run=True)
    stored = extended.extended_store(page).path(configs[1])  # as if the experiment's code had changed since
    record = json.loads(stored.read_text())
    record["provenance"]["code"] = "0" * 16
    stored.write_text(json.dumps(record))
    capsys.readouterr()
    extended.extended_sweep(page, configs, _double)
    assert "has changed since for 1 of them" in capsys.readouterr().out
    redone = extended.extended_sweep(page, configs, _double, run=True)
    assert redone[1]["provenance"]["code"] != "0" * 16 and redone[0]["result"] == {"twice": 2}
    with pytest.raises(ValueError, match="configs"):
        extended.extended_sweep(page, [], _double)


@pytest.mark.parametrize("commit, shown", [("0565d7edcc1234567890abcdef1234567890abcd+dirty", "0565d7edcc+dirty"),
                                           ("0565d7edcc1234567890abcdef1234567890abcd", "0565d7edcc"),
                                           (None, "?"), ("", "?")])
def test_a_commit_is_shortened_but_keeps_its_dirty_flag(commit, shown):
    assert extended.short_commit(commit) == shown
