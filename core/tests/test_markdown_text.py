"""Markdown people write, rendered for pages and documents (``core.markdown_text``)."""

from __future__ import annotations

from core.markdown_text import markdown_html


def test_it_renders_tables_and_fenced_code():
    html = markdown_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx = 1\n```\n")
    assert "<table>" in html and "<td>1</td>" in html
    assert "<pre><code>x = 1" in html


def test_it_drops_scripts_event_handlers_and_styles():
    html = markdown_html(
        '<script>alert(1)</script><img src="x" onerror="alert(2)"><p style="color:red">hi</p>'
    )
    assert "<script" not in html and "alert(1)" not in html
    assert "onerror" not in html
    assert "style=" not in html
    assert "hi" in html
