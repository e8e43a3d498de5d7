"""What the routes share: the config, the archive's sessions, the templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))  # autoescape on for .html


@dataclass
class WebState:
    config: NewsmonConfig
    sessions: sessionmaker[Session]  # read-only transactions: every page and GET
    writer: sessionmaker[Session]  # the few actions (retrying an alert)
    token: str | None
