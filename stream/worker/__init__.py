"""The faust worker: the one App with its topics, the thin agents, and the process that runs
them (with the sink when this worker owns ClickHouse)."""
