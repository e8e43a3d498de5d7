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
from monitor.config import load_config
from monitor.errors import NewsmonError
from monitor.redaction import install_log_masking


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

    try:
        config = load_config(args.config)
        install_log_masking()  # Scrapy logs request URLs, which may carry a ${TOKEN}
        names = args.sources or [s.name for s in config.enabled_sources()]
        unknown = [n for n in names if n not in config.sources]
        if unknown:
            print(f"unknown source(s): {', '.join(unknown)} (known: {', '.join(sorted(config.sources))})",
                  file=sys.stderr)
            return 2
        worker = build_worker(config, log_level=args.log_level, progress=not args.quiet and not args.serve,
                              long_lived=args.serve)
    except NewsmonError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
