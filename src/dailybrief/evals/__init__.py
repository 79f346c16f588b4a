"""Evaluations: stages and whole runs measured against labelled data.
"""

from __future__ import annotations

__all__: list[str] = []
