"""Release notes: CommonMark to HTML with markdown-it-py, raw HTML escaped.

Raw HTML in notes is shown as text, never interpreted; link targets go through
markdown-it's validator (no ``javascript:``, ``vbscript:``, ``file:`` or ``data:``
except images), and links open as plain relative or absolute hrefs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    # "commonmark" with html=False: `<script>` in notes becomes text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> str:
    """HTML for the markdown ``text`` (escaped; no raw HTML passes through)."""
    out: str = _parser().render(text)
    return out
