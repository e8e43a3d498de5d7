"""Email alerts over SMTP (plain, STARTTLS or implicit TLS), with login."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from html import escape

from monitor.channels.base import AlertMessage, Channel
from monitor.config import EmailChannelConfig
from monitor.errors import DeliveryError


class EmailChannel(Channel):
    def __init__(self, name: str, config: EmailChannelConfig, ssl_context: ssl.SSLContext | None = None):
        super().__init__(name)
        self.config = config
        # Tests pass a context trusting their self-signed certificate.
        self.ssl_context = ssl_context or ssl.create_default_context()

    @property
    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def build(self, message: AlertMessage) -> EmailMessage:
        config = self.config
        email = EmailMessage()
        email["Subject"] = f"{config.subject_prefix} {message.rule}: {message.title}".strip()
        email["From"] = config.from_
        email["To"] = ", ".join(config.to)
        email["Date"] = formatdate(localtime=False, usegmt=True)
        domain = config.from_.rpartition("@")[2] or "newsmon.invalid"
        # Stable across retries: a resend after a crash is recognisably the same message.
        email["Message-ID"] = f"<newsmon-alert-{message.alert_id}@{domain}>"
        email["X-Newsmon-Alert-Id"] = str(message.alert_id)
        email["X-Newsmon-Rule"] = message.rule
        date = message.published_at.strftime("%Y-%m-%d %H:%M UTC") if message.published_at else "unknown"
        lines = [message.title, "", f"Source: {message.source}", f"Date:   {date}", f"Rule:   {message.rule}",
                 f"Link:   {message.url}", "", message.snippet]
        if message.also_in:
            lines += ["", "Also in: " + ", ".join(message.also_in)]
        email.set_content("\n".join(lines) + "\n")
        also = f"<p>Also in: {escape(', '.join(message.also_in))}</p>" if message.also_in else ""
        email.add_alternative(
            f"<html><body><h2><a href=\"{escape(message.url)}\">{escape(message.title)}</a></h2>"
            f"<p>{escape(message.source)} · {escape(date)} · rule <b>{escape(message.rule)}</b></p>"
            f"<blockquote>{escape(message.snippet)}</blockquote>{also}</body></html>",
            subtype="html",
        )
        return email

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

    def send(self, message: AlertMessage) -> None:
        email = self.build(message)
        try:
            with self._connect() as smtp:
                smtp.send_message(email)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(self.name, f"SMTP login to {self._where} refused ({exc.smtp_code}); "
                                "check username and the password's environment variable", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {addr: code for addr, (code, _msg) in exc.recipients.items()}
            permanent = all(code >= 500 for code in codes.values())
            raise DeliveryError(self.name, f"{self._where} refused recipients {codes}", permanent=permanent) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(self.name, f"{self._where} answered {exc.smtp_code} {text}",
                                permanent=500 <= exc.smtp_code < 600 and exc.smtp_code != 554) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(self.name, f"{self._where}: {exc}; change `security` in newsmon.yaml",
                                permanent=True) from None
        except ssl.SSLError as exc:
            raise DeliveryError(self.name, f"TLS with {self._where} failed: {exc.reason or exc}") from None
        except (socket.timeout, TimeoutError):
            raise DeliveryError(self.name, f"timed out talking to {self._where}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(self.name, f"cannot reach SMTP server {self._where}: "
                                f"{exc.__class__.__name__}: {exc}") from None
