"""The daemon: the runtime that opens everything a pass needs, polls, delivers and stops
gracefully (``runtime``), the operator's endpoint (``endpoint``: /healthz, /metrics, reload)
and its Prometheus metrics (``metrics``)."""
