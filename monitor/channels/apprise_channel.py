"""Apprise alerts: any service Apprise speaks (slack://, tgram://, discord://, ntfy://, matrix://,
json://, mailto://, ...), through the same outbox as email and webhook.

One outbox row is one alert on one channel; a channel may list several URLs. Each URL is sent with
its own Apprise object, so we know which went out: Apprise's own notify() only says False when any
one failed. The channel remembers, per delivery key, the URLs that already took an alert, and a
retry of that alert sends only to the others (within this process: after a restart a retry may
repeat a URL that had succeeded; the delivery key is in the body for receivers that dedupe).

Error messages and notes name a URL by its index and its privacy form (Apprise's url(privacy=True):
passwords and tokens shown as ****), and go through monitor.redaction.mask as well.

Apprise is an optional extra: pip install 'newsmon[apprise]'. The config refuses `type: apprise`
without it (monitor.config.channels.AppriseChannelConfig).
"""

from __future__ import annotations

import logging
import threading

from monitor import redaction
from monitor.channels.base import AlertMessage, Channel, HealthMessage, Message, printable_line
from monitor.config.channels import APPRISE_MISSING, AppriseChannelConfig
from monitor.errors import DeliveryError

log = logging.getLogger(__name__)

# Delivery keys whose URLs are remembered at most; an old key's memory goes first.
MAX_REMEMBERED = 10_000


def _date_text(message: AlertMessage) -> str:
    published = message.published_utc
    return published.strftime("%Y-%m-%d %H:%M UTC") if published else "unknown"


def _is_digest(message: Message) -> bool:
    return not isinstance(message, (AlertMessage, HealthMessage)) and hasattr(message, "entries")


def default_title(message: Message) -> str:
    if isinstance(message, HealthMessage):
        return f"newsmon: source {message.source} is {message.state}"
    if _is_digest(message):
        count = len(message.entries)
        return f"{message.rule}: {count} {'story' if count == 1 else 'stories'}"
    return " ".join(f"{message.rule}: {message.title or '(untitled)'}".split())


def default_body(message: Message) -> str:
    if isinstance(message, HealthMessage):
        lines = [f"Source {message.source}: {message.state}"
                 + (f" (was {message.previous})" if message.previous else ""), message.detail]
        return "\n".join(line for line in lines if line) + "\n"
    if _is_digest(message):
        parts = []
        for entry in message.entries:
            parts.append(f"{' '.join((entry.title or '(untitled)').split())}\n{entry.url}\n{entry.source}"
                         + (f"\n{entry.snippet.strip()}" if entry.snippet else ""))
        return "\n\n".join(parts) + "\n"
    lines = [message.title or "(untitled)", message.url, f"{message.source} · {_date_text(message)} · rule {message.rule}"]
    if message.snippet:
        lines += ["", message.snippet.strip()]
    if message.also_in:
        lines += ["", "Also in: " + ", ".join(message.also_in)]
    return "\n".join(lines) + "\n"


def privacy_url(url: str) -> str:
    """The URL as Apprise shows it with secrets hidden, then masked by monitor.redaction too."""
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url)
        shown = plugin.url(privacy=True) if plugin else "(invalid Apprise URL)"
    except Exception:  # a plugin failing to describe itself must not fail the delivery
        shown = url.split(":", 1)[0] + "://…"
    return redaction.mask(shown.split("?", 1)[0]) or ""


class AppriseChannel(Channel):
    def __init__(self, name: str, config: AppriseChannelConfig):
        super().__init__(name)
        self.config = config
        self._done: dict[str, set[int]] = {}  # delivery key -> indexes of URLs that took it
        self._done_lock = threading.Lock()

    def render(self, message: Message) -> tuple[str, str]:
        """(title, body) for one message: the channel's templates when set, else the defaults."""
        from monitor.channels import templates

        title = templates.render_field(self.config, "title_template", message)
        body = templates.render_field(self.config, "body_template", message)
        return (title if title is not None else default_title(message),
                body if body is not None else default_body(message))

    def _notify(self, url: str, title: str, body: str) -> tuple[bool, str]:
        """(sent, the reason Apprise logged when not)."""
        import apprise

        with apprise.LogCapture(level=logging.WARNING) as captured:
            plugin = apprise.Apprise.instantiate(url)
            if not plugin:
                return False, "not a URL Apprise understands"
            for attribute in ("socket_connect_timeout", "socket_read_timeout"):
                if hasattr(plugin, attribute):
                    setattr(plugin, attribute, self.config.timeout)
            notifier = apprise.Apprise()
            notifier.add(plugin)
            ok = bool(notifier.notify(body=body, title=title))
            reason = printable_line(captured.getvalue(), 300) if not ok else ""
        return ok, redaction.mask(reason) or ""

    def deliver(self, message: Message) -> str | None:
        try:
            import apprise  # noqa: F401
        except ImportError:
            raise DeliveryError(self.name, APPRISE_MISSING, permanent=True) from None
        title, body = self.render(message)
        with self._done_lock:
            done = set(self._done.get(message.delivery_key, ()))
        failed: list[str] = []
        for i, url in enumerate(self.config.urls):
            if i in done:
                continue
            ok, reason = self._notify(url, title, body)
            if ok:
                done.add(i)
            else:
                failed.append(f"urls[{i}] {privacy_url(url)}: {reason or 'Apprise reported a failure'}")
        total = len(self.config.urls)
        if failed:
            with self._done_lock:
                if len(self._done) >= MAX_REMEMBERED:
                    self._done.pop(next(iter(self._done)))
                self._done[message.delivery_key] = done
            sent_text = (f"; sent to {len(done)} of {total} URLs already (urls[{', '.join(map(str, sorted(done)))}]), "
                         "which a retry skips") if done else ""
            raise DeliveryError(self.name, f"{len(failed)} of {total} Apprise URLs failed: "
                                + "; ".join(failed) + sent_text)
        with self._done_lock:
            self._done.pop(message.delivery_key, None)
        shown = ", ".join(f"urls[{i}] {privacy_url(url)}" for i, url in enumerate(self.config.urls))
        return f"sent by Apprise to {total} of {total} URLs: {shown}"
