"""The source-kind plugin API under its documented name: ``dailybrief.ingest.sources``."""

from .ingest.sources import *  # noqa: F403 - the plugin API, re-exported whole
from .ingest.sources import __all__ as __all__
