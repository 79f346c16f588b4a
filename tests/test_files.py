"""Edition files: written whole or not at all; brief*.json read back first language first."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from briefs import make_brief
from dailybrief.files import brief_files, load_briefs, write_atomic


def test_write_atomic_replaces_the_file_and_leaves_no_temporary_behind(tmp_path: Path) -> None:
    path = tmp_path / "site" / "index.html"
    write_atomic(path, b"old")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]


def test_write_atomic_keeps_a_new_files_usual_mode_or_the_one_asked(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        plain = write_atomic(tmp_path / "a.html", b"x")
        shared = write_atomic(tmp_path / "b.pdf", b"x", 0o640)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o644  # readable by a web server, as write_bytes would make it
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640


def test_a_failed_write_keeps_what_was_there_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "site" / "feed.xml"
    path.mkdir(parents=True)  # the rename cannot replace a folder: the write fails after the temporary file was written
    (path / "kept").write_bytes(b"old")
    with pytest.raises(OSError):
        write_atomic(path, b"new")
    assert (path / "kept").read_bytes() == b"old" and [p.name for p in path.parent.iterdir()] == ["feed.xml"]


def test_briefs_load_first_language_first(tmp_path: Path) -> None:
    for name, lang in (("brief-en.json", "en"), ("brief.json", "zh"), ("brief-ja.json", "en")):
        (tmp_path / name).write_text(json.dumps(make_brief(lang).as_dict(), ensure_ascii=False), "utf-8")
    (tmp_path / "brief.html").write_text("<p>not a brief</p>", "utf-8")
    assert [p.name for p in brief_files(tmp_path)] == ["brief.json", "brief-en.json", "brief-ja.json"]
    assert [b.language for b in load_briefs(tmp_path)] == ["zh", "en", "en"]
    assert load_briefs(tmp_path / "missing") == []
