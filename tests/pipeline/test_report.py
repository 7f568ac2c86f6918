"""Markdown tables: pipes inside headers and cells are escaped (an unescaped one breaks the table), verdict column."""

from __future__ import annotations

import pytest

from lib.pipeline.report import markdown_table


def test_pipes_in_headers_and_cells_are_escaped():
    text = markdown_table([{"max |diff|": 0.5, "name": "a|b"}])
    head, rule, row = text.splitlines()
    assert head == "| max \\|diff\\| | name |" and rule == "|---|---|" and row == "| 0.5 | a\\|b |"


def test_an_empty_table_is_refused():
    with pytest.raises(ValueError, match="at least one row"):
        markdown_table([])


def test_paper_vs_here_shows_a_verdict_column_only_when_rows_have_one(monkeypatch):
    from lib.pipeline import report

    shown = []
    monkeypatch.setattr(report, "show_table", lambda rows, columns, *a: shown.append(columns))
    report.paper_vs_here([{"quantity": "q", "paper": 1, "here": 2}])
    report.paper_vs_here([{"quantity": "q", "paper": 1, "here": 2, "verdict": "reproduced"}])
    assert shown == [["quantity", "paper", "here", "note"], ["quantity", "paper", "here", "verdict", "note"]]
