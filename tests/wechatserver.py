"""A stand-in for the WeChat official-account API on 127.0.0.1: cgi-bin/token, media/uploadimg,
material/add_material and draft/add, answering as the platform documents and checking each request
(credentials, token, media types, article fields, the HTML it accepts). Records every call."""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httpd import listening

APPID, SECRET = "wx-standin-appid", "standin-secret-0123456789"
IMAGE_TYPES = ("image/png", "image/jpeg")
IMAGE_HOST = "http://mmbiz.qpic.cn/standin/"


@dataclass
class WeChat:
    base: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    images: list[str] = field(default_factory=list)  # URLs uploadimg handed out
    covers: set[str] = field(default_factory=set)
    drafts: list[dict[str, Any]] = field(default_factory=list)
    expire_next: int = 0  # answer the next N token-using calls with 42001, and forget the tokens
    forced: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> answer to give instead
    problems: list[str] = field(default_factory=list)  # a request the real API would have refused

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.calls if p == path)


def _err(code: int, msg: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": msg}


def _parts(headers: Any, body: bytes) -> dict[str, tuple[str, bytes]]:
    msg = email.message_from_bytes(f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode() + body,
                                   policy=email.policy.default)
    out = {}
    for part in msg.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        out[name] = (part.get_content_type(), part.get_payload(decode=True))
    return out


def _check_article(state: WeChat, a: dict[str, Any]) -> dict[str, Any] | None:
    for key in ("title", "content", "thumb_media_id"):
        if not a.get(key):
            return _err(40003 if key != "thumb_media_id" else 40007, f"missing {key}")
    if len(a["title"]) > 32 or len(a.get("author", "")) > 16 or len(a.get("digest", "")) > 128:
        return _err(45003, "title/author/digest size out of limit")
    if a["thumb_media_id"] not in state.covers:
        return _err(40007, "invalid media_id")
    content = a["content"]
    if len(content) > 20000 or len(content.encode()) > 1_000_000:
        return _err(45002, "content size out of limit")
    if re.search(r"<script|javascript:|\bon\w+=", content, re.I):
        state.problems.append("script in content")
    for src in re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', content):
        if src not in state.images:
            state.problems.append(f"image not from uploadimg: {src[:60]}")
    if "<style" in content or "<link" in content:
        state.problems.append("stylesheet in content (WeChat drops it)")
    return None


@contextmanager
def wechat_server() -> Iterator[WeChat]:
    state = WeChat()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, data: dict[str, Any]) -> None:
            out = json.dumps(data, ensure_ascii=False).encode()
            self.send_response(200)  # the platform answers errors with HTTP 200 and an errcode
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def _token_ok(self, q: dict[str, list[str]]) -> dict[str, Any] | None:
            token = (q.get("access_token") or [""])[0]
            if not token:
                return _err(41001, "access_token missing")
            if state.expire_next:
                state.expire_next -= 1
                state.tokens.clear()
                return _err(42001, "access_token expired")
            if token not in state.tokens:
                return _err(40001, "invalid credential, access_token is invalid or not latest")
            return None

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            with lock:
                state.calls.append((url.path, {k: v[0] for k, v in q.items() if k != "secret"}))
                if url.path != "/cgi-bin/token":
                    return self._send(_err(-1, "no such API"))
                if url.path in state.forced:
                    return self._send(state.forced[url.path])
                if q.get("grant_type") != ["client_credential"]:
                    return self._send(_err(40002, "invalid grant_type"))
                if q.get("appid") != [APPID]:
                    return self._send(_err(40013, "invalid appid"))
                if q.get("secret") != [SECRET]:
                    return self._send(_err(40125, "invalid appsecret"))
                token = f"TOKEN{len(state.tokens) + len(state.calls)}"
                state.tokens.add(token)
                self._send({"access_token": token, "expires_in": 7200})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.calls.append((url.path, {k: v[0] for k, v in q.items()}))
                if url.path in state.forced:
                    return self._send(state.forced[url.path])
                bad = self._token_ok(q)
                if bad:
                    return self._send(bad)
                if url.path in ("/cgi-bin/media/uploadimg", "/cgi-bin/material/add_material"):
                    if not self.headers.get("Content-Type", "").startswith("multipart/form-data"):
                        return self._send(_err(41005, "media data missing"))
                    parts = _parts(self.headers, body)
                    if "media" not in parts:
                        return self._send(_err(41005, "media data missing"))
                    ctype, data = parts["media"]
                    if ctype not in IMAGE_TYPES or len(data) > 1_000_000:
                        return self._send(_err(40005, "invalid file type"))
                    if url.path.endswith("uploadimg"):
                        state.images.append(f"{IMAGE_HOST}{len(state.images) + 1}.png")
                        return self._send({"url": state.images[-1]})
                    if q.get("type") != ["image"]:
                        return self._send(_err(40004, "invalid media type"))
                    media_id = f"COVER{len(state.covers) + 1}"
                    state.covers.add(media_id)
                    return self._send({"media_id": media_id, "url": f"{IMAGE_HOST}cover.png"})
                if url.path == "/cgi-bin/draft/add":
                    try:
                        data = json.loads(body.decode("utf-8"))
                    except (UnicodeDecodeError, ValueError):
                        return self._send(_err(47001, "data format error"))
                    articles = data.get("articles") or []
                    if not articles:
                        return self._send(_err(47001, "data format error"))
                    if len(articles) > 8:
                        state.problems.append("more than 8 articles in one draft")
                    for a in articles:
                        bad = _check_article(state, a)
                        if bad:
                            return self._send(bad)
                    state.drafts.append(data)
                    return self._send({"media_id": f"DRAFT{len(state.drafts)}"})
                self._send(_err(-1, "no such API"))

    with listening(Handler) as base:
        state.base = base
        yield state
