"""Prometheus metrics of the stream processes (worker, sink, console): the metrics and the
calls that move them (``definitions.py``), and each process's endpoint with its consumer-lag
poller (``endpoint.py``). The HTTP endpoint itself is ``ingest/metrics.py``'s, shared with
the connectors."""
