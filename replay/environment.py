"""The offline world the demo and the end-to-end tests run newsmon in:
the replay site, an SMTP sink and a webhook receiver on 127.0.0.1, and the
environment variables that point config/demo at them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from replay.server import ReplayServer
from replay.sinks import SmtpSink, WebhookReceiver

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO_ROOT / "config" / "demo"
WEBHOOK_SECRET = "demo-secret"


class ReplayEnvironment:
    """Starts the three local servers; `env` makes config/demo use them."""

    def __init__(self, database_url: str, config_dir: Path = DEMO_CONFIG, site_root: Path | None = None):
        self.database_url = database_url
        self.config_dir = config_dir
        self.site = ReplayServer(root=site_root) if site_root else ReplayServer()
        self.smtp = SmtpSink()
        self.webhook = WebhookReceiver()

    def __enter__(self) -> ReplayEnvironment:
        self.site.start()
        self.smtp.start()
        self.webhook.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.webhook.stop()
        self.smtp.stop()
        self.site.stop()

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            NEWSMON_CONFIG=str(self.config_dir),
            NEWSMON_DATABASE_URL=self.database_url,
            NEWSMON_REPLAY_URL=self.site.base_url.rstrip("/"),
            NEWSMON_DEMO_SMTP_PORT=str(self.smtp.port),
            NEWSMON_DEMO_WEBHOOK_PORT=str(self.webhook.port),
            NEWSMON_DEMO_WEBHOOK_SECRET=WEBHOOK_SECRET,
            PYTHONUNBUFFERED="1",
        )
        return env

    def newsmon(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the newsmon command as a user would, in this environment."""
        cmd = [newsmon_executable(), *args]
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result


def newsmon_executable() -> str:
    """The installed console script beside this interpreter, else the module."""
    candidate = Path(sys.executable).with_name("newsmon")
    return str(candidate) if candidate.exists() else shutil.which("newsmon") or "newsmon"
