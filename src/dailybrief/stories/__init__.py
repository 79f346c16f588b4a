"""Stories stage: the day's items become ranked stories.

    dedup (exact and near duplicates) ─▶ embed ─▶ cluster (stories across days) ─▶ rank ─▶ themes
"""

from __future__ import annotations

__all__: list[str] = []
