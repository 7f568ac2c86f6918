"""The status page: how each executed chapter was made, from the notebook papermill wrote."""

from __future__ import annotations

import nbformat
import pytest

from lib.pipeline.status import METADATA_KEY, committed_records, rerun_command, run_record, status_markdown


def _executed(tmp_path, commit: str | None = "abc123def4567890"):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("ch = setup_chapter(...)", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="ch02 at profile 'book': n=5, models=lenet; device cuda:0; rerun: ...\n")]),
        nbformat.v4.new_code_cell("print('the end')", outputs=[nbformat.v4.new_output("stream", text="x\n")])])
    nb.metadata["papermill"] = {"parameters": {"profile": "book", "seed": 3}, "duration": 123.4,
                                "end_time": "2026-11-30T07:00:00.123456"}
    if commit:
        nb.metadata[METADATA_KEY] = {"commit": commit}
    path = tmp_path / "02_x.ipynb"
    nbformat.write(nb, path)
    return path


def test_run_record_reads_papermill_the_setup_line_and_the_commit(tmp_path):
    rec = run_record(_executed(tmp_path))
    assert rec == {"profile": "book", "parameters": {"seed": 3}, "commit": "abc123def4567890", "device": "cuda:0",
                   "wall_s": 123, "date": "2026-11-30 07:00"}
    assert rerun_command(2, rec) == "python -m lib run 2 --profile book -p seed=3"
    assert run_record(_executed(tmp_path, commit=None))["commit"] == "unknown"


def test_committed_records_with_their_provenance(tmp_path):
    source = tmp_path / "02_x.py"
    source.write_text('a = Path("book/results/benchmarks/ntk.json")\nb = "book/results/paper/none.json"\n')
    ntk, missing = committed_records(source)
    assert ntk["path"] == "book/results/benchmarks/ntk.json" and ntk["exists"] and ntk["commit"] != "unknown"
    assert missing == {"path": "book/results/paper/none.json", "exists": False, "commit": "unknown",
                       "device": "unknown", "date": "unknown"}


def test_status_page_has_a_row_per_chapter(tmp_path):
    source = tmp_path / "02_x.py"
    source.write_text("print('no committed results')\n")
    page = status_markdown([(2, "Relative stability", source, _executed(tmp_path))])
    assert ("| [2. Relative stability](chapters/02_x) | `book` | `seed=3` | cuda:0 | 123 s | 2026-11-30 07:00 | "
            "`abc123def456` |") in page
    assert "python -m lib run 2 --profile book -p seed=3" in page
    assert "No chapter reads committed results" in page


def _png(colour: tuple[int, int, int]) -> str:
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), colour).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_map_figure_prefers_the_tagged_cell_then_the_first_image(tmp_path):
    from PIL import Image

    from lib.pipeline.status import write_map_figure

    def image_cell(colour, tags=()):
        out = nbformat.v4.new_output("display_data", data={"image/png": _png(colour), "text/plain": "<Figure>"})
        return nbformat.v4.new_code_cell("plt.show()", outputs=[out], metadata={"tags": list(tags)})

    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[image_cell((255, 0, 0)), image_cell((0, 0, 255), ["map-figure"])]),
                   path)
    assert Image.open(write_map_figure(path, tmp_path / "tagged.png")).getpixel((0, 0)) == (0, 0, 255)
    nbformat.write(nbformat.v4.new_notebook(cells=[image_cell((255, 0, 0)), image_cell((0, 0, 255))]), path)
    assert Image.open(write_map_figure(path, tmp_path / "first.png")).getpixel((0, 0)) == (255, 0, 0)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    with pytest.raises(ValueError, match="no image output"):
        write_map_figure(path, tmp_path / "none.png")
