"""The command line: chapters, profiles and parameters are validated against the notebooks, errors list choices."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lib.data import registry
from lib.pipeline import cli
from lib.pipeline.profiles import PROFILES

REQUIRED = {"profile", "seed", "data_root", "device"}


def test_every_chapter_has_the_common_parameters():
    chapters = cli.chapters()
    assert chapters and chapters[0].stem == "00_data"
    for ch in chapters:
        params = cli.notebook_parameters(ch.source)
        assert REQUIRED <= set(params), f"{ch.stem} lacks {REQUIRED - set(params)}"
        assert params["profile"].default in PROFILES
        assert all(p.alternatives for p in params.values())  # every parameter declares its type and range


def test_unknown_chapter_lists_the_valid_ones():
    with pytest.raises(cli.BookError, match=r"unknown chapter '42'; valid chapters: 0 \(data\)"):
        cli.get_chapter("42")
    assert cli.get_chapter("00").slug == cli.get_chapter("data").slug == "data"


def test_parameters_are_checked_and_typed():
    ch = cli.get_chapter("0")
    defaults = cli.notebook_parameters(ch.source)
    assert cli.parse_overrides(["seed=3", "n_samples=4", "data_root=/x"], defaults, ch) == \
        {"seed": 3, "n_samples": 4, "data_root": "/x"}
    assert cli.parse_overrides(["n_samples=None"], defaults, ch) == {"n_samples": None}
    with pytest.raises(cli.BookError, match=r"has no parameter 'widht'; its parameters: shrink=False, seed=0"):
        cli.parse_overrides(["widht=3"], defaults, ch)
    wrong = "parameter 'seed' = 'abc' has the wrong type; valid: int in [0, inf)"
    with pytest.raises(cli.BookError, match=re.escape(wrong)):
        cli.parse_overrides(["seed=abc"], defaults, ch)
    with pytest.raises(cli.BookError, match="--profile"):
        cli.parse_overrides(["profile=paper"], defaults, ch)
    with pytest.raises(cli.BookError, match="name=value"):
        cli.parse_overrides(["seed"], defaults, ch)


def test_parameters_cell_must_be_flat_literals(tmp_path):
    nb = tmp_path / "01_bad.py"
    nb.write_text('# %% tags=["parameters"]\nprofile = "book"  # str: p\nn = len("abc")  # int: n\n')
    with pytest.raises(cli.BookError, match="parameter 'n' must be a literal"):
        cli.notebook_parameters(nb)
    nb.write_text('# %%\nx = 1\n')
    with pytest.raises(cli.BookError, match="exactly one cell tagged 'parameters'"):
        cli.notebook_parameters(nb)


@pytest.mark.parametrize("argv,message", [
    (["run", "42"], "unknown chapter '42'"),
    (["run", "0", "--profile", "fast"], "unknown profile 'fast'; valid profiles: smoke, book, paper"),
    (["run", "0", "-p", "widht=3"], "has no parameter 'widht'"),
    (["run", "all", "-p", "seed=x"], "parameter 'seed' = 'x' has the wrong type; valid: int in [0, inf)"),
])
def test_cli_errors_exit_2_with_a_message(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_cli_as_a_module_reports_errors_on_stderr():
    proc = subprocess.run([sys.executable, "-m", "lib", "run", "7", "--profile", "smoke"], cwd=cli.REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "valid chapters" in proc.stderr


def test_build_refuses_unexecuted_chapters(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "toc_chapters", lambda: [tmp_path / "03_missing.ipynb"])
    with pytest.raises(cli.BookError, match="chapters not executed yet: 03_missing"):
        cli.build()


def test_a_stuck_cell_reruns_the_chapter_once_then_fails(monkeypatch):
    chapter = cli.chapters()[0]
    calls = []

    def stuck_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise cli._Stuck("cell [7] ('interact(explore)') stalled")
        return Path("done.ipynb")

    monkeypatch.setattr(cli, "_execute", stuck_once)
    assert cli.run_chapter(chapter, "smoke", {}) == Path("done.ipynb") and len(calls) == 2
    monkeypatch.setattr(cli, "_execute", lambda *args: (_ for _ in ()).throw(cli._Stuck("cell [7] ran past 300 s")))
    with pytest.raises(cli.BookError, match=r"cell \[7\] ran past 300 s.*STALL_SECONDS"):
        cli.run_chapter(chapter, "smoke", {})


def test_prepare_data_offline_stops_with_one_message_listing_every_missing_file(empty_root, offline):
    with pytest.raises(cli.DataMissing) as err:
        cli.prepare_data([cli.get_chapter("1"), cli.get_chapter("4")], "smoke", {})
    text = str(err.value)
    for needle in ("4 data file(s) missing", "medmnist/pneumoniamnist.npz", "KMNIST/kmnist-test-imgs.npz",
                   "KMNIST/kmnist-test-labels.npz", "Omniglot/all_runs.zip",
                   "https://zenodo.org/records/10519652/files/pneumoniamnist.npz", "~4.2 MB", f"-> {empty_root}/KMNIST/",
                   "python -m lib.data fetch --chapter all --profile smoke"):
        assert needle in text, needle
    assert "MNIST/raw/t10k-images" not in text.replace("KMNIST", "")  # mnist has its stand-in
    assert "shared" not in text


def test_prepare_data_offline_takes_the_stand_in_where_one_serves(empty_root, offline, monkeypatch, capsys):
    from lib.data import load_dataset, stand_ins_in_use
    from lib.pipeline.results import provenance

    cli.prepare_data([cli.get_chapter("5")], "smoke", {})
    assert os.environ[registry.STAND_IN_ENV] == "1"
    assert "read their embedded stand-ins" in capsys.readouterr().out
    assert load_dataset("mnist", "test").stand_in == "mnist5k"
    assert stand_ins_in_use() == {"mnist": "mnist5k"} and provenance(1.0, "cpu")["data_stand_ins"] == {"mnist": "mnist5k"}


def test_prepare_data_fetches_through_the_mirror_then_nothing(data_root, empty_root, mirror, capsys):
    import shutil

    folder, _, handler = mirror
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_root / "MNIST" / "raw" / name, folder / "MNIST" / "raw" / name)
    cli.prepare_data([cli.get_chapter("5")], "smoke", {})
    assert "2 file(s) downloaded, 1.7 MB" in capsys.readouterr().out
    assert os.environ[registry.STAND_IN_ENV] == "0" and len(handler.requests) == 2
    cli.prepare_data([cli.get_chapter("5")], "smoke", {})
    assert capsys.readouterr().out == "" and len(handler.requests) == 2


def test_build_refuses_a_book_without_its_local_scripts(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "toc_chapters", lambda: [])
    monkeypatch.setattr(cli, "LOCAL_SCRIPTS", (tmp_path / "mathjax" / "tex-mml-chtml.js",))
    with pytest.raises(cli.BookError, match="make install"):
        cli.build()


def test_tag_for_html_removes_only_the_parameter_cells(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("profile = 'book'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("# Parameters\nprofile = 'smoke'", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("ch = setup_chapter(...)", metadata={"tags": ["hide-input"]}),
        nbformat.v4.new_markdown_cell("# Title")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    cli.tag_for_html(path)
    cli.tag_for_html(path)  # idempotent
    tags = [c.metadata.get("tags", []) for c in nbformat.read(path, as_version=4).cells]
    assert tags == [["parameters", "remove-cell"], ["injected-parameters", "remove-cell"], ["hide-input"], []]


def test_student_config_hides_the_solutions_and_keeps_the_rest():
    import yaml

    book = yaml.safe_load((cli.REPO_ROOT / "_config.yml").read_text())
    student = yaml.safe_load(cli.student_config().read_text())
    assert book["sphinx"]["config"]["hide_solutions"] is False
    assert student["sphinx"]["config"]["hide_solutions"] is True
    assert student["sphinx"]["config"]["html_copy_source"] is False
    for key in ("title", "parse", "execute", "bibtex_bibfiles"):
        assert student[key] == book[key]
    assert cli.html_dir(student=True) == cli.STUDENT_DIR / "_build" / "html"


def test_log_problems_sees_coloured_warnings():
    log = ("building [html]\n\x1b[91mWARNING: image file not readable: _generated/x.png\x1b[39;49;00m\n"
           "reading sources... [100%] book/intro\nTraceback (most recent call last):\n")
    assert cli.log_problems(log) == ["WARNING: image file not readable: _generated/x.png",
                                     "Traceback (most recent call last):"]
    assert cli.log_problems("build succeeded.\nno WARNINGS here: WARNINGS is not a word of the pattern\n") == []


def test_the_paper_profile_asks_before_running_on_a_cpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    chapter = cli.chapters()[0]
    with pytest.raises(cli.BookError, match="no CUDA device.*--yes.*shrink=True"):
        cli.confirm_scale("paper", [(chapter, {})], yes=False)
    cli.confirm_scale("paper", [(chapter, {})], yes=True)  # asked for: goes on
    cli.confirm_scale("paper", [(chapter, {"shrink": True})], yes=False)  # code paths at smoke sizes: cheap
    cli.confirm_scale("book", [(chapter, {})], yes=False)
    assert cli.main(["run", "0", "--profile", "paper"]) == 2


# ------------------------------------------------------------------------- declared types and ranges (issue 16)
@pytest.mark.parametrize("param,message", [
    ("epochs=-3", "chapter 5 (linear_regions): parameter 'epochs' = '-3' is out of range; valid: int > 0 | None"),
    ("epochs=ten", "parameter 'epochs' = 'ten' has the wrong type; valid: int > 0 | None"),
    ("noise=-0.1", "parameter 'noise' = '-0.1' is out of range; valid: float in [0, inf)"),
    ("noise=nan", "parameter 'noise' = 'nan' is out of range; valid: float in [0, inf)"),
    ("device=gpu", "parameter 'device' = 'gpu' has the wrong type; valid: \"auto\" | \"cpu\" | \"cuda\""),
])
def test_run_refuses_out_of_range_or_mistyped_parameters_before_papermill(param, message, capsys, monkeypatch):
    """`run 5 --profile smoke -p epochs=-3` used to run to "done" with untrained networks."""
    monkeypatch.setattr(cli, "run_chapter", lambda *a, **k: pytest.fail("papermill must not start"))
    assert cli.main(["run", "5", "--profile", "smoke", "-p", param]) == 2
    assert message in capsys.readouterr().err


def test_n_pairs_refuses_a_bool():
    """`-p n_pairs=True` used to be accepted (True is an int to Python)."""
    ch = cli.get_chapter("1")
    with pytest.raises(cli.BookError, match="'n_pairs' = 'True' has the wrong type; valid: int > 0 | None"):
        cli.parse_overrides(["n_pairs=True"], cli.notebook_parameters(ch.source), ch)


def test_typed_overrides_from_python_are_checked_too(monkeypatch):
    ch = cli.get_chapter("5")
    with pytest.raises(cli.BookError, match=r"parameter 'epochs' = True is not valid; valid: int > 0 \| None"):
        cli.check_overrides({"epochs": True}, cli.notebook_parameters(ch.source), ch)
    cli.check_overrides({"epochs": 3, "noise": 0}, cli.notebook_parameters(ch.source), ch)


def test_every_default_satisfies_its_declaration_and_list_shows_them(capsys):
    cli.list_chapters()
    out = capsys.readouterr().out
    assert "epochs = None  (int > 0 | None)" in out and "until = None  (float in (0, 1] | None)" in out


def test_undeclared_or_contradicted_parameters_are_refused(tmp_path):
    nb = tmp_path / "01_bad.py"
    nb.write_text('# %% tags=["parameters"]\nprofile = "book"  # "smoke" | "book" | "paper": p\nn = 3\n')
    with pytest.raises(cli.BookError, match="parameter 'n' .* needs a declared type and range"):
        cli.notebook_parameters(nb)
    nb.write_text('# %% tags=["parameters"]\nprofile = "book"  # "smoke" | "book" | "paper": p\nn = 0  # int > 0: n\n')
    with pytest.raises(cli.BookError, match="the default of parameter 'n' = 0 is not valid; valid: int > 0"):
        cli.notebook_parameters(nb)
    nb.write_text('# %% tags=["parameters"]\nprofile = "book"  # "smoke" | "book" | "paper": p\nn = 0  # integer: n\n')
    with pytest.raises(cli.BookError, match="cannot read 'integer'"):
        cli.notebook_parameters(nb)
