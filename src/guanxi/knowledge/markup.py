"""Article bodies: Markdown-ish text rendered to HTML with raw HTML escaped and unsafe links refused.

No Django here. markdown-it-py with `html` off escapes every tag a writer types; its link check drops
javascript:, vbscript:, file: and data: targets.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render(text: str) -> str:
    """HTML for an article body; safe to mark safe because the writer's HTML is escaped."""
    return _md.render(text or "")


def plain(text: str, length: int = 160) -> str:
    """A one-line excerpt of the body without Markdown marks (escaped by the template)."""
    flat = " ".join((text or "").replace("#", " ").replace("*", " ").replace("`", " ").split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
