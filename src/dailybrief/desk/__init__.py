"""The editor's desk: review, edit and approve each edition before it goes out.

    dailybrief desk ─▶ app.py (Starlette + Jinja2 + htmx, on 127.0.0.1)
                         ├─ auth.py    users (argon2), signed sessions, CSRF tokens, login rate limit
                         ├─ edits.py   changes to a draft (reorder, drop, pin, merge, edit, ...), re-verified
                         ├─ drafts.py  the desk's tables: drafts with optimistic versions, decisions, audit log
                         └─ review.py  a run that stops at a draft; approve / hold / auto-publish

It sits on top of the pipeline, the store, render, publish and verify, and
nothing below it imports it: importing the package registers its review step with the pipeline
(``run.pipeline.register_review``), and the CLI imports it.
"""

from . import review  # registers the review step

__all__ = ["review"]

