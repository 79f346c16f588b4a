"""Real servers for the distributed runs: a redis-server and Celery workers (`dailybrief worker`), on 127.0.0.1.

Every wait here is bounded; every process started here is stopped by the context that started it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import closed_port


def toml_text(data: dict[str, Any]) -> str:
    """A config dict as TOML: each top-level key one line, nested values as inline tables and arrays (JSON's
    strings, numbers and booleans are TOML's too)."""
    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        return json.dumps(str(v))
    return "".join(f"{json.dumps(k)} = {value(v)}\n" for k, v in data.items())


def wait_for(check: Callable[[], Any], seconds: float, what: str, every: float = 0.2) -> Any:
    """Poll `check` until it answers something true, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """Debian's redis-server on a free port of 127.0.0.1, keeping nothing on disk; yields its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (make test installs Debian's redis-server as root)")
    port = closed_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
                             "--appendonly", "no", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.5)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_for(up, 20, "redis-server to answer PING")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Workers:
    """`dailybrief worker` processes, each in its own process group (so a SIGKILL takes its pool too)."""

    def __init__(self, config_file: Path, env: dict[str, str], logs: Path) -> None:
        self.config_file, self.env, self.logs = config_file, env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "dailybrief", "--config", str(self.config_file), "worker", "--concurrency", "1",
             "--hostname", f"{name}@test", "--loglevel", "INFO"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, name: str) -> None:
        """SIGKILL to the worker and its pool: they die mid-task, as with a lost machine."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    @staticmethod
    def kill_process(pid: int) -> None:
        """SIGKILL to one pool process: its worker lives on and sees the task's process lost."""
        os.kill(pid, signal.SIGKILL)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text("utf-8", "replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(20)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait(5)


@contextmanager
def workers(config_file: Path, env: dict[str, str], logs: Path, names: list[str]) -> Iterator[Workers]:
    pool = Workers(config_file, env, logs)
    try:
        for name in names:
            pool.start(name)
        yield pool
    finally:
        pool.stop()
