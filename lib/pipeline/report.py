"""Tables for chapters: Markdown rendered by Jupyter Book, including the paper-vs-here comparison."""

from __future__ import annotations

from typing import Sequence


def _fmt(v, floatfmt: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return format(v, floatfmt)
    return str(v).replace("|", "\\|")


def markdown_table(rows: Sequence[dict], columns: Sequence[str] | None = None, floatfmt: str = ".3g") -> str:
    """A Markdown table of ``rows`` (dicts); ``columns`` picks and orders the keys (default: those of row 0)."""
    if not rows:
        raise ValueError("markdown_table needs at least one row")
    columns = list(columns or rows[0].keys())
    head = "| " + " | ".join(_fmt(c, floatfmt) for c in columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "\n".join("| " + " | ".join(_fmt(r.get(c), floatfmt) for c in columns) + " |" for r in rows)


def show_table(rows: Sequence[dict], columns: Sequence[str] | None = None, floatfmt: str = ".3g") -> None:
    """Display :func:`markdown_table` in a notebook."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(rows, columns, floatfmt)))


def paper_vs_here(rows: Sequence[dict]) -> None:
    """Display the comparison table every chapter ends with: ``quantity``, ``paper``, ``here``, ``verdict`` (when a
    row has one: the outcome of the criterion the chapter states, computed from the results) and ``note``."""
    verdict = ["verdict"] if any("verdict" in r for r in rows) else []
    show_table(rows, ["quantity", "paper", "here", *verdict, "note"])
