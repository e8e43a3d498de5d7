# newsmon daemon image: `docker run -v newsmon-data:/data -v ./config:/config newsmon`
# Running it as a service (stop timeout, reload, health, workers): docs/service.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSMON_CONFIG=/config \
    NEWSMON_DATABASE_URL=sqlite:////data/newsmon.sqlite3

# tini as PID 1: it passes SIGTERM and SIGHUP on to newsmon, and reaps the processes a killed crawl
# worker leaves behind (PID 1 inherits them; newsmon does not wait for processes it did not start).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY crawler ./crawler
COPY migrations ./migrations
COPY replay ./replay
RUN pip install ".[postgres,redis]" \
    && useradd --create-home --uid 10001 newsmon \
    && mkdir -p /data /config \
    && chown newsmon:newsmon /data

COPY --chown=newsmon:newsmon config /config

USER newsmon
VOLUME ["/data"]
WORKDIR /home/newsmon

# Health: `newsmon status --check` exits 1 when something needs attention (a source failing or overdue
# by more than its interval, undeliverable alerts, no live worker in distributed mode) and 2 on a config
# error; Docker reserves exit 2, so every failure is reported as 1. Docker keeps only the first 4 KB of
# a check's output, so the last lines (the summary and "needs attention") are what it keeps.
# - interval 5m: the conditions it reports change at most once per check of a source (every 15m by
#   default); each run costs a Python start (about 1.5 s of CPU).
# - retries 3: trouble must last about 15 minutes (one default source interval) before the container is
#   unhealthy, so one failed check that the next check clears does not flap the status.
# - start-period 15m: `newsmon init` (a migration can take minutes) and the first checks (each stops at
#   crawl.check_timeout, 15m) happen before failures count. A passing check ends the start period early.
# - timeout 60s: status reads the archive and, in distributed mode, Redis (3 s timeout); a check that
#   hangs longer than that is trouble too.
HEALTHCHECK --interval=5m --timeout=60s --start-period=15m --retries=3 \
    CMD out="$(newsmon status --check 2>&1)"; rc=$?; printf '%s\n' "$out" | tail -n 25; [ "$rc" -eq 0 ] || exit 1

# `docker stop` sends SIGTERM, then SIGKILL after 10 s unless told otherwise: give the daemon
# crawl.stop_grace (30 s) and a margin with `docker stop -t 90` / `docker run --stop-timeout 90`
# (compose: `stop_grace_period: 90s`). `docker kill -s HUP` reloads the config.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
# init is idempotent: it creates the archive on first start and migrates it after upgrades.
CMD ["sh", "-c", "newsmon init && exec newsmon run"]
