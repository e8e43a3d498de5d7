"""Errors a user can act on: each says where the problem is and what to do."""

from __future__ import annotations


class NewsmonError(Exception):
    """Base class; `exit_code` is what the CLI exits with. Its text never shows a secret."""

    exit_code = 1

    def __str__(self) -> str:
        from monitor.redaction import mask  # local: errors is imported by everything, redaction by little

        return mask(super().__str__()) or ""


class ConfigError(NewsmonError):
    """A config file is missing, unreadable or invalid. Names the file and field."""

    exit_code = 2

    def __init__(self, file: str, field: str | None, message: str):
        self.file = file
        self.field = field
        self.message = message
        where = f"{file}: {field}" if field else file
        super().__init__(f"{where}: {message}")


class ArchiveError(NewsmonError):
    """The archive cannot be opened, migrated or queried."""


class ReadOnlyQueryError(ArchiveError):
    """`newsmon query` was given a statement that writes."""


class DeliveryError(NewsmonError):
    """A channel could not deliver an alert; the outbox keeps it for a retry.

    `retry_after`: seconds the receiver asked us to wait (an HTTP Retry-After,
    already capped by the channel's config); the outbox waits at least that long."""

    def __init__(self, channel: str, message: str, permanent: bool = False, retry_after: float | None = None):
        self.channel = channel
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(f"channel {channel!r}: {message}")


class RuleSyntaxError(NewsmonError):
    """A rule query does not parse; `position` is the character offset."""

    exit_code = 2

    def __init__(self, message: str, position: int | None = None, query: str | None = None):
        self.position = position
        self.query = query
        detail = message
        if position is not None and query is not None:
            detail = f"{message} at character {position + 1}: {query[:position]}⟨here⟩{query[position:]}"
        super().__init__(detail)


class MissingExtraError(NewsmonError):
    """The config needs an optional dependency (a pip extra) that is not installed."""

    exit_code = 2
