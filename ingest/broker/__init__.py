"""Everything that talks to the Kafka broker outside the faust app's own loop: building the
clients, administering topics, reading a topic to its end.

It sits in ``ingest`` because the connectors need it and ``ingest`` may not import
``stream``; the stream imports it from here.
"""
