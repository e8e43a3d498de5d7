"""`newsmon extract FILE…`: offline extraction of saved pages (raw bytes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.config import ExtractHints, NewsmonConfig
from monitor.extract import extract_article
from monitor.output import to_json

JSONL_KEYS = ("path", "url", "title", "author", "date", "language", "text")
MAX_FILE_BYTES = 64 * 1024 * 1024


def cmd_extract(config: NewsmonConfig | None, args: argparse.Namespace) -> int:
    hints: ExtractHints | None = None
    if args.source:
        if config is None or args.source not in config.sources:
            known = ", ".join(sorted(config.sources)) if config else "no config loaded"
            print(f"error: unknown source {args.source!r} (known: {known})", file=sys.stderr)
            return 2
        hints = config.sources[args.source].hints
    failures = 0
    records = []
    for name in args.files:
        path = Path(name)
        record: dict = {"path": name, "url": args.url}
        try:
            with path.open("rb") as fh:
                body = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            print(f"error: {name}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            failures += 1
            record.update(title=None, author=None, date=None, language=None, text="")
        else:
            result = extract_article(body[:MAX_FILE_BYTES], url=args.url, hints=hints)
            if not result.text:
                print(f"warning: {name}: no article text: {result.reason}", file=sys.stderr)
            record.update(title=result.title, author=result.author, date=result.date, language=result.language,
                          text=result.text, outlet=result.outlet, captions=list(result.captions),
                          encoding=result.encoding, reason=result.reason)
        if args.format == "jsonl":
            print(to_json({k: record.get(k) for k in JSONL_KEYS}, indent=None), flush=True)
        elif args.format == "text":
            print(f"==> {name} <==")
            if record.get("title"):
                print(record["title"])
                print()
            print(record["text"])
            print()
        else:
            records.append(record)
    if args.format == "json":
        print(to_json(records))
    return 1 if failures else 0
