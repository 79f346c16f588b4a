"""The small error hierarchy. Only the CLI turns these into messages and exit codes.

    DailybriefError
    ├── ConfigError        a config key has a bad value (names the key, the value and the fix)
    ├── SourceError        one source could not be fetched or parsed; the run goes on
    │   ├── FetchError     network: unreachable, timeout, HTTP status, too large
    │   └── ParseError     the body is not a feed we can read
    ├── StoreError         the database cannot be opened or migrated
    ├── WriterError        a writer could not produce a section (that part falls back to extractive)
    │   ├── BadAnswer      the model's answer was unusable, even after repair and one retry
    │   └── ModelUnavailable  the endpoint is unreachable, refused the key, or the token budget is spent:
    │       └── BudgetExceeded  the rest of the run falls back without asking again
    ├── RenderError        an output format could not be rendered
    ├── PublishError       a publish target failed
    │   ├── NotConfigured  a target lacks its credentials (an env var is unset); it is skipped
    │   └── Interrupted    the message was sent but no answer came: it may have arrived, so it is
    │                      not sent again without --force
    ├── BusyError          another run holds the lock; this one did not start
    ├── NoBriefError       nothing to brief: no items in the day's window
    └── NotDueError        the edition's window has not closed yet (a run before its cutoff)
"""

from __future__ import annotations


class DailybriefError(Exception):
    """Base of every error dailybrief raises on purpose."""


class ConfigError(DailybriefError):
    def __init__(self, key: str, value: object, fix: str) -> None:
        self.key, self.value, self.fix = key, value, fix
        super().__init__(f"config key '{key}' has value {value!r}: {fix}")


class SourceError(DailybriefError):
    """A source failed; the message says why and what to do."""


class FetchError(SourceError):
    pass


class ParseError(SourceError):
    pass


class StoreError(DailybriefError):
    pass


class WriterError(DailybriefError):
    fatal = False  # True: the writer gives up for the rest of the run


class BadAnswer(WriterError):
    pass


class ModelUnavailable(WriterError):
    fatal = True


class BudgetExceeded(ModelUnavailable):
    pass


class RenderError(DailybriefError):
    pass


class PublishError(DailybriefError):
    pass


class NotConfigured(PublishError):
    """A target lacks what it needs to run (usually an unset env var); it is skipped, the run goes on."""


class Interrupted(PublishError):
    """A request timed out or broke after it was sent; the target may have the message already."""


class BusyError(DailybriefError):
    """Another run holds the lock, so this one did not start."""


class NoBriefError(DailybriefError):
    pass


class NotDueError(DailybriefError):
    """The edition's window is still open: it is written at or after its cutoff, never before."""
