"""The desk's web application (Starlette + Jinja2, htmx shipped inside the package).

Every page needs a signed-in user; every POST needs the session's CSRF token and a same-origin request.
Every template autoescapes: feed and model text reach the page as text, never as markup. Previews of
the edition are served with a sandboxing Content-Security-Policy, so nothing in them can run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..config import Config
from ..errors import DailybriefError
from ..records import DEFAULT_EDITION
from ..render import formats as render
from ..store import Store
from ..stories.embed import Embedder, default_embedder
from ..write.writer import ChainWriter
from . import edits, regroup
from .addstory import add_story, fetch_item
from .auth import (
    LoginLimiter,
    allowed,
    check_password,
    csrf_ok,
    edition_key,
    new_csrf,
    session_cookie,
    session_secret,
)
from .drafts import Conflict, Desk, DeskError, Draft
from .regenerate import model_writer, promote, regenerate, section_writer
from .review import auto_publish_due, grounding_checker, hold, publish_draft, reopen

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_HOURS = 8
AUTO_PUBLISH_POLL = 30.0  # seconds between looks for a draft whose auto_publish_at has passed
DESK_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
PREVIEW_FORMATS = ("html", "wechat", "pdf")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


class DeskApp:
    """The desk's state: config (one edition's), store (scoped to that edition), templates, the login limiter and
    the grounding check."""

    def __init__(self, cfg: Config, store: Store, embedder: Embedder | None = None, secure_cookie: bool = True,
                 limiter: LoginLimiter | None = None, auto_publish: bool = True) -> None:
        store = store.as_edition(cfg.edition.name)  # [[editions]]: this edition's drafts, stories and deliveries
        self.cfg, self.store, self.desk = cfg, store, Desk(store)
        self.env = _env()
        self.limiter = limiter or LoginLimiter(self.desk)
        self._embedder = embedder
        self._check: edits.Checker | None = None
        self.secure_cookie = secure_cookie
        self.auto_publish = auto_publish
        self._lock = threading.Lock()  # one request at a time on the store's connection
        # Which edition's desk this is, on every page, unless it is the default edition's (one edition, as before)
        self.edition_shown = "" if cfg.edition.name == DEFAULT_EDITION else cfg.edition.name

    async def serial(self, fn: Callable[..., Response], *args: Any) -> Response:
        """Run a request's work in a worker thread, one request at a time (the store has one connection)."""
        def locked() -> Response:
            with self._lock:
                return fn(*args)
        return await asyncio.to_thread(locked)

    @property
    def embedder(self) -> Embedder:
        """The embedder the checker and the writers share, loaded on first use."""
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    @property
    def check(self) -> edits.Checker:
        if self._check is None:
            self._check = grounding_checker(self.cfg, self.store, self.embedder)
        return self._check

    @property
    def writer(self) -> ChainWriter:
        """The configured writer (a model when one is configured), for sections written again on the desk."""
        return section_writer(self.cfg, self.store, self.embedder)


    # -- responses ---------------------------------------------------------------------
    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(user=request.session.get("user"), csrf=_csrf(request),
                                                  desk_edition=self.edition_shown, **context)
        return HTMLResponse(html, status_code=status, headers=_headers(DESK_CSP))

    def error(self, request: Request, message: str, status: int = 400, **context: Any) -> HTMLResponse:
        return self.page(request, "error.html", status, message=message, **context)


def _headers(csp: str) -> dict[str, str]:
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf()
    return str(token)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not every client sends one; the CSRF token is the check
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def _form(request: Request) -> dict[str, str] | None:
    """The POST's fields, or None when its CSRF token or origin is wrong."""
    form = await request.form()
    data = {k: str(v) for k, v in form.items()}
    given = data.get("csrf") or request.headers.get("x-csrf-token")
    if not _same_origin(request) or not csrf_ok(request.session.get("csrf"), given):
        return None
    return data


def _cited(d: Draft, form: dict[str, str]) -> str:
    """The item a split form names by its reference number [n] in one language."""
    brief = next((b for b in d.briefs if b.language == form.get("lang")), d.briefs[0])
    ref = next((r for r in brief.references if str(r.n) == form.get("ref", "")), None)
    if ref is None:
        raise DeskError(f"there is no source [{form.get('ref', '')}] in the {brief.language} brief")
    return ref.item_id


def _day(request: Request) -> date:
    try:
        return date.fromisoformat(request.path_params["day"])
    except ValueError:
        raise DeskError("the edition must be a date, YYYY-MM-DD") from None


def build_app(cfg: Config, store: Store, **options: Any) -> Starlette:
    """The ASGI application of the desk, on this config and store."""
    app_state = DeskApp(cfg, store, **options)
    A = app_state

    def user_of(request: Request, action: str = "edit") -> dict[str, str] | None:
        user = request.session.get("user")
        if not user:
            return None
        current = A.desk.user(user["name"])
        if current is None or current["disabled"]:
            request.session.clear()
            return None
        user = {"name": current["name"], "role": current["role"]}
        return user if allowed(user["role"], action) else {**user, "denied": "1"}

    def guarded(action: str = "edit", post: bool = False) -> Callable[..., Any]:
        def wrap(fn: Callable[..., Response]) -> Callable[..., Any]:
            def handle(request: Request, form: dict[str, str] | None) -> Response:
                user = user_of(request, action)
                if user is None:
                    if post:
                        return A.error(request, "sign in first", 401)
                    return RedirectResponse(f"/login?next={request.url.path}", 303)
                if user.get("denied"):
                    return A.error(request, f"a {user['role']} may not {action}; ask an approver or admin", 403)
                if post and form is None:
                    return A.error(request, "this form is out of date or came from another site (CSRF check "
                                   "failed); reload the page and try again", 403)
                try:
                    return fn(request, user, form) if post else fn(request, user)
                except Conflict as exc:
                    return conflict(request, exc, form or {})
                except DailybriefError as exc:
                    return A.error(request, str(exc), 400)

            async def endpoint(request: Request) -> Response:
                form = await _form(request) if post else None
                return await A.serial(handle, request, form)
            return endpoint
        return wrap

    def conflict(request: Request, exc: Conflict, form: dict[str, str]) -> HTMLResponse:
        theirs = A.desk.history(exc.edition, since_version=exc.have)
        return A.page(request, "conflict.html", 409, exc=exc, theirs=theirs, day=exc.edition,
                      mine={k: v for k, v in form.items() if k != "csrf"})

    # -- sign in ------------------------------------------------------------------------
    def _login(request: Request, form: dict[str, str] | None) -> Response:
        if form is None:
            return A.error(request, "the sign-in form is out of date (CSRF check failed); reload it", 403)
        name, password = form.get("name", "")[:64], form.get("password", "")[:1024]
        client = request.client.host if request.client else "?"
        keys = (f"ip:{client}", f"user:{name}")
        wait = A.limiter.blocked(*keys)
        if wait > 0:
            return A.page(request, "login.html", 429, next="/", message=f"too many failed sign-ins; try again in "
                          f"{int(wait) + 1} s")
        user = check_password(A.desk, name, password)
        if user is None:
            A.limiter.failed(*keys)
            return A.page(request, "login.html", 401, next=_safe_next(form.get("next", "/")),
                          message="wrong name or password")
        A.limiter.succeeded(keys[1])
        request.session.clear()
        request.session.update({"user": user, "csrf": new_csrf()})  # a fresh session and token at sign-in
        return RedirectResponse(_safe_next(form.get("next", "/")), 303)

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return A.page(request, "login.html", next=_safe_next(request.query_params.get("next", "/")), message="")
        return await A.serial(_login, request, await _form(request))

    async def logout(request: Request) -> Response:
        form = await _form(request)
        if form is None:
            return A.error(request, "CSRF check failed", 403)
        request.session.clear()
        return RedirectResponse("/login", 303)

    # -- views ------------------------------------------------------------------------------
    @guarded()
    def index(request: Request, user: dict[str, str]) -> Response:
        return A.page(request, "index.html", drafts=A.desk.drafts())

    def _draft(day: date) -> Draft:
        d = A.desk.draft(day)
        if d is None:
            raise DeskError(f"there is no draft of {day}; with [review] required = true, a run makes one")
        return d

    @guarded()
    def edition(request: Request, user: dict[str, str]) -> Response:
        day = _day(request)
        d = _draft(day)
        langs = [b.language for b in d.briefs]
        lang = request.query_params.get("lang", langs[0])
        brief = next((b for b in d.briefs if b.language == lang), d.briefs[0])
        flagged = request.session.pop("flagged", None)
        return A.page(request, "edition.html", d=d, brief=brief, langs=langs, day=day, flagged=flagged,
                      history=A.desk.history(day)[:50], deliveries=A.store.deliveries(day),
                      can_approve=allowed(user["role"], "approve"), formats=PREVIEW_FORMATS, open=d.open,
                      model=A.cfg.writer.kind != "extractive",
                      story_ids=[s.story_id for s in brief.sections if s.kind == "story"],
                      members={c["story_id"]: c["items"] for c in d.candidates if c.get("item_count", 2) > 1})

    @guarded()
    def candidates(request: Request, user: dict[str, str]) -> Response:
        day = _day(request)
        d = _draft(day)
        selected = {s.story_id for s in d.briefs[0].sections if s.kind == "story"}
        return A.page(request, "candidates.html", d=d, day=day, selected=selected)

    @guarded()
    def history(request: Request, user: dict[str, str]) -> Response:
        day = _day(request)
        return A.page(request, "history.html", day=day, history=A.desk.history(day))

    @guarded()
    def preview(request: Request, user: dict[str, str]) -> Response:
        day = _day(request)
        d = _draft(day)
        lang, fmt = request.path_params["lang"], request.path_params["fmt"]
        brief = next((b for b in d.briefs if b.language == lang), None)
        if brief is None or fmt not in PREVIEW_FORMATS:
            raise DeskError(f"no {fmt} preview in {lang!r}")
        headers = {**_headers(PREVIEW_CSP), "X-Frame-Options": "SAMEORIGIN"}
        if fmt == "pdf":
            with tempfile.TemporaryDirectory(prefix="dailybrief-desk-") as tmp:
                path = render.render_pdf(brief, Path(tmp) / "brief.pdf")
                data = path.read_bytes()
            return Response(data, media_type="application/pdf", headers=headers)
        html = render.render_html(brief) if fmt == "html" else render.render_wechat(brief)
        return HTMLResponse(html, headers=headers)

    # -- changes ----------------------------------------------------------------------------------
    def _apply(d: Draft, op: str, f: dict[str, str]) -> edits.Change:
        sid = f.get("story_id", "")
        if op == "move":
            return edits.move(d, sid, int(f.get("to", "0")))
        if op == "up" or op == "down":
            order = [s.story_id for s in d.briefs[0].sections if s.kind == "story"]
            return edits.move(d, sid, max(0, order.index(sid) + (-1 if op == "up" else 1)) if sid in order else 0)
        if op == "drop":
            return edits.drop(d, sid)
        if op in ("pin", "unpin"):
            return edits.pin(d, sid, op == "pin")
        if op == "merge":
            return regroup.merge(d, A.store, A.writer, sid, f.get("into", ""), A.check)
        if op == "title":
            return edits.edit_title(d, f["lang"], sid, f.get("text", ""))
        if op == "note":
            return edits.editor_note(d, f["lang"], sid, f.get("text", ""))
        if op == "split":
            return regroup.split(d, A.store, A.writer, sid, f.get("item_id") or _cited(d, f), A.check)
        if op == "regenerate":
            writer = model_writer(A.cfg, A.store, A.embedder, f.get("instruction", ""))
            return regenerate(d, A.store, writer, f["lang"], sid or "abstract", A.check)
        if op == "demote":
            return edits.demote(d, sid)
        if op == "promote":
            return promote(d, A.store, A.writer, sid, A.check)
        if op == "add_url":

            return add_story(d, fetch_item(A.cfg, A.store, f.get("url", "").strip()), A.check)
        if op in ("edit", "delete"):
            where = (f["lang"], f.get("where", ""), int(f.get("para", "-1")), int(f.get("sent", "-1")), f.get("before", ""))
            if op == "edit":
                return edits.edit_sentence(d, *where, f.get("text", ""), A.check)
            return edits.delete_sentence(d, *where)
        raise DeskError(f"unknown change {op!r}")

    @guarded(post=True)
    def change(request: Request, user: dict[str, str], form: dict[str, str]) -> Response:
        day = _day(request)
        try:
            have = int(form.get("version", ""))
        except ValueError:
            raise DeskError("the form has no version; reload the page") from None
        op = form.get("op", "")
        # A.serial makes this one change at a time in this process; the version guards across processes
        d = _draft(day)
        if not d.open:
            raise DeskError(f"the draft of {day} is {d.status}; it can no longer be changed")
        if d.version != have:
            raise Conflict(day, have, d.version)
        try:
            ch = _apply(d, op, form)
        except (KeyError, ValueError) as exc:
            raise DeskError(f"the {op!r} form lacks a field or has a bad one ({exc})") from None
        A.desk.save(d, have, user["name"], ch.action, ch.target, ch.before, ch.after, ch.decision)
        if ch.then is not None:
            ch.then(user["name"])  # the stored stories change too (a merge, a split), once the draft is saved
        if ch.flagged:
            request.session["flagged"] = {"text": str(ch.after), "reasons": ch.flagged}
        lang = form.get("lang") or ""
        return RedirectResponse(f"/edition/{day}" + (f"?lang={lang}" if lang else ""), 303)

    def confirm(request: Request, action: str, day: date, have: int, reason: str = "") -> Response:
        """Approve and hold ask first: what goes out where (or that nothing does), at the version the page showed."""
        d = _draft(day)
        if d.open == (action == "reopen"):
            raise DeskError(f"the edition of {day} is {d.status}; there is nothing to {action}")
        if d.version != have:
            raise Conflict(day, have, d.version)
        flagged = sum(1 for b in d.briefs for p in [*b.abstract, *(p for s in b.sections for p in s.paragraphs)]
                      for s in p.sentences if s.supported is False)
        return A.page(request, "confirm.html", action=action, day=day, d=d, reason=reason, flagged=flagged,
                      langs=[b.language for b in d.briefs], targets=[t for t in A.cfg.publish if t.editions],
                      sections=sum(1 for s in d.briefs[0].sections if s.kind == "story"))

    @guarded("approve", post=True)
    def approve(request: Request, user: dict[str, str], form: dict[str, str]) -> Response:
        day = _day(request)
        have = int(form.get("version", "0") or 0)
        if form.get("confirm") != "yes":
            return confirm(request, "approve", day, have)
        outcome = publish_draft(A.cfg, A.store, day, user["name"], have)
        return A.page(request, "published.html", day=day, outcome=outcome)

    @guarded("approve", post=True)
    def hold_(request: Request, user: dict[str, str], form: dict[str, str]) -> Response:
        day = _day(request)
        have, reason = int(form.get("version", "0") or 0), form.get("reason", "")[:500]
        if form.get("confirm") != "yes":
            return confirm(request, "hold", day, have, reason)
        hold(A.store, day, user["name"], have, reason)
        return RedirectResponse(f"/edition/{day}", 303)

    @guarded("approve", post=True)
    def reopen_(request: Request, user: dict[str, str], form: dict[str, str]) -> Response:
        day = _day(request)
        have = int(form.get("version", "0") or 0)
        if form.get("confirm") != "yes":
            return confirm(request, "reopen", day, have)
        reopen(A.store, day, user["name"], have)
        return RedirectResponse(f"/edition/{day}", 303)

    async def back_to_edition(request: Request) -> Response:
        if request.path_params["action"] not in ("approve", "hold", "reopen", "change"):
            return A.error(request, "no such page", 404)
        try:
            return RedirectResponse(f"/edition/{_day(request)}", 303)
        except DeskError as exc:
            return A.error(request, str(exc), 400)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_auto_publisher(A)) if A.auto_publish and cfg.review.auto_publish_at else None
        yield
        if task:
            task.cancel()

    routes = [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", index),
        Route("/edition/{day}", edition),
        Route("/edition/{day}/candidates", candidates),
        Route("/edition/{day}/history", history),
        Route("/edition/{day}/preview/{lang}/{fmt}", preview),
        Route("/edition/{day}/change", change, methods=["POST"]),
        Route("/edition/{day}/approve", approve, methods=["POST"]),
        Route("/edition/{day}/hold", hold_, methods=["POST"]),
        Route("/edition/{day}/reopen", reopen_, methods=["POST"]),
        # a GET of an action's address (the back button after a confirmation) shows the edition
        Route("/edition/{day}/{action:str}", back_to_edition, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    # Each edition's desk its own cookie and key: two desks on one host (ports differ) share a browser's cookies
    name = cfg.edition.name
    middleware = [Middleware(SessionMiddleware, secret_key=edition_key(session_secret(cfg.db_path()), name),
                             session_cookie=session_cookie(name), max_age=SESSION_HOURS * 3600, same_site="strict",
                             https_only=A.secure_cookie)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.desk = A
    return app


def _safe_next(target: str) -> str:
    """Only a path on this desk: never another site (an open redirect)."""
    parts = urlsplit(target)
    return target if target.startswith("/") and not target.startswith("//") and not parts.netloc else "/"


async def _auto_publisher(A: DeskApp) -> None:
    while True:
        await asyncio.sleep(AUTO_PUBLISH_POLL)
        try:
            def due() -> list[Any]:
                with A._lock:
                    return auto_publish_due(A.cfg, A.store)
            for outcome in await asyncio.to_thread(due):
                log.info("auto_publish_at: %s", outcome.message)
        except Exception:
            log.exception("auto-publish failed")


def open_store(cfg: Config) -> Store:
    """The store on a connection worker threads may use (DeskApp.serial lets one at a time)."""
    first = Store.open(cfg.db_url())  # creates and migrates it, with the store's own messages
    if first.dialect != "sqlite":
        return first  # PostgreSQL: a psycopg connection is not tied to the thread that opened it
    first.close()
    store = Store(sqlite3.connect(str(cfg.db_path()), timeout=30, check_same_thread=False))
    store.conn.execute("PRAGMA synchronous=NORMAL")
    return store


def serve(cfg: Config, host: str, port: int, secure_cookie: bool = True) -> None:
    import uvicorn  # lazy: the web server, for `dailybrief desk` only

    store = open_store(cfg)
    app = build_app(cfg, store, secure_cookie=secure_cookie)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True, forwarded_allow_ips="127.0.0.1")
