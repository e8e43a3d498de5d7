"""monitor.log_format: the source of each record, the JSON and text lines, masking, the
daemon's relay of worker lines and its echo."""

from __future__ import annotations

import io
import json
import logging
import sys
from types import SimpleNamespace

import pytest

from monitor import log_format, redaction
from monitor.log_format import JsonFormatter, TextFormatter, about_source, relay_line, source_of

SECRET = "s3cret-token-77f1"


@pytest.fixture(autouse=True)
def masking():
    redaction.register([SECRET])
    redaction.install_log_masking()


class FeedSpider:  # what crawler.spiders.base.SourceSpider looks like to logging
    def __init__(self, source: str):
        self.name = f"feed:{source}"
        self.source = SimpleNamespace(name=source)


class PlainSpider:
    name = "plain"


class Hostile:
    """A spider whose attributes explode: the record is still logged."""

    def __getattr__(self, name):
        raise RuntimeError("no")


def _raised() -> tuple:
    try:
        raise ConnectionError(f"refused by http://h.example/feed?key={SECRET}")
    except ConnectionError:
        return sys.exc_info()


def record(msg="hello %s", args=("world",), *, level=logging.WARNING, exc_info=None, name="scrapy.core.engine",
           **extra) -> logging.LogRecord:
    logger = logging.getLogger(name)
    return logger.makeRecord(name, level, __file__, 1, msg, args, exc_info, extra=extra or None)


CASES = [
    # (description, record kwargs, expected fields (subset), keys that must be absent)
    ("plain", {}, {"level": "WARNING", "logger": "scrapy.core.engine", "source": None, "message": "hello world"},
     {"error_type", "error", "traceback"}),
    ("scrapy spider", {"spider": FeedSpider("xinhua_english")}, {"source": "xinhua_english"}, {"error_type"}),
    ("other spider", {"spider": PlainSpider()}, {"source": "plain"}, ()),
    ("crawler extra", {"crawler": SimpleNamespace(spider=FeedSpider("jjckb"))}, {"source": "jjckb"}, ()),
    ("explicit source", {"source": "people_daily"}, {"source": "people_daily"}, ()),
    ("explicit wins over spider", {"source": "a", "spider": FeedSpider("b")}, {"source": "a"}, ()),
    ("source config object", {"source": SimpleNamespace(name="cfg_named")}, {"source": "cfg_named"}, ()),
    ("hostile spider", {"spider": Hostile()}, {"source": None}, ()),
    ("exception", {"exc_info": "raised", "spider": FeedSpider("s1")},
     {"source": "s1", "error_type": "ConnectionError", "error": "refused by http://h.example/feed?key=***"}, ()),
    ("secret in message", {"msg": "GET http://h.example/?key=%s", "args": (SECRET,)},
     {"message": "GET http://h.example/?key=***"}, ()),
    ("userinfo in message", {"msg": "db postgresql://u:pw@db/x", "args": ()},
     {"message": "db postgresql://***@db/x"}, ()),
    ("broken format", {"msg": "%d items", "args": ("many",)}, {"level": "WARNING"}, ()),
    ("multi-line message", {"msg": "one\ntwo", "args": ()}, {"message": "one\ntwo"}, ()),
    ("chinese", {"msg": "新质生产力", "args": ()}, {"message": "新质生产力"}, ()),
    ("lone surrogate", {"msg": "bad \udcff byte", "args": ()}, {"message": "bad \udcff byte"}, ()),
    ("info level", {"level": logging.INFO}, {"level": "INFO"}, ()),
]


@pytest.mark.parametrize("kwargs, expected, absent", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_json_fields(kwargs, expected, absent):
    kwargs = dict(kwargs)
    if kwargs.get("exc_info") == "raised":
        kwargs["exc_info"] = _raised()
    line = JsonFormatter().format(record(**kwargs))
    assert "\n" not in line
    fields = json.loads(line)
    assert {"timestamp", "level", "logger", "source", "message"} <= set(fields)
    assert fields["timestamp"].endswith("Z") and "T" in fields["timestamp"]
    assert {k: fields.get(k) for k in expected} == expected
    assert not set(absent) & set(fields)
    assert SECRET not in line


def test_json_traceback_is_one_masked_string():
    fields = json.loads(JsonFormatter().format(record(exc_info=_raised())))
    assert fields["traceback"].startswith("Traceback (most recent call last):")
    assert "ConnectionError: refused by http://h.example/feed?key=***" in fields["traceback"]
    assert SECRET not in fields["traceback"]


def test_json_broken_format_string_still_a_line():
    fields = json.loads(JsonFormatter().format(record(msg="%d items", args=("many",))))
    assert "unformattable" in fields["message"] and "%d items" in fields["message"]


def test_json_never_raises_on_a_record_that_cannot_be_read():
    broken = record()
    broken.created = "not a time"  # type: ignore[assignment]
    assert json.loads(JsonFormatter().format(broken))["message"] == "hello world"
    broken.exc_info = ("not an exception triple",)  # type: ignore[assignment]
    fields = json.loads(JsonFormatter().format(broken))
    assert fields["level"] == "WARNING" and "format_error" in fields


def test_about_source_block():
    assert source_of(record()) is None
    with about_source("outer"):
        assert source_of(record()) == "outer"
        with about_source("inner"):
            assert source_of(record()) == "inner"
        assert source_of(record(spider=FeedSpider("spider_wins"))) == "spider_wins"
    assert source_of(record()) is None


@pytest.mark.parametrize("kwargs, expected", [
    ({}, "WARNING scrapy.core.engine: hello world"),
    ({"spider": FeedSpider("xinhua_english")}, "WARNING scrapy.core.engine: [xinhua_english] hello world"),
    ({"source": "s2", "msg": "[s2] already named", "args": ()}, "WARNING scrapy.core.engine: [s2] already named"),
    ({"msg": "key=%s", "args": (SECRET,)}, "WARNING scrapy.core.engine: key=***"),
])
def test_text_lines(kwargs, expected):
    line = TextFormatter().format(record(**kwargs))
    assert line.split(" ", 2)[2] == expected


def test_text_exception_masked_and_message_unchanged_for_other_handlers():
    rec = record(exc_info=_raised(), spider=FeedSpider("s3"))
    text = TextFormatter().format(rec)
    assert "[s3] hello world" in text and "ConnectionError" in text and SECRET not in text
    assert rec.getMessage() == "hello world"
    assert logging.Formatter("%(message)s").format(rec).startswith("hello world")


@pytest.fixture
def root_handlers():
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = saved
    root.setLevel(level)
    log_format._format = "text"


def test_configure_replaces_only_its_own_handler(root_handlers, capsys):
    foreign = logging.NullHandler()
    root_handlers.addHandler(foreign)
    assert log_format.configure("json", "INFO") is None, "someone else's handlers: left alone"
    first = log_format.configure("text", "INFO", force=True)
    second = log_format.configure("json", "DEBUG", force=True)
    assert first not in root_handlers.handlers and second in root_handlers.handlers
    assert foreign in root_handlers.handlers
    assert second.level == logging.DEBUG and root_handlers.level == logging.DEBUG
    root_handlers.removeHandler(foreign)
    for h in [h for h in root_handlers.handlers if h is not second]:
        root_handlers.removeHandler(h)  # pytest's capture handlers: only ours writes stderr here
    logging.getLogger("newsmon.test").warning("about %s", "it", extra={"source": "s4"})
    logging.getLogger("newsmon.test").debug("token %s", SECRET)
    lines = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["source"], r["message"]) for r in records] == [("s4", "about it"), (None, "token ***")]
    assert log_format.current_format() == "json"


def test_configure_rejects_an_unknown_format(root_handlers):
    with pytest.raises(ValueError, match="log_format"):
        log_format.configure("xml", force=True)


def test_configure_accepts_a_config_and_level_names(root_handlers):
    handler = log_format.configure(SimpleNamespace(log_format="json"), "warning", force=True)
    assert isinstance(handler.formatter, JsonFormatter) and handler.level == logging.WARNING
    assert log_format.configure("text", 20, force=True).level == logging.INFO
    assert log_format.configure("text", "nonsense", force=True).level == logging.WARNING


@pytest.mark.parametrize("line, fmt, expected", [
    ("plain text", "text", "[worker 42] plain text"),
    ('{"level": "INFO", "message": "m"}', "text", '[worker 42] {"level": "INFO", "message": "m"}'),
    ('{"timestamp": "2024-05-01T12:00:00.000Z", "level": "INFO", "source": "s5", "message": "m"}', "json",
     {"timestamp": "2024-05-01T12:00:00.000Z", "level": "INFO", "source": "s5", "message": "m", "worker": 42}),
    ("Traceback (most recent call last):", "json",
     {"level": "ERROR", "logger": "newsmon.workers", "source": None, "message": "Traceback (most recent call last):",
      "worker": 42}),
    ("{not json", "json", {"level": "ERROR", "message": "{not json", "worker": 42}),
    ('["a list"]', "json", {"message": '["a list"]', "worker": 42}),
    (f"leaked {SECRET}", "json", {"message": "leaked ***"}),
])
def test_relay_worker_lines(line, fmt, expected):
    out = relay_line(line, worker=42, log_format=fmt)
    if isinstance(expected, str):
        assert out == expected
        return
    fields = json.loads(out)
    assert {k: fields.get(k) for k in expected} == expected
    assert "timestamp" in fields and "\n" not in out


def test_echo_text_and_json():
    stream = io.StringIO()
    log_format.echo_for("text", stream=lambda: stream)(f"crawl s6: ok, key {SECRET}")
    assert stream.getvalue() == "crawl s6: ok, key ***\n"
    stream = io.StringIO()
    echo = log_format.echo_for(SimpleNamespace(log_format="json"), stream=lambda: stream)
    echo("newsmon daemon running")
    with about_source("s6"):
        echo(f"crawl s6: failed (error: {SECRET})")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["logger"] == "newsmon.daemon" and first["level"] == "INFO" and first["source"] is None
    assert second["source"] == "s6" and second["message"] == "crawl s6: failed (error: ***)"


def test_echo_json_ignores_the_log_level(root_handlers):
    root_handlers.setLevel(logging.ERROR)
    stream = io.StringIO()
    log_format.echo_for("json", stream=lambda: stream)("shown")
    assert json.loads(stream.getvalue())["message"] == "shown"


def test_print_error(capsys, root_handlers):
    log_format._format = "text"
    log_format.print_error(f"cannot open {SECRET}")
    assert capsys.readouterr().err == "error: cannot open ***\n"
    log_format._format = "json"
    log_format.print_error("bad field", ValueError("bad field"))
    fields = json.loads(capsys.readouterr().err)
    assert fields["level"] == "ERROR" and fields["error_type"] == "ValueError" and fields["message"] == "bad field"


def test_child_setup_round_trip(root_handlers):
    log_format.configure("json", logging.INFO, force=True)
    fmt, level, secrets = log_format.child_setup()
    assert (fmt, level) == ("json", logging.INFO) and SECRET in secrets
    root_handlers.handlers[:] = []
    log_format.configure_child(fmt, level, secrets)
    (handler,) = root_handlers.handlers
    assert isinstance(handler.formatter, JsonFormatter) and handler.level == logging.INFO
