"""Interactive cells that never stall a headless run: live ipywidgets for a person, a static preview otherwise.

A notebook's widget cell is one call::

    interact(explore, d=Slider(5, 1, 20), manifold=Choice(["sphere", "torus"]))

With a frontend attached (a person running the notebook in Jupyter), this is ``ipywidgets.interact`` with an
``IntSlider``/``FloatSlider``/``Dropdown`` per control. Without one (``python -m lib run``, which sets
``GG_HEADLESS=1`` in the kernel's environment, or a plain Python process), no widget is created, so no widget comm
is ever opened: ``explore`` is called once at the controls' values and its figure is the cell's output, under a
line naming those values. Headless runs thereby avoid the nbclient/papermill fault class "the execute reply of a
cell that opens ipywidgets comms is never received" (jupyter/nbclient#312, nteract/papermill#723) by design.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

HEADLESS_ENV = "GG_HEADLESS"


@dataclass(frozen=True)
class Slider:
    """A numeric control: ``value`` in ``[min, max]`` by ``step``; integer when all four are ints, else float.

    Raises ``ValueError`` (naming the argument and its value) for ``min >= max``, ``step <= 0`` or a value outside
    ``[min, max]``, and ``TypeError`` for a non-numeric argument.
    """

    value: float
    min: float
    max: float
    step: float = 1

    def __post_init__(self) -> None:
        for name in ("value", "min", "max", "step"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"Slider {name}={v!r}: must be an int or a float")
        if not self.min < self.max:
            raise ValueError(f"Slider min={self.min!r}, max={self.max!r}: min must be below max")
        if not self.step > 0:
            raise ValueError(f"Slider step={self.step!r}: must be > 0")
        if not self.min <= self.value <= self.max:
            raise ValueError(f"Slider value={self.value!r}: must lie in [min, max] = [{self.min!r}, {self.max!r}]")

    @property
    def integer(self) -> bool:
        return all(isinstance(getattr(self, n), int) for n in ("value", "min", "max", "step"))

    def widget(self) -> Any:
        import ipywidgets

        cls = ipywidgets.IntSlider if self.integer else ipywidgets.FloatSlider
        return cls(value=self.value, min=self.min, max=self.max, step=self.step, continuous_update=False)


@dataclass(frozen=True)
class Choice:
    """A drop-down control over ``options`` (a non-empty sequence), starting at ``value`` (default: the first).

    Raises ``ValueError`` for empty ``options`` or a ``value`` that is not one of them (listing the options).
    """

    options: Sequence[Any]
    value: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        if not self.options:
            raise ValueError("Choice options=(): need at least one option")
        if self.value is None:
            object.__setattr__(self, "value", self.options[0])
        elif self.value not in self.options:
            raise ValueError(f"Choice value={self.value!r}: must be one of the options {list(self.options)}")

    def widget(self) -> Any:
        import ipywidgets

        return ipywidgets.Dropdown(options=list(self.options), value=self.value)


def progress_bar(*args: Any, **kwargs: Any) -> Any:
    """A tqdm progress bar: the notebook bar (an ipywidget) where a person's frontend shows it, the plain text bar
    otherwise, so that a headless run opens no widget comm for its progress either and its HTML keeps no stale,
    hidden widget. Arguments as ``tqdm.tqdm``."""
    if frontend_attached():
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(*args, **kwargs)


def frontend_attached() -> bool:
    """Whether a person's frontend can show widgets: inside a Jupyter kernel and not marked headless.

    ``python -m lib run`` sets ``GG_HEADLESS=1`` for the chapters it executes; set it yourself when executing
    notebooks with papermill or nbconvert directly.
    """
    if os.environ.get(HEADLESS_ENV, "") not in ("", "0"):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def interact(fn: Callable[..., Any], **controls: Slider | Choice) -> Any:
    """Show ``fn`` with one control per keyword: live widgets with a frontend, else a static preview.

    ``controls`` maps parameter names of ``fn`` to :class:`Slider` or :class:`Choice`; parameters without a control
    keep their defaults. Returns the ``ipywidgets`` interactive object when live, else ``fn``'s return value of the
    one call at the controls' values (printed after the line naming those values). Raises ``TypeError`` for a
    control that is not a Slider or Choice and ``ValueError`` for a name that is not a parameter of ``fn``.
    """
    params = inspect.signature(fn).parameters
    for name, control in controls.items():
        if name not in params:
            raise ValueError(f"interact: {name!r} is not a parameter of {fn.__name__}; its parameters: "
                             f"{', '.join(params)}")
        if not isinstance(control, (Slider, Choice)):
            raise TypeError(f"interact: control {name}={control!r} must be a Slider or a Choice")
    if frontend_attached():
        import ipywidgets

        return ipywidgets.interact(fn, **{name: c.widget() for name, c in controls.items()})
    values = {name: c.value for name, c in controls.items()}
    shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
    print(f"Static preview at {shown}. Run this notebook in Jupyter to move the controls.", flush=True)
    return fn(**values)
