"""Release notes: CommonMark to HTML with markdown-it-py, raw HTML escaped.

Raw HTML in notes is shown as text, never interpreted; link targets go through
markdown-it's validator (no ``javascript:``, ``vbscript:``, ``file:`` or ``data:``);
images are not rendered (the page loads no external assets), their link stays.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    # "commonmark" with html=False: `<script>` in notes becomes text. No images: the
    # page loads no external assets (an image would be one, and a tracking pixel).
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return md.disable("image")


def render_markdown(text: str) -> str:
    """HTML for the markdown ``text`` (escaped; no raw HTML passes through)."""
    out: str = _parser().render(text)
    return out
