"""Publish stage: put a rendered edition where readers get it, once per target.

    Edition (briefs + rendered files) ──deliver──▶ each [[publish]] target ──▶ delivery log

Targets sit behind a small interface and are registered by kind in
``PUBLISHERS``; each module registers its own kinds the same way a plugin would:

    folder    publish.FolderPublisher     a dated copy of the files
    site      site.SitePublisher          the static archive: index, editions, Atom feed
    email     mail.EmailPublisher         SMTP: HTML body, plain-text part, PDF attached
    feishu, dingtalk, wecom, slack, telegram, webhook
              webhooks.*                  a chat message: abstract, headlines and a link

Exactly once: the delivery log (the ``deliveries`` table) holds one row per
edition and target. A message target (email, chat) that delivered is never
sent the edition again unless ``force``; a file target (folder, site) is
re-placed only when the edition changed. A failed target is tried again on
the next run; the others are left alone. A target that lacks its credentials
raises ``NotConfigured`` and is skipped with a message; the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import PublishError
from ..files import brief_files, load_briefs, write_atomic
from ..records import Brief

if TYPE_CHECKING:
    from ..config import Config, FolderTarget

__all__ = ["PUBLISHERS", "Delivery", "Edition", "FolderPublisher", "Target", "load_edition", "register_publisher"]

log = logging.getLogger(__name__)


def file_stem(language: str, languages: Sequence[str]) -> str:
    """brief for the first language, brief.<lang> for the others."""
    return "brief" if language == languages[0] else f"brief.{language}"


@dataclass(slots=True)
class Edition:
    """One day's briefs (first language first) and the files rendered from them."""

    day: date
    briefs: list[Brief]
    files: list[Path] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        return [b.language for b in self.briefs]

    @property
    def digest(self) -> str:
        """A hash of the briefs' content: it changes when the edition was rebuilt differently."""
        h = hashlib.sha256()
        for b in self.briefs:
            data = b.as_dict()
            data.pop("generated", None)
            h.update(json.dumps(data, sort_keys=True, ensure_ascii=False).encode())
        return h.hexdigest()[:16]

    def brief(self, language: str | None = None) -> Brief:
        if not self.briefs:
            raise PublishError(f"the {self.day} edition has no briefs")
        if language is None:
            return self.briefs[0]
        for b in self.briefs:
            if b.language == language:
                return b
        raise PublishError(f"the {self.day} edition has no '{language}' brief (it has {', '.join(self.languages)}); "
                           f"add '{language}' to edition.languages or change the target's language")

    def stem(self, language: str) -> str:
        return file_stem(language, self.languages)

    def file(self, language: str, suffix: str) -> Path | None:
        """The rendered file of a language and format (suffix like '.pdf'), if it exists."""
        name = self.stem(language) + suffix
        return next((f for f in self.files if f.name == name and f.exists()), None)


def load_edition(folder: Path, day: date | None = None) -> Edition:
    """An edition from a folder holding brief*.json and the files rendered from them."""
    if not brief_files(folder):
        raise PublishError(f"no brief*.json in {folder}; run `dailybrief run` (or build and render) for that date first")
    try:
        briefs = load_briefs(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PublishError(f"cannot read the edition in {folder}: {exc}; rebuild it with `dailybrief run`") from exc
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.startswith("brief") and not p.name.startswith("."))
    return Edition(day or briefs[0].edition, briefs, files)


@dataclass(slots=True)
class Delivery:
    """What happened to one target: delivered, unchanged (already there), skipped, failed, or
    interrupted (sent, but no answer came: it needs a look, and is not resent without --force)."""

    target: str
    kind: str
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("delivered", "unchanged")


@runtime_checkable
class Target(Protocol):
    """A publish target built from its config. ``deliver`` returns a short detail for the log."""

    name: str
    kind: str
    # True: the target holds files (re-placed when the edition changes); False: it sends a message (once).
    resend_on_change: bool

    def deliver(self, edition: Edition) -> str: ...


class FolderPublisher:
    """Copies the edition into ``<root>/<YYYY-MM-DD>/`` (or exactly ``root`` with dated=False)."""

    kind = "folder"
    resend_on_change = True

    def __init__(self, root: str | Path, dated: bool = True, name: str = "folder") -> None:
        self.root = Path(root)
        self.dated = dated
        self.name = name

    @classmethod
    def from_config(cls, conf: FolderTarget, cfg: Config) -> FolderPublisher:
        return cls(cfg.target_path(conf), name=conf.name)

    def target(self, edition: date) -> Path:
        return self.root / edition.isoformat() if self.dated else self.root

    def publish(self, files: list[Path], edition: date) -> list[Path]:
        dest = self.target(edition)
        try:
            dest.mkdir(parents=True, exist_ok=True)
            out = []
            for f in files:
                final = dest / f.name
                if f.resolve() == final.resolve():
                    out.append(final)
                    continue
                # with the source's mode: readers (a web server) need what it allows
                out.append(write_atomic(final, f.read_bytes(), stat.S_IMODE(f.stat().st_mode)))
            return out
        except OSError as exc:
            raise PublishError(f"cannot write the edition to {dest}: {exc}; check the folder is writable") from exc

    def deliver(self, edition: Edition) -> str:
        self.publish(edition.files, edition.day)
        return str(self.target(edition.day))


PUBLISHERS: dict[str, Callable[[Any, Config], Target]] = {}


def register_publisher(kind: str, factory: Callable[[Any, Config], Target]) -> None:
    """Add (or replace) the factory that builds targets of a kind from their config; plugins use this too."""
    PUBLISHERS[kind] = factory


register_publisher("folder", FolderPublisher.from_config)


def idempotency_key(edition: Edition, target: str, language: str = "") -> str:
    """The same key for the same edition sent to the same target, run after run: the platform can drop
    a copy it has seen (a webhook's Idempotency-Key, an email's Message-ID)."""
    return hashlib.sha256(f"{edition.day.isoformat()}|{language}|{target}".encode()).hexdigest()[:32]
