"""Stories stage: the day's items become ranked stories.

    dedup (exact and near duplicates) ─▶ embed ─▶ tracking (the day clustered into the stories still open,
    kept in the store; cluster: the similarity rules) ─▶ beat (relevance) ─▶ rank ─▶ themes
"""

from __future__ import annotations

__all__: list[str] = []
