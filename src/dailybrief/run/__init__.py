"""The run: the stages in order, each recorded; the schedule that starts it.
"""

from __future__ import annotations

__all__: list[str] = []
