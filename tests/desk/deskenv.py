"""The desk tests' world: a real run on feeds served from 127.0.0.1 that stops at a draft, real webhook
targets (an echo server on 127.0.0.1), and a signed-in Starlette TestClient."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from dailybrief import config
from dailybrief.demo import serve_directory
from dailybrief.desk.auth import LoginLimiter, hash_password
from dailybrief.desk.drafts import Desk
from dailybrief.run.editions import plan, run_editions
from dailybrief.run.pipeline import Pipeline
from dailybrief.store import Store
from echoserver import Echo, echo_server
from helpers import _free_port, rss, source
from helpers import config as make_config

DAY = date(2026, 4, 10)
PASSWORD = "correct horse battery"  # noqa: S105 - a test user's
XSS = '<script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=2">'


def _when(h: int) -> datetime:
    return datetime(2026, 4, 10, h, 0, tzinfo=timezone.utc)


def feeds(payload: str = "", later: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """Two outlets reporting three events (one with a feed-borne payload in its title and text) and a lone item;
    `later`: more items of outlet A (a later day's)."""
    tag = f" {payload}" if payload else ""
    a = [
        {"title": f"Nvidia ships the B300 accelerator to cloud providers{tag}", "link": "https://a.example/b300",
         "description": f"Nvidia said it shipped 40,000 B300 accelerators to three cloud providers this week.{tag}",
         "published": _when(2)},
        {"title": "OpenAI and Oracle sign a 4.5 gigawatt data centre deal", "link": "https://a.example/stargate",
         "description": "OpenAI and Oracle agreed to build 4.5 gigawatts of data centre capacity in Texas.",
         "published": _when(3)},
        {"title": "Mistral releases an open 24B coding model", "link": "https://a.example/mistral",
         "description": "Mistral released Devstral, an open coding model with 24 billion parameters, under Apache 2.0.",
         "published": _when(4)},
    ]
    b = [
        {"title": "Nvidia B300 accelerators reach cloud providers", "link": "https://b.example/nvidia-b300",
         "description": "Nvidia shipped 40,000 B300 accelerators to three cloud providers, the company said.",
         "published": _when(5)},
        {"title": "Oracle to build 4.5 GW of data centres for OpenAI", "link": "https://b.example/oracle",
         "description": "Oracle will build 4.5 gigawatts of data centre capacity for OpenAI in Texas.",
         "published": _when(6)},
        {"title": "Mistral's Devstral: a 24B open coding model", "link": "https://b.example/devstral",
         "description": "Devstral, from Mistral, is an open coding model of 24 billion parameters.",
         "published": _when(7)},
        {"title": "A lone paper on sparse attention", "link": "https://b.example/sparse",
         "description": "Researchers describe a sparse attention method that halves memory use.", "published": _when(8)},
    ]
    return {"a.xml": rss("Outlet A", [*a, *(later or [])]), "b.xml": rss("Outlet B", b)}


@dataclass
class DeskEnv:
    cfg: config.Config  # the desk's edition's (with [[editions]]: the first's)
    store: Store
    echo: Echo
    root: Path
    base: str
    whole: config.Config | None = None  # with [[editions]]: the config of them all
    runs: list[Any] = field(default_factory=list)  # with [[editions]]: each edition's last run

    def edition(self, name: str) -> config.Config:
        assert self.whole is not None
        return self.whole.for_edition(name)

    def deliveries(self, target: str) -> int:
        return len(self.echo.to(f"/{target}"))

    def rebuild(self) -> Any:
        """The day's run; in a thread of its own, since Playwright's sync API keeps an event loop in this one."""
        from concurrent.futures import ThreadPoolExecutor

        embedder = _shared_embedder()
        whole = self.whole
        if whole is not None:  # every edition, fetched once (run_editions); the first edition's run
            with ThreadPoolExecutor(1) as pool:
                runs = pool.submit(lambda: run_editions(plan(whole, day=DAY), self.store, now=_after(),
                                                        embedder=embedder)).result()
            self.runs = [r.run for r in runs]
            return self.runs[0]
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: Pipeline(self.cfg, self.store, embedder=embedder).run(DAY, now=_after())).result()


_EMBEDDER: list[Any] = []


def _shared_embedder() -> Any:
    if not _EMBEDDER:
        from dailybrief.stories.embed import default_embedder

        _EMBEDDER.append(default_embedder())
    return _EMBEDDER[0]


def _after() -> datetime:
    return datetime(2026, 4, 11, 1, 0, tzinfo=timezone.utc)


def desk_config(base: str, echo: Echo, root: Path, editions: list[dict[str, Any]] | None = None,
                **review: Any) -> config.Config:
    data = make_config([source("Outlet A", f"{base}/a.xml"), source("Outlet B", f"{base}/b.xml")],
                       edition={"languages": ["zh", "en"], "top_stories": 3, "roundup_items": 2,
                                "beat": {"cut": 0.0}})  # the desk, not the beat, is tested here
    data["storage"] = {"path": str(root / "db.sqlite")}
    data["output"] = {"dir": str(root / "out"), "formats": ["html", "json"]}
    data["publish"] = [
        {"kind": "folder", "name": "archive", "path": str(root / "archive")},
        {"kind": "webhook", "name": "hook", "url": f"{echo.base}/hook", "link": "https://b.example/{date}"},
        {"kind": "webhook", "name": "alerts", "url": f"{echo.base}/alerts", "link": "https://b.example/{date}",
         "editions": False},
    ]
    data["alerts"] = {"target": "alerts"}
    data["review"] = {"required": True, "desk_url": "https://desk.example/", **review}
    if editions:
        data["editions"] = editions
    return config.from_dict(data)


# A test marked with this runs on a SQLite file and on a new PostgreSQL database (the desk's store).
BOTH_STORES = pytest.mark.parametrize("make_env", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(name="make_env")
def _make_env(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """make_env(payload="", **review) -> DeskEnv: the day's run done, stopped at a draft; on the SQLite file
    DAILYBRIEF_DB names, or (a test marked BOTH_STORES) on PostgreSQL too."""
    if getattr(request, "param", "sqlite") == "postgresql":
        monkeypatch.setenv("DAILYBRIEF_DB", request.getfixturevalue("pg_url"))
    stack: list[Any] = []

    def make(payload: str = "", editions: list[dict[str, Any]] | None = None, **review: Any) -> DeskEnv:
        served = tmp_path / "served"
        served.mkdir(exist_ok=True)
        for name, text in feeds(payload).items():
            (served / name).write_text(text, "utf-8")
        srv = serve_directory(served)
        base = srv.__enter__()
        stack.append(srv)
        echo_cm = echo_server()
        echo = echo_cm.__enter__()
        stack.append(echo_cm)
        whole = desk_config(base, echo, tmp_path, editions, **review)
        cfg = whole.for_edition(editions[0]["name"]) if editions else whole
        from dailybrief.desk.app import open_store

        store = open_store(cfg)  # usable from the run's thread too
        stack.append(store)
        env = DeskEnv(cfg, store, echo, tmp_path, base, whole if editions else None)
        run = env.rebuild()
        assert run.status == "draft", run.failures
        Desk(store).add_user("edna", "editor", hash_password(PASSWORD))
        Desk(store).add_user("abe", "approver", hash_password(PASSWORD))
        return env

    yield make
    for thing in reversed(stack):
        if isinstance(thing, Store):
            thing.close()
        else:
            thing.__exit__(None, None, None)


def client(env: DeskEnv, user: str = "abe", limiter: LoginLimiter | None = None,
           cfg: config.Config | None = None) -> Any:
    """A signed-in client of the desk of env's edition (or of `cfg`'s: another edition's desk)."""
    from starlette.testclient import TestClient

    from dailybrief.desk.app import build_app, open_store

    cfg = cfg or env.cfg
    app = build_app(cfg, open_store(cfg), embedder=_shared_embedder(), limiter=limiter, auto_publish=False)
    c = TestClient(app, base_url="https://testserver")
    if user:
        login(c, user)
    return c


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]


def login(c: Any, user: str, password: str = PASSWORD) -> Any:
    token = csrf(c.get("/login").text)
    return c.post("/login", data={"csrf": token, "name": user, "password": password, "next": "/"},
                  follow_redirects=False)


def post(c: Any, op: str, **fields: Any) -> Any:
    page = c.get(f"/edition/{DAY}").text
    data = {"csrf": csrf(page), "version": version(page), "op": op, "lang": "zh", **fields}
    return c.post(f"/edition/{DAY}/change", data=data)


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """A desk app served by uvicorn on 127.0.0.1 in a thread, for as long as the block runs; yields its base URL."""
    import uvicorn  # lazy: only the tests that serve a desk over HTTP start a server

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
