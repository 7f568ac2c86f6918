"""The cell watchdog: an idle kernel with a cell outstanding is stopped within seconds, naming the cell."""

from __future__ import annotations

import nbformat
import papermill as pm
import pytest
from nbclient.exceptions import DeadKernelError

from lib.pipeline.watchdog import StallWatchdog


def _notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    return nb


def test_an_idle_kernel_is_killed_and_the_cell_named(tmp_path):
    watchdog = StallWatchdog(cell_timeout=600, idle_s=3.0, poll_s=0.5)
    nb = _notebook("x = 1", "\nimport time  # waits without CPU, as a lost reply does\ntime.sleep(120)", "x = 2")
    with pytest.raises(DeadKernelError), watchdog:
        pm.execute_notebook(nb, str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False,
                            timeout_func=watchdog.timeout_func)
    assert watchdog.stall is not None
    assert watchdog.stall.number == 2 and watchdog.stall.line == "import time  # waits without CPU, as a lost reply does"
    assert 3.0 <= watchdog.stall.idle_s < 10.0
    assert "cell [2]" in str(watchdog.stall)


def test_a_busy_cell_is_left_alone(tmp_path):
    watchdog = StallWatchdog(cell_timeout=600, idle_s=2.0, poll_s=0.5)
    nb = _notebook("import time\nt = time.process_time()\nwhile time.process_time() - t < 5: pass", "y = 3")
    with watchdog:
        pm.execute_notebook(nb, str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False,
                            timeout_func=watchdog.timeout_func)
    assert watchdog.stall is None


@pytest.mark.parametrize("kwargs, message", [({"idle_s": 0}, "idle_s=0"), ({"poll_s": 0}, "poll_s=0"),
                                             ({"idle_s": 1.0, "poll_s": 2.0}, "poll_s=2.0"),
                                             ({"busy_fraction": 1.5}, "busy_fraction=1.5")])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StallWatchdog(60, **kwargs)


def test_timeout_func_counts_code_cells_and_returns_the_limit():
    watchdog = StallWatchdog(cell_timeout=300)
    assert watchdog.timeout_func(nbformat.v4.new_code_cell("\n  a = 1\nb = 2")) == 300
    assert watchdog.timeout_func(nbformat.v4.new_code_cell("c = 3")) == 300
    assert watchdog._cell == (2, "c = 3")
