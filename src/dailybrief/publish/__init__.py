"""Publish stage: an edition reaches its readers, once per target.

    base (Edition, Target, the registry, folder) ◀─ mail, site, webhooks ◀─ delivery.deliver; alerts
"""

from __future__ import annotations

__all__: list[str] = []
