"""dailybrief: a cited daily technology briefing, written on its own every day."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, load
from .errors import DailybriefError
from .records import Brief, Item, Reference, Section, Sentence, Source, Story

__all__ = [
    "Brief", "Config", "DailybriefError", "Item", "Reference", "Section", "Sentence", "Source", "Story",
    "__version__", "load",
]
