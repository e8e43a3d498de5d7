# newsmon daemon image: `docker run -v newsmon-data:/data -v ./config:/config newsmon`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSMON_CONFIG=/config \
    NEWSMON_DATABASE_URL=sqlite:////data/newsmon.sqlite3

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

# init is idempotent: it creates the archive on first start and migrates it after upgrades.
CMD ["sh", "-c", "newsmon init && exec newsmon run"]
