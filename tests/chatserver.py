"""A local HTTP server that plays Feishu, DingTalk, WeCom, Slack, Telegram and a generic webhook receiver.

It checks what each platform checks: the signature (recomputed here from the
shared secret), the token or key in the URL, the message format and the size
limit, and answers the way the platform answers, errors included. Every
request is recorded for the tests to inspect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httpd import listening

FEISHU_SECRET = "feishu-signing-secret-123"  # noqa: S105 - a test fixture's secret
DINGTALK_SECRET = "SECdingtalk0123456789abcdef"  # noqa: S105 - a test fixture's secret
WEBHOOK_SECRET = "generic-hmac-secret"  # noqa: S105 - a test fixture's secret
WECOM_KEY = "wecom-key-693a91f6"
TELEGRAM_TOKEN = "123456:telegram-token-ABC"  # noqa: S105 - a test fixture's secret
SLACK_PATH = "/services/T000/B000/slacktokenXYZ"
FEISHU_PATH = "/open-apis/bot/v2/hook/feishu-hook-token"
DINGTALK_TOKEN = "dingtalk-access-token-777"  # noqa: S105 - a test fixture's secret


@dataclass
class Received:
    platform: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    accepted: bool
    answer: Any = None
    at: float = 0.0  # time.monotonic() when it arrived

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ChatServer:
    base: str = ""
    received: list[Received] = field(default_factory=list)
    # platform -> what to answer first: HTTP statuses, or (status, headers) such as (429, {"Retry-After": "1"})
    fail_next: dict[str, list[int | tuple[int, dict[str, str]]]] = field(default_factory=dict)

    def of(self, platform: str) -> list[Received]:
        return [r for r in self.received if r.platform == platform]

    def accepted(self, platform: str) -> list[Received]:
        return [r for r in self.of(platform) if r.accepted]


def _b64_hmac(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def _check(platform: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple[int, Any, bool]:
    """(status, answer, accepted) as the real platform would answer."""
    data = json.loads(body)
    now = time.time()
    if platform == "feishu":
        if len(body) > 20 * 1024:
            return 200, {"code": 9499, "msg": "request body too large"}, False
        ts = int(data.get("timestamp", 0))
        sign = _b64_hmac(f"{ts}\n{FEISHU_SECRET}".encode(), b"")
        if data.get("sign") != sign or abs(now - ts) > 3600:
            return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}, False
        if data.get("msg_type") not in ("post", "text"):
            return 200, {"code": 9499, "msg": "bad msg_type"}, False
        return 200, {"code": 0, "data": {}, "msg": "success"}, True
    if platform == "dingtalk":
        if query.get("access_token") != DINGTALK_TOKEN:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}, False
        ts = int(query.get("timestamp", "0"))
        sign = _b64_hmac(DINGTALK_SECRET.encode(), f"{ts}\n{DINGTALK_SECRET}".encode())
        if query.get("sign") != sign or abs(now * 1000 - ts) > 3600_000:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}, False
        if len(body) > 20_000:
            return 200, {"errcode": 460101, "errmsg": "message too long"}, False
        return 200, {"errcode": 0, "errmsg": "ok"}, True
    if platform == "wecom":
        if query.get("key") != WECOM_KEY:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, False
        kind = data.get("msgtype")
        content = data.get(kind, {}).get("content", "")
        limit = 4096 if kind == "markdown" else 2048
        if len(content.encode()) > limit:
            return 200, {"errcode": 40058, "errmsg": f"content exceed max length {limit}"}, False
        return 200, {"errcode": 0, "errmsg": "ok"}, True
    if platform == "slack":
        if path != SLACK_PATH:
            return 404, "no_service", False
        if not data.get("text") or len(data["text"]) > 4000:
            return 400, "invalid_payload", False
        return 200, "ok", True
    if platform == "telegram":
        if path != f"/bot{TELEGRAM_TOKEN}/sendMessage":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, False
        text = data.get("text", "")
        if not text or len(text.encode("utf-16-le")) // 2 > 4096:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}, False
        return 200, {"ok": True, "result": {"message_id": 42, "chat": {"id": data.get("chat_id")}}}, True
    if platform == "hook":
        ts = headers.get("x-dailybrief-timestamp", "")
        sig = headers.get("x-dailybrief-signature", "")
        want = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, want) or abs(now - int(ts or 0)) > 300:
            return 401, {"error": "bad signature"}, False
        return 204, None, True
    if platform.startswith("plain"):  # generic receivers without signing (plain, plain-a, …)
        return 200, {"received": True}, True
    return 404, {"error": "unknown"}, False


def _platform(path: str) -> tuple[str, str]:
    """/feishu/open-apis/... -> ("feishu", "/open-apis/...")."""
    parts = path.split("/", 2)
    return parts[1], "/" + (parts[2] if len(parts) > 2 else "")


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    state = ChatServer()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            platform, path = _platform(url.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            arrived = time.monotonic()
            with lock:
                queued = state.fail_next.get(platform) or []
                forced = queued.pop(0) if queued else None
            extra: dict[str, str] = {}
            if forced:
                status, extra = forced if isinstance(forced, tuple) else (forced, {})
                answer, ok = {"error": "try later"}, False
            else:
                try:
                    status, answer, ok = _check(platform, path, query, headers, body)
                except (ValueError, KeyError) as exc:
                    status, answer, ok = 400, {"error": f"bad request: {exc}"}, False
            with lock:
                state.received.append(Received(platform, path, query, headers, body, ok, answer, arrived))
            out = answer.encode() if isinstance(answer, str) else b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(answer, str) else "application/json")
            self.send_header("Content-Length", str(len(out)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(out)

    with listening(Handler) as base:
        state.base = base
        yield state


def targets(base: str, **over: Any) -> list[dict[str, Any]]:
    """[[publish]] entries for every chat platform, pointed at the server at ``base``."""
    link = "https://brief.example.org/{date}/{stem}.html"
    return [
        {"kind": "feishu", "name": "feishu", "url_env": "T_FEISHU_URL", "secret_env": "T_FEISHU_SECRET", "link": link,
         "retries": 0},
        {"kind": "dingtalk", "name": "dingtalk", "url_env": "T_DINGTALK_URL", "secret_env": "T_DINGTALK_SECRET",
         "link": link, "retries": 0},
        {"kind": "wecom", "name": "wecom", "url_env": "T_WECOM_URL", "link": link, "retries": 0},
        {"kind": "slack", "name": "slack", "url_env": "T_SLACK_URL", "link": link, "retries": 0},
        {"kind": "telegram", "name": "telegram", "token_env": "T_TELEGRAM_TOKEN", "chat_id": "@brief",
         "api_url": f"{base}/telegram", "link": link, "retries": 0},
        {"kind": "webhook", "name": "hook", "url": f"{base}/hook/in", "secret_env": "T_HOOK_SECRET", "link": link,
         "retries": 0},
    ]


def env(base: str) -> dict[str, str]:
    """The env vars the targets above name."""
    return {
        "T_FEISHU_URL": f"{base}/feishu{FEISHU_PATH}", "T_FEISHU_SECRET": FEISHU_SECRET,
        "T_DINGTALK_URL": f"{base}/dingtalk/robot/send?access_token={DINGTALK_TOKEN}",
        "T_DINGTALK_SECRET": DINGTALK_SECRET,
        "T_WECOM_URL": f"{base}/wecom/cgi-bin/webhook/send?key={WECOM_KEY}",
        "T_SLACK_URL": f"{base}/slack{SLACK_PATH}",
        "T_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "T_HOOK_SECRET": WEBHOOK_SECRET,
    }


SECRETS = (FEISHU_SECRET, DINGTALK_SECRET, WEBHOOK_SECRET, WECOM_KEY, TELEGRAM_TOKEN, "slacktokenXYZ",
           "feishu-hook-token", DINGTALK_TOKEN)
