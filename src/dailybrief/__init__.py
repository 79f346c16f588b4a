"""dailybrief: a cited daily technology briefing, written on its own every day."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Brief", "Config", "DailybriefError", "Item", "Reference", "Section", "Sentence", "Source", "Story",
    "__version__", "load",
]

_HOME = {
    "Config": ".config", "load": ".config", "DailybriefError": ".errors", "Brief": ".records", "Item": ".records",
    "Reference": ".records", "Section": ".records", "Sentence": ".records", "Source": ".records", "Story": ".records",
}


def __getattr__(name: str) -> Any:
    # The public names load on first use: importing one module of the package never loads config's dependencies.
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
