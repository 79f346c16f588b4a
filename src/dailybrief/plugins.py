"""Plugins: what an installed distribution adds to a stage, declared as entry points.

    entry-point group       names                                   chosen in config by
    dailybrief.sources      a source kind (object or class)         [[sources]].kind
    dailybrief.writers      a writer factory: WriterContext -> writer [writer].kind
    dailybrief.renderers    a renderer: name, suffix, render(brief, path) [output].formats
    dailybrief.publishers   a target factory: (conf, cfg) -> Target  [[publish]].kind

Built-in implementations sit in their stage's registry; a plugin is loaded into that registry the first
time the stage is asked for a name it does not hold. Config accepts a built-in name or any name declared
in the group, without importing the plugin to check it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

__all__ = ["PUBLISHERS", "RENDERERS", "SOURCES", "WRITERS", "declared", "load"]

SOURCES = "dailybrief.sources"
WRITERS = "dailybrief.writers"
RENDERERS = "dailybrief.renderers"
PUBLISHERS = "dailybrief.publishers"

log = logging.getLogger(__name__)


def declared(group: str) -> list[str]:
    """The names installed distributions declare in a group (nothing is imported)."""
    return sorted({ep.name for ep in entry_points(group=group)})


def load(group: str, name: str | None, register: Callable[[str, Any], object]) -> None:
    """Import the entry points of a group (or only `name`) and hand each to `register(name, obj)`.

    A plugin that fails to import is logged and skipped: one broken distribution must not stop the run."""
    for ep in entry_points(group=group):
        if name is not None and ep.name != name:
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the built-ins
            log.warning("%s plugin %s could not be loaded: %s", group, ep.name, exc)
            continue
        register(ep.name, obj)
