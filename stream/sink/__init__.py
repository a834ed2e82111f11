"""The ClickHouse sink: topic-partition batches inserted exactly once, then committed.

``plans``   batch ranges and their deduplication tokens (pure)
``batcher`` cuts one partition's records into batches, replaying planned ranges (pure)
``tables``  which topic goes to which table, and how a message becomes rows (pure)
``service`` the consumer loop: assignment, back-pressure, insert, commit (I/O)
"""
