"""Shared fixtures: a private user dir and database per test, and real local HTTP servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dailybrief.demo import serve_directory

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SNAPSHOT = SHARED / "eval-data" / "ai-lab-feeds-snapshot" / "feeds"


def need_tool(name: str) -> None:
    if shutil.which(name) is None:
        pytest.fail(f"{name} is missing: install poppler-utils (make test does this as root)")


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user data dir and database, and runs in its own cwd."""
    home = tmp_path / "home"
    monkeypatch.setenv("DAILYBRIEF_HOME", str(home))
    monkeypatch.setenv("DAILYBRIEF_DB", str(home / "test.db"))
    monkeypatch.delenv("DAILYBRIEF_CONFIG", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    d = tmp_path / "served"
    d.mkdir()
    return d


@pytest.fixture
def feed_server(feed_dir: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving `feed_dir`."""
    with serve_directory(feed_dir) as base:
        yield base
