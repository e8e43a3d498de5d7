"""The `newsmon` command: argument parsing and error reporting only.

Each subcommand lives in monitor/commands/; this module loads the config once
and passes it down.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from monitor import __version__, log_format
from monitor.commands import alerts, archive, crawl, extract, rules, run, status, web
from monitor.config import NewsmonConfig, load_config, resolve_config_dir
from monitor.errors import ConfigError, NewsmonError
from monitor.statuses import AlertStatus

Handler = Callable[[NewsmonConfig, argparse.Namespace], int]


def _common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a --config after the subcommand overrides one before it, not the other way round.
    parser.add_argument("--config", metavar="DIR", default=argparse.SUPPRESS,
                        help="config directory (default: $NEWSMON_CONFIG or ./config)")
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="more log output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsmon", description="Scheduled news monitoring: crawl, extract, "
                                     "deduplicate, match keyword rules, alert by email and webhook.")
    parser.add_argument("--version", action="version", version=f"newsmon {__version__}")
    parser.add_argument("--config", metavar="DIR", default=None,
                        help="config directory (default: $NEWSMON_CONFIG or ./config)")
    parser.add_argument("-v", "--verbose", action="store_true", default=False, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Handler, help_text: str, parent=sub, needs_config: bool = True):
        p = parent.add_parser(name, help=help_text, description=help_text)
        _common(p)
        p.set_defaults(handler=handler, needs_config=needs_config)
        return p

    add("init", archive.cmd_init, "create or migrate the archive (idempotent)")
    p = add("run", run.cmd_run, "the daemon: every source on its schedule, then match and deliver")
    p.add_argument("--web", action="store_true", help="also serve the web view and JSON API (web.listen)")
    p = add("crawl", crawl.cmd_crawl, "one crawl cycle now, in the foreground, with progress")
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="source names (default: all enabled)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-article lines, only the summary")

    p = add("extract", extract.cmd_extract, "extract article text from saved pages (offline)", needs_config=False)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--url", help="the URL the page was fetched from (helps metadata)")
    p.add_argument("--source", help="use this configured source's extraction hints")
    p.add_argument("--format", choices=("json", "jsonl", "text"), default="json")

    p = add("query", archive.cmd_query, "read-only SQL on the archive: one statement, rows streamed")
    p.add_argument("sql", metavar="SQL")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--limit", type=archive.positive_int, metavar="N", help="stop after N rows")
    p.add_argument("--timeout", type=archive.duration_argument, metavar="DURATION",
                   help="stop the query after this long, e.g. 30s or 10m (default: query.timeout, 5m)")

    p = add("search", rules.cmd_search, "search the archive with the rule query language")
    p.add_argument("query", metavar="RULE_QUERY")
    p.add_argument("--since", type=rules.since_date, metavar="DATE",
                   help="only articles fetched on or after this date (YYYY-MM-DD)")
    p.add_argument("--limit", type=archive.positive_int, default=50, metavar="N")

    p_rules = sub.add_parser("rules", help="validate rules; backtest one on the archive")
    rules_sub = p_rules.add_subparsers(dest="rules_command", metavar="COMMAND", required=True)
    add("check", rules.cmd_rules_check, "validate every rule file", parent=rules_sub)
    p = add("test", rules.cmd_rules_test, "show what a rule would have sent, from the archive", parent=rules_sub)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--since", type=rules.since_date, metavar="DATE",
                   help="only articles fetched on or after this date (YYYY-MM-DD)")

    p = add("alerts", alerts.cmd_alerts, "the alerts outbox: queued, sent and dead alerts")
    p.add_argument("--status", choices=AlertStatus.values())
    p.add_argument("--limit", type=archive.positive_int, default=100, metavar="N")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    alerts_sub = p.add_subparsers(dest="alerts_command", metavar="COMMAND")
    p = add("retry", alerts.cmd_alerts_retry, "queue a dead alert for another delivery attempt", parent=alerts_sub)
    p.add_argument("id", type=archive.positive_int, metavar="ID")

    p = add("status", status.cmd_status,
            "per source: last success, last new article, next check and lag, failures, pending alerts")
    p.add_argument("--check", action="store_true", help="exit 1 when something needs attention")
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = add("web", web.cmd_web, "pages and a JSON API over the archive (/api/, /openapi.json)")
    p.add_argument("--host", help="address to listen on (default: from web.listen, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: from web.listen, 8080)")

    add("worker", _cmd_worker, "a crawl worker for distributed mode (needs redis_url)")
    return parser


def _cmd_worker(config: NewsmonConfig, args: argparse.Namespace) -> int:
    if not config.redis_url:
        raise ConfigError(str(config.config_dir / "newsmon.yaml"), "redis_url",
                          "distributed mode needs redis_url (e.g. redis://127.0.0.1:6379/0)")
    from crawler.redis_feed import run_queue_worker  # Scrapy and Twisted only for this command

    return run_queue_worker(config, log_level="INFO" if args.verbose else "WARNING")


def main(argv: list[str] | None = None) -> int:
    """Run one command. When the reader of our output goes away (`newsmon status | head`), stop
    quietly and exit 0, as `newsmon query` does: the reader chose to stop, nothing failed."""
    try:
        try:
            return _run(argv)
        finally:
            if sys.stdout is not None:
                sys.stdout.flush()  # a closed pipe shows here, not as a traceback at interpreter exit
    except BrokenPipeError:
        _discard_stdout()
        return 0


def _discard_stdout() -> None:
    # The Python docs' recipe (signal module, "Note on SIGPIPE"): point stdout at devnull so the
    # interpreter's final flush has nowhere to fail.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    log_format.configure("text", level)  # the config, once loaded, may say json
    try:
        config = None
        config_dir = resolve_config_dir(args.config, os.environ)
        # extract works without a config unless it is asked for a source's hints
        if args.needs_config or getattr(args, "source", None):
            config = load_config(config_dir, os.environ)
            log_format.configure(config, level)
        return args.handler(config, args)
    except NewsmonError as exc:
        log_format.print_error(str(exc), exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
