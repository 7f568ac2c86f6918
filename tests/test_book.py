"""Every chapter runs at the smoke profile through papermill, then the book builds without a single warning."""

from __future__ import annotations

import os
import re
import shutil

import nbformat
import pytest

from lib.data.registry import STAND_IN_ENV
from lib.pipeline import cli
from lib.pipeline.widgets import HEADLESS_ENV

CHAPTERS = cli.chapters()


def _prepare(chapter, monkeypatch) -> None:
    """As ``python -m lib run`` does: fetch, else stand-ins (scoped to the test), else skip naming the fetch command."""
    monkeypatch.setenv(STAND_IN_ENV, os.environ.get(STAND_IN_ENV, "0"))
    try:
        cli.prepare_data([chapter], "smoke", {})
    except cli.DataMissing as err:
        pytest.skip(f"chapter {chapter.number} needs downloaded data: {err}")


@pytest.mark.book
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs_at_smoke_profile(chapter, monkeypatch):
    _prepare(chapter, monkeypatch)
    out = cli.run_chapter(chapter, "smoke", {}, log_output=False)
    nb = nbformat.read(out, as_version=4)
    assert nb.metadata["papermill"]["parameters"]["profile"] == "smoke"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.book
def test_a_chapter_runs_from_an_empty_data_root_through_a_local_mirror(data_root, empty_root, mirror):
    """Chapter 5 at smoke: its MNIST test split comes through the mirror (verified), then the chapter runs on it."""
    folder, _, handler = mirror
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_root / "MNIST" / "raw" / name, folder / "MNIST" / "raw" / name)
    chapter = cli.get_chapter("5")
    cli.prepare_data([chapter], "smoke", {})
    assert sorted(p.name for p in (empty_root / "MNIST" / "raw").iterdir()) == ["t10k-images-idx3-ubyte.gz",
                                                                               "t10k-labels-idx1-ubyte.gz"]
    nb = nbformat.read(cli.run_chapter(chapter, "smoke", {}, log_output=False), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "stand-in" not in text and "reads mnist5k" not in text
    assert len(handler.requests) == 2


@pytest.mark.book
def test_book_builds_strictly(build_book):
    index = build_book()
    assert index.is_file()
    html = cli.BUILD_DIR / "html"
    for page in ("book/chapters/00_data.html", "book/notation.html", "book/bibliography.html", "book/rerun.html"):
        assert (html / page).is_file(), page
    data_page = (html / "book/chapters/00_data.html").read_text()
    assert "<table" in data_page and "<img" in data_page
    assert "Konz" in (html / "book/bibliography.html").read_text()
    # the API reference: one page per wing, generated from the docstrings
    for wing in ("measures", "experiments", "training", "nets", "data", "pipeline"):
        page = (html / f"book/api/{wing}.html").read_text()
        assert f'id="lib.{wing}.' in page, f"the API page of lib.{wing} documents nothing"
    assert 'id="lib.measures.intrinsic_dimension.mle_dimension"' in (html / "book/api/measures.html").read_text()


def _count(page: str, css_class: str) -> int:
    return page.count(f'<div class="{css_class}')


@pytest.mark.book
def test_every_chapter_has_three_exercises_with_folded_solutions(build_book):
    html = cli.html_dir()
    if not (html / "index.html").is_file():
        build_book()
    for chapter in CHAPTERS:
        page = (html / f"book/chapters/{chapter.stem}.html").read_text()
        exercises, solutions = _count(page, "exercise admonition"), _count(page, "solution dropdown admonition")
        assert exercises >= 3 and solutions == exercises, (chapter.stem, exercises, solutions)
        # the parameter cells are left out of the page: it opens on the chapter's text
        assert "# Parameters" not in page and "profile = " not in page, chapter.stem


@pytest.mark.book
def test_student_edition_has_the_exercises_and_no_solution(build_book):
    index = build_book(student=True)
    html = index.parent
    assert html == cli.html_dir(student=True)
    for chapter in CHAPTERS:
        page = (html / f"book/chapters/{chapter.stem}.html").read_text()
        assert _count(page, "exercise admonition") >= 3, chapter.stem
        assert 'class="solution' not in page, chapter.stem
    # the executed notebooks hold the solutions: the student edition offers no source for download
    assert not list(html.rglob("*.ipynb"))


# Beyond the smoke sizes, what keeps each shrunk paper run to minutes: chapter 1 trains two of its six deep
# architectures (ResNet-50's bottleneck blocks and a VGG; chapter 2's zoo trains ResNet-34, VGG-16 and VGG-19) for one
# epoch; chapter 3's flows stop at 90% of the points fitted (the hinge loss makes them stiff near 100%). Chapters 2-6
# also make their extended records (chapter 2's full-width ResNet-18 with a few draws per probe when shrunk; the
# others' ladders at the smoke sizes), into a temporary committed root, and read them back on the same page.
PAPER_EXTRA = {"01_intrinsic_properties": {"max_epochs": 1, "models": "resnet50,vgg13", "workers": 2},
               "02_relative_stability": {"extended": True},
               "03_compressing_invariants": {"until": 0.9, "extended": True},
               "04_manifold_quality": {"extended": True},
               "05_linear_regions": {"extended": True},
               "06_ranking_measures": {"extended": True}}
# records each extended run writes: chapter 3's four ladders, its Lambda_max runs at the ladder's 2 sizes, one more stripe
# network with each loss, one more MNIST network and 2 with longer kernel flows; chapter 2's full-width record and its two extended
# sweeps (more seeds of the page's runs, the zoo trained longer), whose sizes follow the datasets present; chapter
# 4's encoders with one more seed (5 methods x 1 size x 2 optimisers) and its data ladder (3 methods x 1 rung x 2
# seeds); chapter 5's one more image-manifold network and both trained longer; chapter 6's 4 settings with one more seed
EXTENDED_RECORDS = {"02_relative_stability": None, "03_compressing_invariants": 11, "04_manifold_quality": 16,
                    "05_linear_regions": 3, "06_ranking_measures": 4}


@pytest.mark.book
@pytest.mark.paper
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_paper_profile_runs_shrunk(chapter, tmp_path, monkeypatch):
    """Every chapter's `paper` profile, its code paths (architectures, losses, dtypes, optimizers) at the smoke
    profile's sizes (`-p shrink=True`), executes: the day a GPU is available, the paper run does not die on a path
    that CI never took. Written to a temporary folder so the smoke chapters of the book stay as they are."""
    import papermill as pm

    _prepare(chapter, monkeypatch)  # the shrunk run reads the smoke profile's data
    monkeypatch.setenv(HEADLESS_ENV, "1")  # as `python -m lib run`: widget cells open no comm (never a stall)
    monkeypatch.setenv("GG_COMMITTED_RESULTS", str(tmp_path / "committed"))  # extended records: not into book/results
    out = tmp_path / f"{chapter.stem}.ipynb"
    params = {"profile": "paper", "shrink": True, "device": "cpu", **PAPER_EXTRA.get(chapter.stem, {})}
    pm.execute_notebook(cli._read_notebook(chapter.source), str(out), kernel_name="python3", cwd=str(cli.REPO_ROOT),
                        parameters=params, progress_bar=False, execution_timeout=1200)
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    if PAPER_EXTRA.get(chapter.stem, {}).get("extended"):
        # the store's label names any stand-in read in place of missing data: paper-shrunk[+<stand-in>]-extended
        written = len(list((tmp_path / "committed").glob("ch*/paper-shrunk*-extended/*.json")))
        text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        said = (len(re.findall(r"wrote \S+\.json: commit it", text))
                + sum(int(n) for n in re.findall(r"wrote (\d+) records under", text)))
        assert written == said == (EXTENDED_RECORDS[chapter.stem] or said) and written >= 1
