"""The ``wechat`` publish target: the edition goes into the official account's draft box (公众号草稿箱).

    access token (cgi-bin/token, cached until shortly before it expires; fetched again when the API says it expired)
      ─▶ media/uploadimg for every inline image (logo, QR code, charts): WeChat shows only its own image URLs
      ─▶ material/add_material (type=image) for the cover: draft/add needs its media_id
      ─▶ draft/add with one article; the editor then publishes from WeChat (recommendation, group send)

The AppID and AppSecret come from the env vars the config names. Neither they nor the token ever reach a
message, a log or the delivery log: errors name the API call and the platform's error code, never the URL.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import NotConfigured, PublishError
from ..render.formats import qr_png_uri, render_wechat
from .base import Edition, register_publisher

if TYPE_CHECKING:
    from ..config import Config, WechatTarget

TOKEN_MARGIN = 300  # seconds: a token this close to its expiry is fetched again
TITLE_MAX, AUTHOR_MAX, DIGEST_MAX = 32, 16, 128  # characters, as draft/add documents them
CONTENT_MAX_BYTES = 1_000_000  # draft/add: content under 1 MB (and 20,000 characters)
CONTENT_MAX_CHARS = 20_000
EXPIRED = {40001, 40014, 42001}  # invalid or expired access token: fetch a new one and try once more
# What the platform's codes mean, and what to do about them.
CODES: dict[int, str] = {
    -1: "the WeChat API is busy; try again in a moment",
    40001: "the AppSecret is wrong, or the access token is invalid; check the secret's env var",
    40013: "the AppID is not valid; check the AppID's env var",
    40014: "the access token is not valid",
    40125: "the AppSecret is not valid; check the secret's env var (reset it in the WeChat admin if needed)",
    40164: "this machine's IP address is not on the account's IP whitelist; add it under 基本配置 → IP白名单",
    40007: "a media_id is not valid (the cover upload failed or expired)",
    41001: "the request has no access token",
    42001: "the access token expired",
    45002: "the article is too long for WeChat",
    45009: "the account reached its daily API call limit; try again tomorrow or raise the quota",
    48001: "the account may not use this API (the draft box needs a verified 公众号 or a test account)",
    53404: "the account is banned from sending for now (WeChat's limit on this account)",
}


def explain(call: str, errcode: int, errmsg: str) -> str:
    hint = CODES.get(errcode, "see WeChat's global return codes")
    return f"WeChat {call} failed: errcode {errcode} ({errmsg[:120]}): {hint}"


@dataclass(slots=True)
class _Token:
    value: str
    expires: float


_IMG = re.compile(r'(<img\b[^>]*?\bsrc=")(data:(image/(?:png|jpeg|gif));base64,([A-Za-z0-9+/=]+))(")')


class WechatPublisher:
    """Puts each edition into the draft box, once (the delivery log remembers the draft's media_id)."""

    kind = "wechat"
    resend_on_change = False  # a second draft of the same edition is a second article in the box

    def __init__(self, conf: WechatTarget, cfg: Config) -> None:
        self.name = conf.name
        self.conf = conf
        self.cfg = cfg
        self.language = conf.language
        missing = [v for v in (conf.appid_env, conf.secret_env) if not os.environ.get(v)]
        if missing:
            raise NotConfigured(f"wechat target '{self.name}' skipped: env var {', '.join(missing)} is not set; "
                                "export the official account's AppID and AppSecret there")
        self._appid = os.environ[conf.appid_env]
        self._secret = os.environ[conf.secret_env]
        self._token: _Token | None = None
        self.client = httpx.Client(timeout=conf.timeout)

    # -- the API -------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self.conf.api_base}/cgi-bin/{path}"

    def token(self, fresh: bool = False) -> str:
        now = time.monotonic()
        if not fresh and self._token and self._token.expires - TOKEN_MARGIN > now:
            return self._token.value
        data = self._json("token", lambda: self.client.get(self._url("token"), params={
            "grant_type": "client_credential", "appid": self._appid, "secret": self._secret}))
        if "access_token" not in data:
            raise PublishError("WeChat token failed: the answer has no access_token")
        self._token = _Token(str(data["access_token"]), now + float(data.get("expires_in", 7200)))
        return self._token.value

    def _json(self, call: str, send: Any) -> dict[str, Any]:
        try:
            resp = send()
        except httpx.HTTPError as exc:  # never str(exc.request.url): it carries the token or the secret
            raise PublishError(f"WeChat {call} failed: {type(exc).__name__}; check the network and api_base") from None
        if resp.status_code != 200:
            raise PublishError(f"WeChat {call} failed: HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            raise PublishError(f"WeChat {call} failed: the answer is not JSON") from None
        code = int(data.get("errcode", 0) or 0)
        if code:
            err = PublishError(explain(call, code, str(data.get("errmsg", ""))))
            err.errcode = code  # type: ignore[attr-defined]
            raise err
        return dict(data)

    def call(self, call: str, send: Any) -> dict[str, Any]:
        """One API call with the current token; an expired token is fetched again and the call made once more."""
        try:
            return self._json(call, lambda: send(self.token()))
        except PublishError as exc:
            if getattr(exc, "errcode", None) not in EXPIRED:
                raise
            return self._json(call, lambda: send(self.token(fresh=True)))

    def upload_image(self, data: bytes, mime: str) -> str:
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}[mime]
        answer = self.call("uploadimg", lambda t: self.client.post(
            self._url("media/uploadimg"), params={"access_token": t}, files={"media": (f"image.{ext}", data, mime)}))
        return str(answer["url"])

    def add_cover(self, data: bytes, mime: str) -> str:
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}[mime]
        answer = self.call("add_material", lambda t: self.client.post(
            self._url("material/add_material"), params={"access_token": t, "type": "image"},
            files={"media": (f"cover.{ext}", data, mime)}))
        return str(answer["media_id"])

    # -- the article -------------------------------------------------------------------
    def content(self, html: str) -> tuple[str, list[tuple[bytes, str]]]:
        """The article body: the WeChat rendering's <body>, each inline image moved to WeChat's own URL."""
        body = re.search(r"<body[^>]*>(.*)</body>", html, re.S)
        text = body.group(1) if body else html
        text = re.sub(r"<script\b.*?</script>", "", text, flags=re.S | re.I)
        images: list[tuple[bytes, str]] = []
        uploaded: dict[str, str] = {}

        def swap(m: re.Match[str]) -> str:
            if m.group(2) not in uploaded:
                data = base64.b64decode(m.group(4))
                images.append((data, m.group(3)))
                uploaded[m.group(2)] = self.upload_image(data, m.group(3))
            return m.group(1) + uploaded[m.group(2)] + m.group(5)

        return _IMG.sub(swap, text), images

    def deliver(self, edition: Edition) -> str:
        brief = edition.brief(self.language)
        content, images = self.content(render_wechat(brief))
        if len(content) > CONTENT_MAX_CHARS or len(content.encode()) > CONTENT_MAX_BYTES:
            raise PublishError(f"the WeChat article is {len(content)} characters; draft/add takes at most "
                               f"{CONTENT_MAX_CHARS}: lower [edition].top_stories for this target's edition")
        cover = images[0] if images else _qr_cover(brief)
        thumb = self.add_cover(*cover)
        digest = " ".join(s.text for p in brief.abstract for s in p.sentences)[:DIGEST_MAX]
        article = {"title": brief.title[:TITLE_MAX], "author": (self.conf.author or "")[:AUTHOR_MAX],
                   "digest": digest, "content": content, "content_source_url": brief.url or "",
                   "thumb_media_id": thumb, "need_open_comment": 0, "only_fans_can_comment": 0}
        answer = self.call("draft/add", lambda t: self.client.post(
            self._url("draft/add"), params={"access_token": t},
            content=_dumps({"articles": [article]}), headers={"Content-Type": "application/json; charset=utf-8"}))
        return f"in the draft box: media_id {answer.get('media_id', '?')} ({len(images)} image(s) uploaded)"

    def alert(self, subject: str, lines: list[str]) -> str:
        raise PublishError("a wechat target takes editions only; name an email or chat target in [alerts].target")


def _qr_cover(brief: Any) -> tuple[bytes, str]:
    uri = qr_png_uri(brief.url or brief.branding.qr_url or brief.branding.website or brief.title)
    return base64.b64decode(uri.split(",", 1)[1]), "image/png"


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")  # WeChat shows \\uXXXX escapes as they are


register_publisher("wechat", WechatPublisher)
