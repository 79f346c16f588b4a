"""The email target: the edition by SMTP, over STARTTLS or SSL, with its PDF attached.

Each message is ``multipart/mixed``: a ``multipart/alternative`` of the
plain-text part (the edition's Markdown) and the HTML body (the edition's
self-contained page), then the PDF as an attachment. The SMTP password is
read from the env var named by ``password_env`` and never printed.
"""

from __future__ import annotations

import base64
import logging
import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from ..errors import Interrupted, NotConfigured, PublishError
from ..words import format_date
from .base import Edition, idempotency_key, register_publisher

if TYPE_CHECKING:
    from ..config import Config, EmailTarget

__all__ = ["EmailPublisher"]

log = logging.getLogger(__name__)


class _Tracked:
    """Notes when the message's final "." has gone out: from then on the server may have accepted it, and a
    lost answer means "maybe delivered", not "failed"."""

    data_sent = False  # the whole message, final "." included, went out
    accepted = False  # the server said 250 to it
    _in_data = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self._in_data = True
        try:
            code, answer = super().data(msg)  # type: ignore[misc]
        finally:
            self._in_data = False
        self.accepted = code == 250
        return code, answer

    def send(self, s: Any) -> None:
        super().send(s)  # type: ignore[misc]
        if self._in_data and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.data_sent = True  # sendall returned: every byte is with the kernel, on its way


class _SMTP(_Tracked, smtplib.SMTP):
    pass


class _SMTPSSL(_Tracked, smtplib.SMTP_SSL):
    pass


class EmailPublisher:
    kind = "email"
    resend_on_change = False

    def __init__(self, conf: EmailTarget, cfg: Config) -> None:
        self.conf = conf
        self.name: str = conf.name
        self.language: str = conf.language or cfg.edition.languages[0]
        self.password = ""
        if conf.username:
            self.password = os.environ.get(conf.password_env, "")
            if not self.password:
                raise NotConfigured(f"email target '{self.name}' skipped: env var {conf.password_env} is not set; "
                                    f"export {conf.password_env} with the SMTP password of {conf.username}, "
                                    "or remove the target")

    @property
    def where(self) -> str:
        return f"{self.conf.host}:{self.conf.smtp_port}"

    def _domain(self) -> str:
        return self.conf.sender.rsplit("@", 1)[-1].strip("> ") or "dailybrief.local"

    def _envelope(self, subject: str, key: str = "") -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.conf.sender
        msg["To"] = ", ".join(self.conf.to)
        if self.conf.bcc:
            msg["Bcc"] = ", ".join(self.conf.bcc)  # smtplib sends to these and leaves the header out
        msg["Date"] = formatdate(localtime=True)
        # An edition's Message-ID is the same on every try, so a resent copy is recognisably the same message.
        msg["Message-ID"] = f"<dailybrief.{key}@{self._domain()}>" if key else make_msgid("dailybrief",
                                                                                            domain=self._domain())
        msg["Auto-Submitted"] = "auto-generated"
        return msg

    def message(self, edition: Edition) -> EmailMessage:
        """The edition as one message: plain text and HTML alternatives, and the PDF attached."""
        brief = edition.brief(self.language)
        lang = brief.language
        subject = self.conf.subject.format(title=" ".join(brief.title.split()), date=format_date(edition.day, lang),
                                           iso=edition.day.isoformat())
        md, html, pdf = (edition.file(lang, s) for s in (".md", ".html", ".pdf"))
        if md is None or html is None:
            raise PublishError(f"the {edition.day} '{lang}' edition lacks its Markdown or HTML file; "
                               "add md and html to output.formats and run again")
        if pdf is None:
            raise PublishError(f"the {edition.day} '{lang}' edition has no PDF to attach; "
                               "add pdf to output.formats (and check the render stage's errors), then run again")
        msg = self._envelope(subject, idempotency_key(edition, self.name, lang))
        msg.set_content(md.read_text("utf-8"), subtype="plain", charset="utf-8")
        msg.add_alternative(html.read_text("utf-8"), subtype="html", charset="utf-8")
        msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf",
                           filename=f"{edition.stem(lang)}-{edition.day.isoformat()}.pdf")
        msg["Content-Language"] = "zh-CN" if lang == "zh" else lang  # after set_content, which clears Content-*
        return msg

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.conf.ca_file or None)
        return ctx

    def _login(self, smtp: smtplib.SMTP) -> None:
        """Log in. smtplib only sends ASCII credentials; UTF-8 ones go as AUTH PLAIN (RFC 4616), done here."""
        user, password = self.conf.username, self.password
        if (user + password).isascii():
            smtp.login(user, password)
            return
        if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
            raise PublishError(f"email target '{self.name}': the username or password has non-ASCII characters, which "
                               f"only AUTH PLAIN carries, and {self.where} does not offer it")
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
        code, answer = smtp.docmd("AUTH", "PLAIN " + token)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, answer)

    def send(self, msg: EmailMessage) -> None:
        conf = self.conf
        try:
            ctx = self._context() if conf.security != "none" else None
        except (OSError, ssl.SSLError) as exc:
            raise PublishError(f"email target '{self.name}': cannot read ca_file {conf.ca_file!r} ({exc}); "
                               "point it at a PEM file of CA certificates") from exc
        smtp: _SMTP | _SMTPSSL | None = None
        try:
            if conf.security == "ssl":
                smtp = _SMTPSSL(conf.host, conf.smtp_port, timeout=conf.timeout, context=ctx)
            else:
                smtp = _SMTP(conf.host, conf.smtp_port, timeout=conf.timeout)
            with smtp:
                smtp.ehlo()
                if conf.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise PublishError(f"email target '{self.name}': {self.where} does not offer STARTTLS; "
                                           "use security = 'ssl' (port 465) or another server")
                    smtp.starttls(context=ctx)
                    smtp.ehlo()
                if conf.username:
                    self._login(smtp)
                refused = smtp.send_message(msg)
        except PublishError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise PublishError(f"email target '{self.name}': {self.where} refused the login of {conf.username} "
                               f"({exc.smtp_code}); check the username and the password in ${conf.password_env}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise PublishError(f"email target '{self.name}': every recipient was refused "
                               f"({', '.join(exc.recipients)}); check the 'to' addresses") from None
        except ssl.SSLCertVerificationError as exc:
            raise PublishError(f"email target '{self.name}': the certificate of {self.where} cannot be verified "
                               f"({exc.verify_message}); fix the server's certificate, or set ca_file to its CA") from None
        except (ssl.SSLError, smtplib.SMTPException, OSError) as exc:
            if smtp is not None and smtp.accepted:  # the QUIT after a delivered message went wrong: still delivered
                log.warning("email target %s: the message was accepted, then closing failed: %s", self.name, exc)
                return
            if smtp is not None and smtp.data_sent and not isinstance(exc, smtplib.SMTPResponseException):
                raise Interrupted(f"email target '{self.name}': the message was sent to {self.where} but its answer "
                                  f"never came ({_cause(exc)}); it may have arrived, so it is not sent again. Check "
                                  "a mailbox, then resend with `dailybrief publish --force` if it did not") from None
            cause = _cause(exc)
            raise PublishError(f"email target '{self.name}': sending through {self.where} ({conf.security}) failed: "
                               f"{cause}; it is tried again on the next run") from None
        if refused:
            log.warning("email target %s: some recipients were refused: %s", self.name, ", ".join(refused))

    def deliver(self, edition: Edition) -> str:
        msg = self.message(edition)
        self.send(msg)
        return f"{msg['Message-ID']} to {len(self.conf.to) + len(self.conf.bcc)} recipient(s)"

    def alert(self, subject: str, lines: list[str]) -> str:
        msg = self._envelope(subject)
        msg.set_content(subject + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n", charset="utf-8")
        self.send(msg)
        return str(msg["Message-ID"])


def _cause(exc: BaseException) -> str:
    timeout = isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in str(exc)
    return "no answer in time" if timeout else f"{type(exc).__name__}: {exc}"


register_publisher("email", EmailPublisher)
