FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MONITOR_CONFIG=/config/monitor.yaml
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 --home-dir /data monitor \
 && mkdir -p /data /config && chown monitor /data
COPY config/monitor.yaml /config/monitor.yaml
RUN sed -i 's#sqlite:///data/monitor.db#sqlite:////data/monitor.db#' /config/monitor.yaml

USER monitor
VOLUME ["/data"]
CMD ["monitor", "run"]
