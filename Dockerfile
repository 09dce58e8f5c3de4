FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY facility ./facility
COPY ingest ./ingest
COPY rules ./rules
COPY maintenance ./maintenance
COPY api ./api
COPY simulators ./simulators
RUN pip install --no-cache-dir . && useradd --system --home /app facility && mkdir -p /app/data \
    && chown facility /app/data
USER facility
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/api/v1/health/live').status != 200)"
CMD ["facility", "run"]
