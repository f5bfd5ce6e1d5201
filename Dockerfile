# Multi-stage, slim, non-root. The image runs against DATABASE_URL (an external PostgreSQL);
# the embedded server is for `make run` on a workstation.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/bloodtrace
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/bloodtrace/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/bloodtrace/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /srv/bloodtrace --create-home bloodtrace
COPY --from=build /opt/bloodtrace /opt/bloodtrace
COPY schemas /srv/bloodtrace/schemas
ENV PATH=/opt/bloodtrace/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=8000 \
    BLOODTRACE_DATA_DIR=/srv/bloodtrace/data \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /srv/bloodtrace
USER bloodtrace
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
ENTRYPOINT ["bloodtrace"]
CMD ["serve"]
