"""Where dailybrief prints: two Rich consoles that never read text as markup.

Everything printed comes from somewhere else: config names (``[branding]``), feed titles, error
messages, network answers. With Rich's default settings, ``[/oops]`` in any of them ends the
command with a MarkupError, ``[bold red]`` and ``[link=...]`` are applied, and ``[branding]``
silently vanishes. Here markup and emoji codes are off for every string these consoles render
(arguments to ``print``, table cells, titles), and every string is passed through
``redact.scrub`` first. Colour comes only from explicit styles: ``tinted("✗", "red")``, or ``style=``.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.style import Style
from rich.text import Text

from .redact import scrub

__all__ = ["WARN", "SafeConsole", "err", "out", "styled", "tinted"]

WARN = ("!", "yellow")


class SafeConsole(Console):
    """A Console that renders every string as plain, redacted text: no markup, no emoji codes."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("highlight", False)
        super().__init__(markup=False, emoji=False, **kwargs)

    def render_str(self, text: str, *, style: str | Style = "", justify: Any = None, overflow: Any = None,
                   emoji: bool | None = None, markup: bool | None = None, highlight: bool | None = None,
                   highlighter: Any = None) -> Text:
        return super().render_str(scrub(text), style=style, justify=justify, overflow=overflow, emoji=False,
                                  markup=False, highlight=highlight, highlighter=highlighter)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        kwargs["markup"] = False
        kwargs["emoji"] = False
        super().print(*(_clean(o) for o in objects), **kwargs)


def _clean(obj: Any) -> Any:
    if isinstance(obj, Text):
        clean = scrub(obj.plain)
        if clean != obj.plain:
            return Text(clean, style=obj.style)
    return obj


def tinted(text: str, style: str) -> Text:
    """Plain text in one colour (a status mark, a count); never read as markup."""
    return Text(scrub(text), style=style)


def styled(*parts: str | tuple[str, str] | Text) -> Text:
    """Plain text pieces and (text, style) pairs joined into one line; no piece is read as markup."""
    return Text.assemble(*(scrub(p) if isinstance(p, str) else p for p in parts))


err = SafeConsole(stderr=True)
out = SafeConsole(soft_wrap=True)
