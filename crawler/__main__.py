"""`python -m crawler --config DIR [SOURCE…]`: one check of each source, all at once,
in this process, then exit (what `newsmon crawl` runs).

`python -m crawler --config DIR --serve`: a long-lived crawl worker taking checks
from the daemon on stdin (crawler.worker, monitor.crawl_protocol).

A process, because Twisted's reactor cannot be restarted within one.
"""

from __future__ import annotations

import argparse
import os
import sys

from crawler.parent_watch import exit_with_parent
from crawler.worker import build_worker
from monitor import log_format
from monitor.config import load_config
from monitor.errors import NewsmonError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="newsmon config directory")
    parser.add_argument("--log-level", default="WARNING", help="Scrapy log level (default WARNING)")
    parser.add_argument("--quiet", action="store_true", help="no per-article progress lines")
    parser.add_argument("--parent-pid", type=int, default=None, metavar="PID",
                        help="exit, with the extraction workers, when this process is gone (default: our parent)")
    parser.add_argument("--serve", action="store_true", help="a long-lived worker: checks come on stdin")
    parser.add_argument("sources", nargs="*", help="source names (default: all enabled sources)")
    args = parser.parse_args(argv)
    # Nobody would read our results: a SIGKILLed newsmon must not leave this crawl running.
    exit_with_parent(args.parent_pid or os.getppid(), kill_group=True)
    log_format.configure("text", args.log_level)  # until the config names its log_format

    try:
        config = load_config(args.config)
        # Our handler in place of Scrapy's (LOG_INSTALL_ROOT_HANDLER is off), at Scrapy's LOG_LEVEL; it
        # masks secrets: Scrapy logs request URLs, which may carry a ${TOKEN}.
        log_format.configure(config, args.log_level)
        names = args.sources or [s.name for s in config.enabled_sources()]
        unknown = [n for n in names if n not in config.sources]
        if unknown:
            log_format.print_error(f"unknown source(s): {', '.join(unknown)} "
                                   f"(known: {', '.join(sorted(config.sources))})", prefix="")
            return 2
        worker = build_worker(config, log_level=args.log_level, progress=not args.quiet and not args.serve,
                              long_lived=args.serve)
    except NewsmonError as exc:
        log_format.print_error(str(exc), exc)
        return exc.exit_code

    try:
        if args.serve:
            worker.serve()
        else:
            worker.run_once(names)
    finally:
        worker.context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
