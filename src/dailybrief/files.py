"""An edition's files: written whole or not at all, and its brief*.json read back.

    write_atomic(path, data)   a temporary sibling, then one rename: a reader (a web server, the next run)
                               sees the old file or the new one, never half of one
    brief_files(folder)        the brief*.json of an edition folder, the first language's (brief.json) first
    load_briefs(folder)        the Briefs they hold, in that order
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

from .records import Brief, brief_from_dict

__all__ = ["BRIEF_FILES", "brief_files", "load_briefs", "write_atomic"]

BRIEF_FILES = "brief*.json"  # brief.json (the first language), brief-en.json, ...


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> Path:
    """Write `data` to `path` through a temporary sibling and a rename; `mode` sets its permission bits (by
    default a new file's: what the umask leaves of 0666). Raises OSError, leaving no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")  # its own name: two writers never share one
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def brief_files(folder: Path) -> list[Path]:
    """The brief*.json in `folder`, brief.json (the first language) first, then by name."""
    return sorted(folder.glob(BRIEF_FILES), key=lambda p: (p.name != "brief.json", p.name))


def load_briefs(folder: Path) -> list[Brief]:
    """The Briefs saved in `folder`, first language first; raises OSError or ValueError (KeyError, TypeError)
    for a file that cannot be read back."""
    return [brief_from_dict(json.loads(p.read_text("utf-8"))) for p in brief_files(folder)]
