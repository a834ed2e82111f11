"""Reliability: dirty input, restarts and outages, against the real broker and ClickHouse.

Each test reproduces one failure the project once had (issue 14) and checks that nothing is
lost and nothing doubled. Fixtures come from tests/conftest.py (tests/services.py).
"""
