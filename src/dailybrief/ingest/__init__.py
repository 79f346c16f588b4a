"""Ingest stage: each configured source becomes Item records.

    http.Fetcher (limits, retries, conditional GET) ─▶ sources/<kind> ─▶ fetch.fetch_sources ─▶ Items
    charset (decoding bodies), extract (an article page's full text)
"""

from __future__ import annotations

__all__: list[str] = []
