"""Email alerts over SMTP: plain, STARTTLS or implicit TLS, with optional login.

One alert is one multipart/alternative email (plain text + HTML). Its
Message-ID is derived from the alert's delivery key (unique across archives),
so a resend after a crash between "sent" and "recorded" is recognisably the
same message (mail clients and archives dedupe on it); X-Newsmon-Alert-Id
carries the archive's alert id for filters.

A server that refuses some recipients and accepts the others has delivered:
retrying would send the others a duplicate. send() returns a note naming the
refused ones, which the outbox records on the sent alert.

The channel keeps its SMTP connection for the next send if that comes soon
(a batch of alerts goes out over one connection) and checks it with NOOP
before reuse; close() ends it.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import socket
import ssl
import time
from datetime import timezone
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, parseaddr
from html import escape

from monitor.channels import health_notice
from monitor.channels.base import (
    AlertMessage,
    Channel,
    DigestEntry,
    DigestMessage,
    HealthMessage,
    Message,
    printable_line,
    tls_context,
)
from monitor.config import EmailChannelConfig
from monitor.errors import DeliveryError

log = logging.getLogger(__name__)

# 7bit: bodies with Chinese text go out base64/quoted-printable, so they
# survive servers and relays that do not speak 8BITMIME.
_POLICY = email.policy.default.clone(cte_type="7bit")
# Servers drop idle clients after a few minutes; past this we reconnect
# rather than risk a NOOP hanging on a half-open connection.
REUSE_IDLE_SECONDS = 30.0


def one_line(text: str) -> str:
    """Scraped titles can hold newlines, which headers must not."""
    return " ".join(text.split())


def _date_text(message: AlertMessage) -> str:
    published = message.published_utc
    return published.strftime("%Y-%m-%d %H:%M UTC") if published else "unknown"


def _envelope(message: Message, config: EmailChannelConfig, subject: str) -> EmailMessage:
    """The headers every email shares: the Message-ID from the delivery key, the alert id."""
    sender = parseaddr(config.from_)[1] or config.from_
    domain = sender.rpartition("@")[2] or "newsmon.invalid"
    email_message = EmailMessage(policy=_POLICY)
    email_message["Subject"] = subject
    email_message["From"] = config.from_
    email_message["To"] = ", ".join(config.to)
    email_message["Date"] = formatdate(usegmt=True)
    email_message["Message-ID"] = f"<newsmon-{message.delivery_key}@{domain}>"
    email_message["X-Newsmon-Alert-Id"] = str(message.alert_id)
    return email_message


def compose(message: Message, config: EmailChannelConfig) -> EmailMessage:
    """The email for one alert; a pure function of its inputs except the Date header. The channel's
    templates (subject_template, text_template, html_template), where set, replace those parts."""
    email_message = _compose_builtin(message, config)
    from monitor.channels.templates import source_for

    if any(source_for(config, f, message) for f in ("subject_template", "text_template", "html_template")):
        _apply_templates(email_message, message, config)
    return email_message


def _apply_templates(email_message: EmailMessage, message: Message, config: EmailChannelConfig) -> None:
    from monitor.channels import templates

    subject = templates.render_field(config, "subject_template", message)
    if subject is not None:
        del email_message["Subject"]
        email_message["Subject"] = one_line(subject)
    text = templates.render_field(config, "text_template", message)
    html = templates.render_field(config, "html_template", message, html=True)
    for part in email_message.iter_parts():
        if text is not None and part.get_content_type() == "text/plain":
            part.set_content(text)
        elif html is not None and part.get_content_type() == "text/html":
            part.set_content(html, subtype="html")


def _compose_builtin(message: Message, config: EmailChannelConfig) -> EmailMessage:
    if isinstance(message, HealthMessage):
        return compose_health(message, config)
    if isinstance(message, DigestMessage):
        return compose_digest(message, config)
    title = one_line(message.title) or "(untitled)"
    spreading = f"now in {len(message.spread.outlets)} outlets: " if message.spread else ""
    email_message = _envelope(message, config,
                              one_line(f"{config.subject_prefix} {message.rule}: {spreading}{title}"))
    email_message["X-Newsmon-Rule"] = one_line(message.rule)
    # RFC 3834: tells vacation responders not to answer an automatic message.
    email_message["Auto-Submitted"] = "auto-generated"

    email_message.set_content(_plain_body(message, title))
    email_message.add_alternative(_html_body(message, title), subtype="html")
    if message.language:
        # Last: set_content and add_alternative move or drop Content-* headers.
        email_message["Content-Language"] = one_line(message.language)
    return email_message


def compose_health(message: HealthMessage, config: EmailChannelConfig) -> EmailMessage:
    """An operator alert: the subject names the source and its state."""
    email_message = _envelope(message, config, health_notice.subject(message, config.subject_prefix))
    email_message["X-Newsmon-Health"] = one_line(f"{message.source} {message.state}")
    email_message["Auto-Submitted"] = "auto-generated"
    email_message.set_content(health_notice.plain_body(message))
    email_message.add_alternative(health_notice.html_body(message), subtype="html")
    return email_message


def compose_digest(message: DigestMessage, config: EmailChannelConfig) -> EmailMessage:
    """One email for a digest: the subject names the rule and the count; one entry a story."""
    email_message = _envelope(message, config, digest_subject(message, config.subject_prefix))
    email_message["X-Newsmon-Rule"] = one_line(message.rule)
    email_message["X-Newsmon-Digest"] = f"{len(message.entries)} {_period_text(message)}"
    email_message["Auto-Submitted"] = "auto-generated"
    email_message.set_content(digest_plain_body(message))
    email_message.add_alternative(digest_html_body(message), subtype="html")
    return email_message


def digest_subject(message: DigestMessage, prefix: str) -> str:
    count = len(message.entries)
    return one_line(f"{prefix} {message.rule}: {count} {'story' if count == 1 else 'stories'} "
                    f"({_period_text(message)})")


def _local(moment, zone: str):
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone))


def _period_text(message: DigestMessage) -> str:
    start, end = _local(message.period_start, message.timezone), _local(message.period_end, message.timezone)
    end_text = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end_text} {message.timezone}"


def _entry_date(entry: DigestEntry) -> str:
    if entry.published_at is None:
        return "unknown"
    return entry.published_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _marked_plain(entry: DigestEntry) -> str:
    """The snippet with each matched term between asterisks."""
    return _marked(entry, lambda s: f"*{s}*", lambda s: s)


def _marked_html(entry: DigestEntry | AlertMessage) -> str:
    return _marked(entry, lambda s: f"<mark>{escape(s)}</mark>", escape)


def _marked(entry: DigestEntry | AlertMessage, hit, plain) -> str:
    text, out, at = entry.snippet.strip(), [], 0
    offset = len(entry.snippet) - len(entry.snippet.lstrip())
    for start, end in entry.highlights:
        start, end = start - offset, end - offset
        if start < at or end > len(text) or start >= end:
            continue
        out += [plain(text[at:start]), hit(text[start:end])]
        at = end
    out.append(plain(text[at:]))
    return "".join(out)


def _entry_outlets(entry: DigestEntry) -> str:
    text = ", ".join(entry.outlets or (entry.source,))
    if entry.spread is not None or entry.grown:
        text = f"now in {len(entry.outlets)} outlets: {text}"
    return text


def _spread_lines(entry: DigestEntry) -> list[str]:
    if entry.spread is None:
        return []
    lines = [f"   Reached {entry.spread.threshold} outlets:"]
    for outlet in entry.spread.outlets:
        after = "first" if outlet.after_seconds is None else f"+{_duration(outlet.after_seconds)}"
        lines.append(f"     {outlet.source} ({after})")
    return lines


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m" if minutes else f"{int(seconds)}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24}h"


def digest_plain_body(message: DigestMessage) -> str:
    lines = [f"{message.rule}: {len(message.entries)} matching "
             f"{'story' if len(message.entries) == 1 else 'stories'}, {_period_text(message)}", ""]
    for n, entry in enumerate(message.entries, 1):
        lines += [f"{n}. {one_line(entry.title) or '(untitled)'}",
                  f"   {_entry_date(entry)} · {_entry_outlets(entry)}",
                  f"   {entry.url}"]
        lines += _spread_lines(entry)
        if entry.snippet.strip():
            lines.append(f"   {_marked_plain(entry)}")
        lines.append("")
    lines += ["-- ", f"newsmon digest of rule {message.rule} ({len(message.alert_ids)} alerts)"]
    return "\n".join(lines) + "\n"


def digest_html_body(message: DigestMessage) -> str:
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>',
             f"<h2>{escape(message.rule)}: {len(message.entries)} "
             f"{'story' if len(message.entries) == 1 else 'stories'}</h2>",
             f"<p>{escape(_period_text(message))}</p><ol>"]
    for entry in message.entries:
        lang = f' lang="{escape(entry.language)}"' if entry.language else ""
        parts.append(f'<li{lang}><p><a href="{escape(entry.url)}">{escape(one_line(entry.title) or "(untitled)")}'
                     f"</a><br>{escape(_entry_date(entry))} · {escape(_entry_outlets(entry))}</p>")
        if entry.spread is not None:
            items = "".join(
                f"<li>{escape(o.source)} ({'first' if o.after_seconds is None else '+' + _duration(o.after_seconds)})"
                "</li>" for o in entry.spread.outlets)
            parts.append(f"<p>Reached {entry.spread.threshold} outlets:</p><ul>{items}</ul>")
        if entry.snippet.strip():
            parts.append(f"<blockquote>{_marked_html(entry)}</blockquote>")
        parts.append("</li>")
    parts.append(f'</ol><p style="color:#888">newsmon digest of rule {escape(message.rule)}</p></body></html>')
    return "\n".join(parts) + "\n"


def spread_plain_lines(message: AlertMessage) -> list[str]:
    """An on_spread alert: the outlets carrying the story and how soon after the first each did."""
    if message.spread is None:
        return []
    lines = ["", f"Now in {len(message.spread.outlets)} outlets (on_spread {message.spread.threshold}):"]
    for outlet in message.spread.outlets:
        after = "first" if outlet.after_seconds is None else f"+{_duration(outlet.after_seconds)}"
        lines.append(f"  {outlet.source} ({after}) {outlet.url}")
    return lines


def _plain_body(message: AlertMessage, title: str) -> str:
    lines = [
        title,
        "",
        f"Source:  {message.source}",
        f"Date:    {_date_text(message)}",
        f"Rule:    {message.rule}",
        f"Link:    {message.url}",
    ]
    if message.snippet:
        lines += ["", message.snippet.strip()]
    if message.also_in:
        lines += ["", "Also in: " + ", ".join(message.also_in)]
    lines += spread_plain_lines(message)
    lines += ["", "-- ", f"newsmon alert {message.alert_id}"]
    return "\n".join(lines) + "\n"


def _html_body(message: AlertMessage, title: str) -> str:
    lang = f' lang="{escape(message.language)}"' if message.language else ""
    parts = [
        f'<!DOCTYPE html><html{lang}><head><meta charset="utf-8"></head><body>',
        f'<h2><a href="{escape(message.url)}">{escape(title)}</a></h2>',
        f"<p>{escape(message.source)} · {escape(_date_text(message))} · rule <b>{escape(message.rule)}</b></p>",
    ]
    if message.snippet:
        parts.append(f"<blockquote>{_marked_html(message)}</blockquote>")
    if message.also_in:
        items = "".join(f"<li>{escape(outlet)}</li>" for outlet in message.also_in)
        parts.append(f"<p>Also in:</p><ul>{items}</ul>")
    if message.spread is not None:
        items = "".join(f"<li>{escape(line.strip())}</li>" for line in spread_plain_lines(message)[2:])
        parts.append(f"<p>Now in {len(message.spread.outlets)} outlets:</p><ul>{items}</ul>")
    parts.append(f'<p style="color:#888">newsmon alert {message.alert_id}</p></body></html>')
    return "\n".join(parts) + "\n"


class EmailChannel(Channel):
    def __init__(self, name: str, config: EmailChannelConfig, ssl_context: ssl.SSLContext | None = None):
        """`ssl_context`, when given, replaces the one built from the config's `ca_file`."""
        super().__init__(name)
        self.config = config
        self.ssl_context = ssl_context or tls_context(config.ca_file)
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def deliver(self, message: Message) -> str | None:
        email_message = compose(message, self.config)
        sender = parseaddr(self.config.from_)[1] or self.config.from_
        recipients = [address for _name, address in getaddresses(self.config.to) if address]
        try:
            smtp = self._connection()
            refused = smtp.send_message(email_message, from_addr=sender, to_addrs=recipients)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()  # the session is in an unknown state: start clean next time
            text, permanent = self._explain(exc)
            raise DeliveryError(self.name, text, permanent=permanent) from None
        self._last_used = time.monotonic()
        if not refused:
            return None
        # Delivered to the others; retrying would send them a duplicate.
        note = (f"delivered, but {self.where} refused {len(refused)} of {len(recipients)} recipients: "
                f"{_codes(refused)}; check `to` of channel {self.name!r} in newsmon.yaml")
        log.warning("channel %r, alert %s: %s", self.name, message.alert_id, note)
        return note

    def release(self) -> None:
        # QUIT only on a recently used connection: an old one may be half-open and hang.
        if self._smtp is not None and time.monotonic() - self._last_used < REUSE_IDLE_SECONDS:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._drop()

    # --- connection ----------------------------------------------------------

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            if time.monotonic() - self._last_used < REUSE_IDLE_SECONDS and self._alive(self._smtp):
                return self._smtp
            self._drop()  # no QUIT: the server has likely gone already
        self._smtp = self._connect()
        return self._smtp

    @staticmethod
    def _alive(smtp: smtplib.SMTP) -> bool:
        try:
            return smtp.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                                  context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            if config.security == "starttls":
                smtp.starttls(context=self.ssl_context)
            if config.username:
                password = config.password.get_secret_value() if config.password else ""
                smtp.login(config.username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
            self._smtp = None

    # --- errors --------------------------------------------------------------

    def _explain(self, exc: BaseException) -> tuple[str, bool]:
        """(message, permanent) for a failed send. Never includes the password."""
        where, config = self.where, self.config
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return (f"{where} refused the login as {config.username!r} ({_reply(exc)}); check `username` "
                    "and the environment variable that `password` refers to", _is_5xx(exc.smtp_code))
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _text in exc.recipients.values()]
            return (f"{where} refused every recipient: {_codes(exc.recipients)}; check `to`",
                    all(500 <= code < 600 for code in codes))
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return (f"{where} refused the sender {exc.sender!r} ({_reply(exc)}); check `from`",
                    _is_5xx(exc.smtp_code))
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return (f"{where}: {exc} Change `security` (none | starttls | ssl) or `username` "
                    "in newsmon.yaml to match the server", True)
        if isinstance(exc, smtplib.SMTPConnectError):
            # A refusal in the greeting is usually load or rate limiting: try again later.
            return f"{where} refused service when connecting ({_reply(exc)})", False
        if isinstance(exc, smtplib.SMTPResponseException):
            return f"{where} answered {_reply(exc)}", _is_5xx(exc.smtp_code)
        if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, TimeoutError):
            exc = exc.__context__  # smtplib reports a read timeout as a disconnection
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return f"{where} closed the connection unexpectedly ({exc or 'no reason given'})", False
        if isinstance(exc, ssl.SSLCertVerificationError):
            return (f"the TLS certificate of {where} is not trusted ({exc.verify_message}); "
                    "check `host` against the certificate's name, or set `ca_file` to the PEM certificate "
                    "of the CA that signed it", False)
        if isinstance(exc, ssl.SSLError):
            return (f"TLS with {where} failed ({exc.reason or exc}); check `security`: ssl is "
                    "implicit TLS (usually port 465), starttls upgrades a plain connection (usually 587)", False)
        if isinstance(exc, TimeoutError):
            return f"no answer from {where} within {config.timeout:g}s", False
        if isinstance(exc, ConnectionRefusedError):
            return f"{where} refused the connection; is the SMTP server running and is `port` right?", False
        if isinstance(exc, socket.gaierror):
            return f"cannot resolve SMTP host {config.host!r} ({exc.strerror or exc}); check `host`", False
        return f"cannot reach SMTP server {where}: {exc.__class__.__name__}: {exc}", False


def _is_5xx(code: int) -> bool:
    return 500 <= code < 600


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{exc.smtp_code} {printable_line(text, 500)}".strip()


def _codes(refused: dict[str, tuple[int, bytes | str]]) -> str:
    parts = []
    for address, (code, text) in refused.items():
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        parts.append(f"{printable_line(address, 320)} ({code} {printable_line(text, 300)})")
    return ", ".join(parts)
