"""Publish stage: put a rendered edition where readers get it.

Publishers sit behind a small interface, registered by name in ``PUBLISHERS``.
The built-in "folder" publisher places the edition's files in a dated folder,
atomically: a reader never sees half an edition.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Protocol

from .errors import PublishError


class Publisher(Protocol):
    kind: str

    def publish(self, files: list[Path], edition: date) -> list[Path]: ...


class FolderPublisher:
    """Copies the edition into ``<root>/<YYYY-MM-DD>/`` (or exactly ``root`` with dated=False)."""

    kind = "folder"

    def __init__(self, root: str | Path, dated: bool = True) -> None:
        self.root = Path(root)
        self.dated = dated

    def target(self, edition: date) -> Path:
        return self.root / edition.isoformat() if self.dated else self.root

    def publish(self, files: list[Path], edition: date) -> list[Path]:
        dest = self.target(edition)
        try:
            dest.mkdir(parents=True, exist_ok=True)
            out = []
            for f in files:
                with tempfile.NamedTemporaryFile(dir=dest, prefix=".tmp-", delete=False) as tmp:
                    tmp_path = Path(tmp.name)
                shutil.copyfile(f, tmp_path)
                final = dest / f.name
                tmp_path.replace(final)
                out.append(final)
            return out
        except OSError as exc:
            raise PublishError(f"cannot write the edition to {dest}: {exc}; check the folder is writable") from exc


PUBLISHERS: dict[str, type] = {"folder": FolderPublisher}
