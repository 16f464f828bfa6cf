# syntax=docker/dockerfile:1
# Build stage: install the bot into a virtualenv and compile the translation catalogs.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv && /opt/venv/bin/pip install "Babel>=2.14,<3"
COPY pyproject.toml README.md babel.cfg ./
COPY locales ./locales
RUN /opt/venv/bin/pybabel compile -d locales -D messages --statistics
COPY bot ./bot
COPY db ./db
COPY fakeapi ./fakeapi
RUN /opt/venv/bin/pip install .

# Runtime stage: slim, non-root, data on a volume.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/pact.sqlite3 \
    HEALTH_PORT=8080 \
    WEBHOOK_PORT=8080
RUN useradd --create-home --uid 10001 pact && mkdir /data && chown pact:pact /data
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /home/pact
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["sh", "-c", "pact-bot migrate && exec pact-bot run"]
