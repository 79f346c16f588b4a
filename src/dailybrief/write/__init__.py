"""Write stage: ranked stories become a Brief whose every sentence cites a source.

    writer (the chain: extractive by default, or a registered writer such as llm) ─▶ verify ─▶ figures
"""

from __future__ import annotations

__all__: list[str] = []
