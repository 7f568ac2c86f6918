"""Widget cells: live ipywidgets with a frontend, a static preview (and no widget comm) headless; never a stall."""

from __future__ import annotations

import os
import re
import time

import nbformat
import papermill as pm
import pytest

from lib.pipeline import cli, widgets
from lib.pipeline.watchdog import StallWatchdog
from lib.pipeline.widgets import Choice, Slider, interact


def test_headless_calls_the_function_once_at_the_control_values(monkeypatch, capsys):
    monkeypatch.setenv(widgets.HEADLESS_ENV, "1")
    calls = []

    def explore(manifold="torus", d=3, T=0.5, k=9):
        calls.append((manifold, d, T, k))
        return "figure"

    out = interact(explore, manifold=Choice(["sphere", "torus"]), d=Slider(5, 1, 20), T=Slider(-4.0, -7.0, -1.0, 0.25))
    assert out == "figure" and calls == [("sphere", 5, -4.0, 9)]
    assert capsys.readouterr().out.startswith("Static preview at manifold='sphere', d=5, T=-4.0.")


def test_headless_creates_no_widget(monkeypatch):
    """No ipywidgets object is created, so no comm is opened (ipywidgets opens one in every Widget.__init__)."""
    import ipywidgets

    monkeypatch.setenv(widgets.HEADLESS_ENV, "1")
    made = []
    monkeypatch.setattr(ipywidgets.Widget, "open", lambda self: made.append(self))
    interact(lambda a=1: a, a=Slider(2, 0, 4))
    assert made == []


def test_outside_a_kernel_there_is_no_frontend(monkeypatch):
    monkeypatch.delenv(widgets.HEADLESS_ENV, raising=False)
    assert not widgets.frontend_attached()


def test_with_a_frontend_the_controls_become_ipywidgets(monkeypatch):
    import ipywidgets

    monkeypatch.setattr(widgets, "frontend_attached", lambda: True)
    seen = []
    live = interact(lambda method="a", n=0, x=0.0: seen.append((method, n, x)), method=Choice(["a", "b"], "b"),
                    n=Slider(10, 0, 99), x=Slider(0.5, 0.0, 1.0, 0.1))
    kinds = {w.description: type(w) for w in live.widget.children if isinstance(w, ipywidgets.ValueWidget)}
    assert kinds == {"method": ipywidgets.Dropdown, "n": ipywidgets.IntSlider, "x": ipywidgets.FloatSlider}
    assert seen[0] == ("b", 10, 0.5)


@pytest.mark.parametrize("make, message", [
    (lambda: Slider(5, 10, 1), r"min=10, max=1"), (lambda: Slider(5, 1, 10, step=0), r"step=0"),
    (lambda: Slider(11, 1, 10), r"value=11: must lie in \[min, max\] = \[1, 10\]"),
    (lambda: Slider("5", 1, 10), r"value='5'"), (lambda: Choice([]), r"options=\(\)"),
    (lambda: Choice(["a"], "z"), r"value='z': must be one of the options \['a'\]"),
    (lambda: interact(lambda a=1: a, b=Slider(1, 0, 2)), r"'b' is not a parameter of <lambda>; its parameters: a"),
    (lambda: interact(lambda a=1: a, a=[1, 2]), r"a=\[1, 2\] must be a Slider or a Choice")])
def test_bad_controls_are_refused(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_every_chapter_widget_cell_uses_the_headless_aware_interact():
    for chapter in cli.chapters():
        source = chapter.source.read_text()
        assert "import ipywidgets" not in source, chapter.stem
        assert re.search(r"^interact\(", source, re.M), f"{chapter.stem} has no widget cell"


# Cells shaped like the chapters' widget cells: a figure, a text-only function, a drop-down and sliders.
_SETUP = """import matplotlib.pyplot as plt
import numpy as np
from lib.pipeline.widgets import Choice, Slider, interact"""
_CELLS = ["""def show(log10_T=-4.0, c=5, field_seed=0):
    rng = np.random.default_rng(field_seed)
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    axes[0].imshow(rng.random((32, 32)) * 10 ** log10_T)
    axes[1].quiver(*rng.random((4, 8, 8)))
    axes[1].set_title(f"c = {c}")
    plt.show()


interact(show, log10_T=Slider(-4.0, -7.0, -1.0, step=0.25), c=Slider(5, 1, 40), field_seed=Slider(0, 0, 20));""",
          """def estimate(manifold="sphere", d=5, n=1000, k=20):
    print(f"{manifold}: d = {d}, n = {n}, k = {k}")


interact(estimate, manifold=Choice(["sphere", "torus"]), d=Slider(5, 1, 20), n=Slider(1000, 200, 5000, step=200),
         k=Slider(20, 5, 60));""",
          """def walk(method="nt_xent", digit=0, step=10):
    plt.plot(np.arange(step + 1) * (digit + 1))
    plt.title(method)
    plt.show()


interact(walk, method=Choice(["cross_entropy", "nt_xent"], "nt_xent"), digit=Slider(0, 0, 7), step=Slider(10, 0, 99));"""]
STRESS_RUNS = int(os.environ.get("GG_WIDGET_STRESS_RUNS", "30"))


def test_widget_cells_never_stall_headless(monkeypatch, tmp_path):
    """STRESS_RUNS executions of a notebook holding only widget cells, each in a fresh kernel, as the CLI runs them
    (GG_HEADLESS=1, the inline backend, the watchdog): every run completes, every cell shows its preview."""
    monkeypatch.setenv(widgets.HEADLESS_ENV, "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("PYTHONPATH", str(cli.REPO_ROOT))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in [_SETUP, *_CELLS]]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    slowest = 0.0
    for run in range(STRESS_RUNS):
        watchdog = StallWatchdog(cell_timeout=60, idle_s=30.0, poll_s=1.0)
        start = time.perf_counter()
        with watchdog:
            out = pm.execute_notebook(nb, str(tmp_path / f"run{run}.ipynb"), kernel_name="python3",
                                      progress_bar=False, cwd=str(cli.REPO_ROOT), timeout_func=watchdog.timeout_func)
        slowest = max(slowest, time.perf_counter() - start)
        assert watchdog.stall is None, f"run {run}: {watchdog.stall}"
        for cell in out.cells[1:]:
            kinds = {k for o in cell.outputs for k in o.get("data", {})}
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert "application/vnd.jupyter.widget-view+json" not in kinds, f"run {run}: a widget was created"
            assert text.startswith("Static preview at "), f"run {run}: {text!r}"
        assert "image/png" in {k for o in out.cells[1].outputs for k in o.get("data", {})}
        assert "sphere: d = 5, n = 1000, k = 20" in "".join(o.get("text", "") for o in out.cells[2].outputs)
    assert slowest < 60, f"the slowest run took {slowest:.0f} s"


def test_headless_progress_bars_are_plain_text(monkeypatch):
    """A headless run opens no widget comm for its progress bars either (tqdm's notebook bar is an ipywidget)."""
    from tqdm.std import tqdm as text_bar

    from lib.pipeline.widgets import HEADLESS_ENV, progress_bar

    monkeypatch.setenv(HEADLESS_ENV, "1")
    bar = progress_bar(total=3, disable=True)
    assert type(bar) is text_bar
    bar.close()
