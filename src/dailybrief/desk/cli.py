"""`dailybrief desk` (serve the desk) and `dailybrief desk adduser` (the first admin, and every other user)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import click

from ..console import out
from ..errors import DailybriefError
from ..store import Store
from .app import serve
from .auth import hash_password
from .drafts import ROLES, Desk

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8750
PASSWORD_ENV = "DAILYBRIEF_DESK_PASSWORD"  # noqa: S105 - the name of an env var; adduser reads the password from here when set (scripts), else asks


@click.group(name="desk", invoke_without_command=True)
@click.option("--edition", "edition_name", default=None,
              help="The edition whose drafts this desk holds ([[editions]] name); needed when the config has several. "
                   "Each reviewed edition has a desk of its own, at its [review].desk_url.")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on. Keep 127.0.0.1 and put a TLS proxy (nginx, Caddy) in front to expose it.")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help=f"Port to listen on (default: the port of the edition's [review].desk_url when it is on "
                   f"127.0.0.1 or localhost, else {DEFAULT_PORT}).")
@click.option("--plain-http-cookie", is_flag=True,
              help="Send the session cookie without the Secure flag: only for a desk reached over plain HTTP on a "
                   "name browsers do not treat as local.")
@click.pass_context
def desk(click_ctx: click.Context, edition_name: str | None, host: str, port: int | None,
         plain_http_cookie: bool) -> None:
    """The editor's desk: review, edit and approve each edition before it goes out."""
    if click_ctx.invoked_subcommand is not None:
        if edition_name is not None:  # users are every edition's; a misspelt name is still an error, not ignored
            click_ctx.obj.edition(edition_name)
        return

    cfg = click_ctx.obj.edition(edition_name)  # the desk holds one edition's drafts; several: exit 2 naming them
    port = port or desk_port(cfg.review.desk_url)
    name = "" if len(click_ctx.obj.cfg.edition_names()) == 1 else f" of edition {cfg.edition.name}"
    out.print(f"the desk{name} is at http://{host}:{port}/ (database {cfg.db_path()})")
    if not cfg.review.required:
        out.print(f"note: edition {cfg.edition.name} publishes without review ([review] required = false); runs "
                  "make no drafts for this desk")
    serve(cfg, host, port, secure_cookie=not plain_http_cookie)


def desk_port(desk_url: str) -> int:
    """The port a desk listens on by default: its desk_url's, when that is this machine, else DEFAULT_PORT."""
    parts = urlsplit(desk_url)
    try:
        named = parts.port
    except ValueError:
        named = None
    return named if named and parts.hostname in ("127.0.0.1", "localhost", "::1") else DEFAULT_PORT


@desk.command(name="adduser")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True,
              help="editor: edits; approver: edits and approves; admin: everything.")
@click.pass_context
def adduser(click_ctx: click.Context, name: str, role: str) -> None:
    """Add a desk user, or set an existing one's role and password."""
    cfg = click_ctx.obj.cfg
    password = os.environ.get(PASSWORD_ENV) or click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        store = Store.open(cfg.db_url())
        try:
            Desk(store).add_user(name, role, hash_password(password))
        finally:
            store.close()
    except DailybriefError as exc:
        raise click.ClickException(str(exc)) from exc
    shared = " (for every edition's desk)" if len(cfg.edition_names()) > 1 else ""
    out.print(f"desk user {name} ({role}) saved{shared}")


@desk.command(name="disable")
@click.argument("name")
@click.pass_context
def disable(click_ctx: click.Context, name: str) -> None:
    """Lock a desk user out at once: their open sessions end on their next request (adduser enables them again)."""
    try:
        store = Store.open(click_ctx.obj.cfg.db_url())
        try:
            Desk(store).set_disabled(name)
        finally:
            store.close()
    except DailybriefError as exc:
        raise click.ClickException(str(exc)) from exc
    out.print(f"desk user {name} disabled")
