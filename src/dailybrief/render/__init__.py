"""Render stage: a Brief becomes Markdown, HTML, WeChat HTML, chat text, JSON and PDF.

    formats (templates/, one function per format) and digest (the short form for chat targets).
    ``dailybrief.render.chat_message`` is public (README); it is re-exported here.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["chat_message"]

_HOME = {
    "chat_message": ".formats",
}


def __getattr__(name: str) -> Any:
    # Re-exports load on first use, so importing one stage module never loads its siblings.
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
