"""A throwaway PostgreSQL cluster on 127.0.0.1: Debian's server binaries, `initdb` into a temporary
folder, `pg_ctl start` on a free port, a password-protected superuser, and `pg_ctl stop` at the end.

PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` user that Debian's
package creates, and its commands run through `runuser`. Every wait is bounded (pg_ctl -t).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from helpers import _free_port as free_port

USER = "dailybrief"


def bindir() -> Path:
    """Where initdb and pg_ctl are: Debian keeps them off PATH, under /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if not versions:
        raise RuntimeError("PostgreSQL's server is not installed: run `sudo apt-get install postgresql` "
                           "(make test does this as root)")
    return Path(versions[-1]).parent


@dataclass
class Cluster:
    port: int
    password: str

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def cluster(durable: bool = False) -> Iterator[Cluster]:
    """Tests skip fsync (nothing to keep after a crash); `durable` keeps a real server's settings (benchmarks)."""
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="dailybrief-pg-"))
    data = root / "data"
    password = secrets.token_urlsafe(18)
    (root / "pw").write_text(password, "utf-8")
    if owner:
        shutil.chown(root, owner)
        shutil.chown(root / "pw", owner)

    def run(*args: str) -> None:
        cmd = [str(bindir() / args[0]), *args[1:]]
        done = subprocess.run(["runuser", "-u", owner, "--", *cmd] if owner else cmd, capture_output=True, text=True,
                              timeout=180, check=False)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}")

    port = free_port()
    try:
        run("initdb", "-D", str(data), "-U", USER, f"--pwfile={root / 'pw'}", "--auth-host=scram-sha-256",
            "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=100"
        if not durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "60", "start")
        try:
            yield Cluster(port, password)
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "-t", "60", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
