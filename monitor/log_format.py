"""Log lines as `log_format` says: `text` for people, `json` for one object per line.

Every record about a source carries its name (`source`): from the Scrapy spider
the record was logged for (`extra={"spider": spider}`, which `spider.logger` and
Scrapy's own messages add), from an explicit `extra={"source": name}`, or from an
enclosing `about_source(name)` block (a context variable: the daemon's lines about
one check, whatever logger or echo writes them).

    text:  2024-05-01 12:00:00,123 WARNING scrapy.core.scraper: [xinhua_english] page …: HTTP 404 from server
    json:  {"timestamp": "2024-05-01T12:00:00.123Z", "level": "WARNING", "logger": "scrapy.core.scraper",
            "source": "xinhua_english", "message": "page …: HTTP 404 from server"}

A JSON record with an exception adds `error_type` (the class name), `error` (its
message) and `traceback` (one string); the line stays one line, and the formatter
never raises (a broken record becomes a line saying so). Both formats mask secrets
(monitor.redaction) in what they write, on top of the masking at record creation.

`configure()` installs the one root handler (on stderr) and is called again once
the config is loaded (the CLI starts with `text`, before it knows the format). It
replaces only the handler it installed itself, so a test's or a user's handlers stay.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from monitor import redaction

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The worker-relay lines of a worker's raw (not logged) stderr: a traceback, a print to stderr.
RAW_STDERR_LEVEL = "ERROR"

_about: ContextVar[str | None] = ContextVar("newsmon_log_source", default=None)
_format: str = "text"  # what configure() last installed


# --- the source a record is about ---------------------------------------------------------------


@contextlib.contextmanager
def about_source(name: str | None) -> Iterator[None]:
    """Records created (and lines echoed) inside this block are about source `name`."""
    token = _about.set(name)
    try:
        yield
    finally:
        _about.reset(token)


def current_source() -> str | None:
    return _about.get()


def _name_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    name = getattr(value, "name", None)  # a SourceConfig
    return name if isinstance(name, str) and name else None


def _spider_source(spider: Any) -> str | None:
    name = _name_of(getattr(spider, "source", None))  # crawler.spiders.base.SourceSpider.source: its config
    if name:
        return name
    spider_name = getattr(spider, "name", None)  # "feed:xinhua_english"; another spider: its name
    if isinstance(spider_name, str) and spider_name:
        return spider_name.split(":", 1)[-1]
    return None


def source_of(record: logging.LogRecord) -> str | None:
    """The source `record` is about, or None."""
    try:
        attrs = record.__dict__
        name = _name_of(attrs.get("source"))
        if name:
            return name
        spider = attrs.get("spider")
        if spider is None:
            spider = getattr(attrs.get("crawler"), "spider", None)  # Scrapy's extra={"crawler": crawler}
        if spider is not None:
            name = _spider_source(spider)
            if name:
                return name
        return _about.get()
    except Exception:  # an odd object in `extra`: the record is still logged, without a source
        return None


class SourceFilter(logging.Filter):
    """Sets `record.source` (a name or None) on every record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        source = source_of(record)
        try:
            record.source = source
        except Exception:
            pass
        return True


# --- formatters ------------------------------------------------------------------------------------


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception as exc:  # a format string that does not fit its arguments
        return f"unformattable log message {record.msg!r} with arguments {record.args!r} ({type(exc).__name__})"


class TextFormatter(logging.Formatter):
    """`TIME LEVEL LOGGER: [SOURCE] message` (the `[SOURCE] ` only on records about a source), masked."""

    def __init__(self, fmt: str = TEXT_FORMAT, datefmt: str | None = None):
        super().__init__(fmt, datefmt)

    def formatMessage(self, record: logging.LogRecord) -> str:
        source = getattr(record, "source", None) or source_of(record)
        message = record.message
        if source and not message.startswith(f"[{source}]"):
            record.message = f"[{source}] {message}"
        try:
            return super().formatMessage(record)
        finally:
            record.message = message

    def format(self, record: logging.LogRecord) -> str:
        try:
            text = super().format(record)
        except Exception as exc:  # never raise into the logging call
            text = (f"{getattr(record, 'levelname', '?')} {getattr(record, 'name', '?')}: {_message(record)} "
                    f"(log formatting failed: {type(exc).__name__}: {exc})")
        return redaction.mask(text) or ""


def _timestamp(created: float) -> str:
    try:
        when = datetime.fromtimestamp(created, timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):  # a record someone tampered with
        when = datetime.now(timezone.utc)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(fields: dict[str, Any]) -> str:
    """One JSON line. Non-ASCII text stays readable; a lone surrogate (undecodable bytes) is escaped."""
    text = json.dumps(fields, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(fields, ensure_ascii=True, default=str)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: timestamp (ISO-8601, UTC), level, logger, source,
    message; error_type, error and traceback when the record has an exception. Masked."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            return dumps(self.fields(record))
        except Exception as exc:  # never lose the line, never raise into the logging call
            return dumps({"timestamp": _timestamp(getattr(record, "created", 0.0) or 0.0),
                          "level": str(getattr(record, "levelname", "ERROR")),
                          "logger": str(getattr(record, "name", "")), "source": None,
                          "message": redaction.mask(repr(getattr(record, "msg", None))),
                          "format_error": f"{type(exc).__name__}: {exc}"})

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        mask = redaction.mask
        source = getattr(record, "source", None)
        fields: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "source": source if isinstance(source, str) and source else source_of(record),
            "message": mask(_message(record)),
        }
        exc_info = record.exc_info
        if exc_info and exc_info[0] is not None:
            kind, value = exc_info[0], exc_info[1]
            fields["error_type"] = getattr(kind, "__name__", str(kind))
            try:
                fields["error"] = mask(str(value))
            except Exception:
                fields["error"] = mask(repr(value))
            tb = record.exc_text  # already masked by redaction's record factory, when installed
            if not tb:
                tb = "".join(traceback.format_exception(kind, value, exc_info[2])).rstrip("\n")
            fields["traceback"] = mask(tb)
        elif record.exc_text:
            fields["traceback"] = mask(record.exc_text)
        if record.stack_info:
            fields["stack"] = mask(record.stack_info)
        return fields


def formatter_for(log_format: str) -> logging.Formatter:
    if log_format not in FORMATS:
        raise ValueError(f"log_format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    return JsonFormatter() if log_format == "json" else TextFormatter()


# --- the handler -----------------------------------------------------------------------------------


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (pytest swaps it per test, like logging.lastResort)."""

    newsmon_handler = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _format_of(config_or_format: Any) -> str:
    if isinstance(config_or_format, str):
        return config_or_format
    return getattr(config_or_format, "log_format", None) or "text"


def configure(config_or_format: Any = "text", level: int | str = logging.WARNING, *,
              force: bool = False) -> logging.Handler | None:
    """Log to stderr in the config's `log_format` (or the format named), at `level` (a number or a
    name, as Scrapy's LOG_LEVEL), with secret masking. Replaces the handler an earlier call installed.

    Like logging.basicConfig, it leaves alone a root logger that has handlers someone else put there
    (pytest's, an embedding program's) unless `force`; then it returns None."""
    global _format
    log_format = _format_of(config_or_format)
    formatter = formatter_for(log_format)
    level = _level(level)
    redaction.install_log_masking()
    _format = log_format
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "newsmon_handler", False)]
    if not force and len(ours) < len(root.handlers):
        return None
    for old in ours:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(SourceFilter())
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def _level(level: int | str) -> int:
    if isinstance(level, int):
        return level
    text = str(level).strip().upper()
    if text.isdigit():
        return int(text)
    value = logging.getLevelName(text)
    return value if isinstance(value, int) else logging.WARNING


def child_setup() -> tuple[str, int, tuple[str, ...]]:
    """What a spawned helper process (an extraction worker) needs to log as this one does: pass it
    to configure_child() there (multiprocessing initargs)."""
    return _format, logging.getLogger().getEffectiveLevel(), tuple(sorted(redaction.registered()))


def configure_child(log_format: str, level: int, secrets: tuple[str, ...] = ()) -> None:
    """In a spawned process: the parent's format, level and secrets to mask (see child_setup)."""
    redaction.register(secrets)
    configure(log_format, level)


def current_format() -> str:
    """The format the last configure() installed ("text" before any)."""
    return _format


# --- lines that are not log calls -------------------------------------------------------------------


def echo_for(config_or_format: Any, *, logger: str = "newsmon.daemon",
             stream: Callable[[], Any] = lambda: sys.stdout) -> Callable[[str], None]:
    """The daemon's progress lines (`echo`), on stdout as before, shown at any log level: plain text,
    or in json mode one JSON object each (level INFO, `logger`, and the source of an enclosing
    about_source block)."""
    log_format = _format_of(config_or_format)
    if log_format != "json":
        def echo_text(line: str) -> None:
            print(redaction.mask(line), file=stream(), flush=True)

        return echo_text

    formatter = JsonFormatter()
    log = logging.getLogger(logger)

    def echo_json(line: str) -> None:
        record = log.makeRecord(log.name, logging.INFO, "(echo)", 0, "%s", (line,), None)
        record.source = source_of(record)
        print(formatter.format(record), file=stream(), flush=True)

    return echo_json


def relay_line(line: str, *, worker: int, log_format: str | None = None) -> str:
    """A line a crawl worker wrote to stderr, as the daemon prints it: prefixed `[worker PID]` in text
    mode; in json mode the worker's own JSON object with `"worker": PID` added, or a line that is
    not one (a traceback, a print) wrapped as a record of logger newsmon.workers."""
    log_format = log_format or _format
    if log_format != "json":
        return f"[worker {worker}] {line}"
    try:
        parsed = json.loads(line) if line.startswith("{") else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        parsed.setdefault("worker", worker)
        return dumps(parsed)
    return dumps({"timestamp": _timestamp(datetime.now(timezone.utc).timestamp()), "level": RAW_STDERR_LEVEL,
                  "logger": "newsmon.workers", "source": None, "message": redaction.mask(line), "worker": worker})


def print_error(text: str, exc: BaseException | None = None, *, prefix: str = "error: ",
                logger: str = "newsmon") -> None:
    """A command's closing error on stderr: `error: text`, or with log_format json one JSON record
    (level ERROR, with the error's type)."""
    if _format != "json":
        print(redaction.mask(prefix + text), file=sys.stderr, flush=True)
        return
    fields: dict[str, Any] = {"timestamp": _timestamp(datetime.now(timezone.utc).timestamp()), "level": "ERROR",
                              "logger": logger, "source": current_source(), "message": redaction.mask(text)}
    if exc is not None:
        fields["error_type"] = type(exc).__name__
        fields["error"] = redaction.mask(str(exc))
    print(dumps(fields), file=sys.stderr, flush=True)
