"""What the routes share: the config, the archive's sessions, the templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig

# Candidates a web search checks with the matcher at most (monitor.store.search.SearchBudget): a query the
# index cannot narrow stops there and says so, instead of holding a worker while it reads the archive.
SEARCH_BUDGET = 20_000
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))  # autoescape on for .html


@dataclass
class WebState:
    config: NewsmonConfig
    sessions: sessionmaker[Session]  # read-only transactions: every page and GET
    writer: sessionmaker[Session]  # the few actions (retrying an alert)
    token: str | None
