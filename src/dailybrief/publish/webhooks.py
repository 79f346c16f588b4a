"""Chat targets: Feishu, DingTalk, WeCom, Slack, Telegram and generic JSON webhooks.

Each sends the edition's digest (the abstract, the headlines and a link,
fitted to the platform's size limit from whole sentences, see ``digest.py``)
in the platform's own message format, and can send alerts as plain text.

    kind      message                 size limit, measured on                 signing
    feishu    post (rich text)        20 KB of request body                   "sign" in the body: base64 HMAC-SHA256
                                                                              keyed "<ts>\n<secret>" over nothing
    dingtalk  markdown                20,000 bytes of request body            "timestamp" + "sign" query: url-encoded
                                                                              base64 HMAC-SHA256(secret, "<ts>\n<secret>")
    wecom     markdown                4,096 bytes of content                  none: the key is in the webhook URL
    slack     mrkdwn text             4,000 characters of text                none: incoming webhooks are not signed
    telegram  sendMessage, plain      4,096 UTF-16 units of text              none: the bot token is in the URL path
    webhook   JSON fields + text      max_length characters (default 4,000)   optional X-Dailybrief-Signature:
                                                                              sha256=HMAC(secret, "<ts>.<body>")

Secrets come from env vars named in config (``url_env``, ``secret_env``,
``token_env``) and never appear in an error message or a log line: errors
name the target and the host only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlsplit

import httpx

from .. import __version__, redact
from ..errors import Interrupted, NotConfigured, PublishError
from ..render.digest import Digest, Measure, digest_of, fit, fit_lines, measure_bytes, measure_chars, measure_utf16
from ..retry import RETRY_STATUSES, Retries
from .base import Edition, idempotency_key, register_publisher

if TYPE_CHECKING:
    from ..config import Config, DingtalkTarget, FeishuTarget, TelegramTarget, WebhookTarget, _ChatTarget

__all__ = ["ChatPublisher", "DingtalkPublisher", "FeishuPublisher", "SlackPublisher", "TelegramPublisher",
           "WebhookPublisher", "WecomPublisher", "dingtalk_sign", "feishu_sign", "webhook_signature"]

log = logging.getLogger(__name__)

BACKOFF = 0.5  # seconds before a chat target's first retry, doubling each time (or as Retry-After asks)


def feishu_sign(timestamp: int, secret: str) -> str:
    """Feishu: HMAC-SHA256 keyed with "<timestamp>\\n<secret>" over an empty message, base64."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk: HMAC-SHA256 keyed with the secret over "<timestamp>\\n<secret>", base64 (url-encode it yourself)."""
    msg = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()


def webhook_signature(timestamp: int, body: bytes, secret: str) -> str:
    """Generic webhooks: "sha256=" + hex HMAC-SHA256 keyed with the secret over "<timestamp>.<body>"."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _md_text(text: str) -> str:
    """Feed text made inert in chat markdown: no links, tags or headings can be smuggled in."""
    return (text.replace("[", "［").replace("]", "］").replace("<", "‹").replace(">", "›")
            .replace("`", "'").replace("#", "＃"))


def markdown_digest(d: Digest, heading: str, gap: str) -> str:
    """The edition as chat Markdown: the heading (a format such as "### {}"), the abstract, the numbered
    headlines under their label (`gap` between the label and the list), and the link."""
    parts = [heading.format(_md_text(d.heading))]
    if d.abstract:
        parts.append(_md_text(d.abstract_text))
    if d.headlines:
        items = "\n".join(f"{i}. {_md_text(h)}" for i, h in enumerate(d.headlines, 1))
        parts.append(f"**{d.labels['headlines']}**{gap}{items}" + (f"{gap}{d.more_line}" if d.more_line else ""))
    parts.append(f"[{d.labels['read_more']}]({d.link})")
    return "\n\n".join(parts)


class ChatPublisher:
    """The shared part of every chat target: config, secrets, fitting, sending and retrying."""

    kind = "chat"
    resend_on_change = False
    limit = 4000
    measure: Measure = staticmethod(measure_chars)
    alert_limit: int | None = None  # a different limit for the plain-text alert message

    def __init__(self, conf: _ChatTarget, cfg: Config) -> None:
        self.conf = conf
        self.name: str = conf.name
        self.language: str = conf.language or cfg.edition.languages[0]
        self.link_template: str = conf.link or (cfg.site_url() + "/{date}/{stem}.html")
        self.max = min(conf.max_length or self.limit, self.limit)
        self.timeout = conf.timeout
        self.retries = conf.retries
        self._secrets: list[str] = []
        self.url = self._target_url()

    # -- secrets ------------------------------------------------------------------
    def _env(self, var: str, what: str) -> str:
        value = os.environ.get(var, "").strip()
        if not value:
            raise NotConfigured(f"{self.kind} target '{self.name}' skipped: env var {var} is not set; "
                                f"export {var} with {what}, or remove the target")
        self._secret(value)
        return value

    def _secret(self, value: str) -> None:
        self._secrets.append(value)
        if value.startswith(("http://", "https://")):
            redact.register_url(value)  # the URL, and the tokens in its path and query on their own
        else:
            redact.register(value)

    def _target_url(self) -> str:
        if self.conf.url_env:
            url = self._env(self.conf.url_env, "the webhook URL")
            if not url.startswith(("http://", "https://")):
                raise NotConfigured(f"{self.kind} target '{self.name}' skipped: env var {self.conf.url_env} "
                                    "does not hold an http(s) URL; put the webhook URL in it")
            return url
        self._secret(self.conf.url)  # a webhook URL usually carries its token
        return self.conf.url

    @property
    def where(self) -> str:
        """The host we talk to: safe to print (the URL's path and query may hold a token)."""
        return urlsplit(self.url).netloc

    def scrub(self, text: str) -> str:
        text = redact.scrub(text)
        for secret in self._secrets:  # this target's own, even those too short for the shared registry
            if secret:
                text = text.replace(secret, redact.MASK)
        return text

    # -- messages -----------------------------------------------------------------
    def link(self, edition: Edition) -> str:
        return self.link_template.format(date=edition.day.isoformat(), stem=edition.stem(self.language),
                                         lang=self.language)

    def edition_payload(self, d: Digest) -> dict[str, Any]:
        raise NotImplementedError

    def edition_text(self, d: Digest) -> str:
        """What the platform's limit is measured on (by default: the whole JSON body)."""
        return _json(self.edition_payload(d))

    def alert_payload(self, subject: str, lines: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def alert_text(self, subject: str, lines: list[str]) -> str:
        return _json(self.alert_payload(subject, lines))

    @staticmethod
    def plain_alert(subject: str, lines: list[str]) -> str:
        return subject + "".join(f"\n• {line}" for line in lines)

    def deliver(self, edition: Edition) -> str:
        brief = edition.brief(self.language)
        digest = fit(digest_of(brief, self.link(edition)), self.edition_text, type(self).measure, self.max)
        return self.post(self.edition_payload(digest), idempotency_key(edition, self.name, self.language))

    def alert(self, subject: str, lines: list[str]) -> str:
        limit = min(self.alert_limit or self.max, self.max)
        kept = fit_lines(subject, lines, self.alert_text, type(self).measure, limit, "en")
        return self.post(self.alert_payload(subject, kept))

    # -- sending ------------------------------------------------------------------
    def prepare(self, payload: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        """The URL, headers and body of the request; platforms that sign override this."""
        return self.url, {}, _json(payload).encode()

    def keyed(self, payload: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The payload and headers that carry the message's idempotency key, where the platform takes one
        (the generic webhook: an ``Idempotency-Key`` header and an ``id`` field); others send it nowhere."""
        return payload, {}

    def check(self, response: httpx.Response) -> str:
        """Raise PublishError unless the platform accepted the message; return a detail for the log."""
        if not response.is_success:
            raise PublishError(f"HTTP {response.status_code}: {response.text[:200]}")
        return f"HTTP {response.status_code}"

    def post(self, payload: dict[str, Any], key: str = "") -> str:
        """Send once, retrying only what cannot have arrived: connection failures before the request went
        out, and answers that say to try again. A timeout or a broken connection after the request was
        sent raises Interrupted: the platform may have the message, and a second copy is worse."""
        tries = Retries(self.retries, BACKOFF)
        answer: httpx.Headers | None
        extra: dict[str, str] = {}
        if key:
            payload, extra = self.keyed(payload, key)
        while True:
            url, headers, body = self.prepare(payload)
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": f"dailybrief/{__version__}",
                       **extra, **headers}
            retry, answer = "", None  # why to try again; the headers of an answer that said so
            try:
                with httpx.Client(timeout=self.timeout, trust_env=True) as client:
                    response = client.post(url, content=body, headers=headers)
                if response.status_code not in RETRY_STATUSES:
                    return self.check(response)
                retry, answer = f"HTTP {response.status_code}", response.headers
            except PublishError as exc:
                raise PublishError(self.scrub(f"{self.kind} target '{self.name}' at {self.where} refused the "
                                              f"message: {exc}")) from None
            except (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError) as exc:
                retry = f"cannot connect ({type(exc).__name__}: {exc or 'no answer'})"  # nothing was sent
            except (httpx.TimeoutException, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
                cause = f"no answer within {self.timeout:g} s" if isinstance(exc, httpx.TimeoutException) else \
                    f"the connection broke after sending ({type(exc).__name__})"
                raise Interrupted(self.scrub(
                    f"{self.kind} target '{self.name}' at {self.where}: the message was sent but {cause}; it may "
                    "have arrived, so it is not sent again. Check the channel, then resend with "
                    "`dailybrief publish --force` if it did not")) from None
            except httpx.HTTPError as exc:
                retry = f"cannot connect ({type(exc).__name__}: {exc})"
            wait = tries.again(answer)
            if wait is None:
                if tries.asked is not None:
                    retry += f" asking us to wait {tries.asked:.0f} s, more than the {tries.longest:.0f} s we wait"
                raise PublishError(self.scrub(
                    f"{self.kind} target '{self.name}' at {self.where}: {retry} after {tries.tries} attempt(s); "
                    "it is tried again on the next run"))
            log.info("%s target %s: %s; retrying in %.1f s", self.kind, self.name, self.scrub(retry), wait)
            time.sleep(wait)


def _json_check(response: httpx.Response, code_keys: tuple[str, ...], msg_keys: tuple[str, ...]) -> dict[str, Any]:
    if not response.is_success:
        raise PublishError(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        data = response.json()
    except ValueError:
        raise PublishError(f"the answer is not JSON: {response.text[:200]}") from None
    if not isinstance(data, dict):
        raise PublishError(f"the answer is not a JSON object: {response.text[:200]}")
    code = next((data[k] for k in code_keys if k in data), None)
    if code not in (0, None):
        msg = next((data[k] for k in msg_keys if k in data), "")
        raise PublishError(f"error code {code}: {str(msg)[:200]}")
    return data


class FeishuPublisher(ChatPublisher):
    kind = "feishu"
    limit = 19_500  # the request body may not exceed 20 KB; the signature adds ~70 bytes
    measure = staticmethod(measure_bytes)

    def __init__(self, conf: FeishuTarget, cfg: Config) -> None:
        super().__init__(conf, cfg)
        self.secret = self._env(conf.secret_env, "the bot's signing secret") if conf.secret_env else ""

    def edition_payload(self, d: Digest) -> dict[str, Any]:
        rows: list[list[dict[str, str]]] = []
        if d.abstract:
            rows.append([{"tag": "text", "text": d.abstract_text}])
        if d.headlines:
            rows.append([{"tag": "text", "text": d.labels["headlines"]}])
            rows.extend([[{"tag": "text", "text": f"{i}. {h}"}] for i, h in enumerate(d.headlines, 1)])
            if d.more_line:
                rows.append([{"tag": "text", "text": d.more_line}])
        rows.append([{"tag": "a", "text": d.labels["read_more"], "href": d.link}])
        locale = "zh_cn" if d.language == "zh" else "en_us"
        return {"msg_type": "post", "content": {"post": {locale: {"title": d.heading, "content": rows}}}}

    def alert_payload(self, subject: str, lines: list[str]) -> dict[str, Any]:
        return {"msg_type": "text", "content": {"text": self.plain_alert(subject, lines)}}

    def prepare(self, payload: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        if self.secret:
            ts = int(time.time())
            payload = {"timestamp": str(ts), "sign": feishu_sign(ts, self.secret), **payload}
        return self.url, {}, _json(payload).encode()

    def check(self, response: httpx.Response) -> str:
        data = _json_check(response, ("code", "StatusCode"), ("msg", "StatusMessage"))
        return f"code {data.get('code', data.get('StatusCode', 0))}"


class DingtalkPublisher(ChatPublisher):
    kind = "dingtalk"
    limit = 20_000
    measure = staticmethod(measure_bytes)

    def __init__(self, conf: DingtalkTarget, cfg: Config) -> None:
        super().__init__(conf, cfg)
        self.secret = self._env(conf.secret_env, "the robot's SEC… signing secret") if conf.secret_env else ""

    def edition_payload(self, d: Digest) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"title": d.heading, "text": markdown_digest(d, "### {}", "\n\n")}}

    def alert_payload(self, subject: str, lines: list[str]) -> dict[str, Any]:
        return {"msgtype": "text", "text": {"content": self.plain_alert(subject, lines)}}

    def prepare(self, payload: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        url = self.url
        if self.secret:
            ts = int(time.time() * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={quote_plus(dingtalk_sign(ts, self.secret))}"
        return url, {}, _json(payload).encode()

    def check(self, response: httpx.Response) -> str:
        data = _json_check(response, ("errcode",), ("errmsg",))
        return f"errcode {data.get('errcode', 0)}"


class WecomPublisher(ChatPublisher):
    kind = "wecom"
    limit = 4096  # bytes of markdown content
    alert_limit = 2048  # bytes of text content
    measure = staticmethod(measure_bytes)

    def edition_payload(self, d: Digest) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": markdown_digest(d, "**{}**", "\n")}}

    def edition_text(self, d: Digest) -> str:
        return str(self.edition_payload(d)["markdown"]["content"])

    def alert_payload(self, subject: str, lines: list[str]) -> dict[str, Any]:
        return {"msgtype": "text", "text": {"content": self.plain_alert(subject, lines)}}

    def alert_text(self, subject: str, lines: list[str]) -> str:
        return self.plain_alert(subject, lines)

    def check(self, response: httpx.Response) -> str:
        data = _json_check(response, ("errcode",), ("errmsg",))
        return f"errcode {data.get('errcode', 0)}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackPublisher(ChatPublisher):
    kind = "slack"
    limit = 4000  # characters of text: Slack's advice for one message

    def text(self, d: Digest) -> str:
        parts = [f"*{_slack_escape(d.heading)}*"]
        if d.abstract:
            parts.append(_slack_escape(d.abstract_text))
        if d.headlines:
            items = [f"{i}. {_slack_escape(h)}" for i, h in enumerate(d.headlines, 1)]
            if d.more_line:
                items.append(_slack_escape(d.more_line))
            parts.append(f"*{d.labels['headlines']}*\n" + "\n".join(items))
        parts.append(f"<{d.link}|{d.labels['read_more']}>")
        return "\n\n".join(parts)

    def edition_payload(self, d: Digest) -> dict[str, Any]:
        return {"text": self.text(d), "unfurl_links": False, "unfurl_media": False}

    def edition_text(self, d: Digest) -> str:
        return self.text(d)

    def alert_payload(self, subject: str, lines: list[str]) -> dict[str, Any]:
        return {"text": self.alert_text(subject, lines)}

    def alert_text(self, subject: str, lines: list[str]) -> str:
        return _slack_escape(self.plain_alert(subject, lines))

    def check(self, response: httpx.Response) -> str:
        if not response.is_success or response.text.strip() != "ok":
            raise PublishError(f"HTTP {response.status_code}: {response.text[:200]}")
        return "ok"


class TelegramPublisher(ChatPublisher):
    conf: TelegramTarget
    kind = "telegram"
    limit = 4096  # characters (UTF-16 units) of text
    measure = staticmethod(measure_utf16)

    def _target_url(self) -> str:
        token = self._env(self.conf.token_env, "the bot token from @BotFather")
        return f"{self.conf.api_url}/bot{token}/sendMessage"

    def edition_payload(self, d: Digest) -> dict[str, Any]:
        return {"chat_id": self.conf.chat_id, "text": d.plain(), "link_preview_options": {"is_disabled": True}}

    def edition_text(self, d: Digest) -> str:
        return d.plain()

    def alert_payload(self, subject: str, lines: list[str]) -> dict[str, Any]:
        return {"chat_id": self.conf.chat_id, "text": self.plain_alert(subject, lines)}

    def alert_text(self, subject: str, lines: list[str]) -> str:
        return self.plain_alert(subject, lines)

    def check(self, response: httpx.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            raise PublishError(f"HTTP {response.status_code}: {response.text[:200]}") from None
        if not response.is_success or not data.get("ok"):
            raise PublishError(f"error {data.get('error_code', response.status_code)}: {str(data.get('description'))[:200]}")
        return f"message {data.get('result', {}).get('message_id', '?')}"


class WebhookPublisher(ChatPublisher):
    kind = "webhook"
    limit = 1_000_000  # no platform cap: max_length (default 4000 characters of text) rules

    def __init__(self, conf: WebhookTarget, cfg: Config) -> None:
        super().__init__(conf, cfg)
        self.max = conf.max_length or 4000
        self.secret = self._env(conf.secret_env, "the shared signing secret") if conf.secret_env else ""

    def edition_payload(self, d: Digest) -> dict[str, Any]:
        return {"type": "edition", "edition": d.edition.isoformat(), "language": d.language, "title": d.title,
                "date": d.date_label, "abstract": d.abstract, "headlines": d.headlines,
                "hidden_headlines": d.hidden_headlines, "link": d.link, "text": d.plain()}

    def edition_text(self, d: Digest) -> str:
        return d.plain()

    def alert_payload(self, subject: str, lines: list[str]) -> dict[str, Any]:
        return {"type": "alert", "subject": subject, "problems": lines, "text": self.plain_alert(subject, lines)}

    def alert_text(self, subject: str, lines: list[str]) -> str:
        return self.plain_alert(subject, lines)

    def keyed(self, payload: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, str]]:
        return {"id": key, **payload}, {"Idempotency-Key": key}

    def prepare(self, payload: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        body = _json(payload).encode()
        headers: dict[str, str] = {}
        if self.secret:
            ts = int(time.time())
            headers = {"X-Dailybrief-Timestamp": str(ts), "X-Dailybrief-Signature": webhook_signature(ts, body, self.secret)}
        return self.url, headers, body


for _cls in (FeishuPublisher, DingtalkPublisher, WecomPublisher, SlackPublisher, TelegramPublisher, WebhookPublisher):
    register_publisher(_cls.kind, _cls)
