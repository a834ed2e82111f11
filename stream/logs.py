"""Structured logs: one line per event, ``key=value`` (default) or JSON.

Fields passed with ``extra={...}`` become keys. Secrets never reach a log line because the
settings hold them as ``SecretStr`` and only their masked form is ever formatted.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "event": record.getMessage(),
    }
    fields.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
    if record.exc_info:
        fields["exc"] = logging.Formatter().formatException(record.exc_info)
    return fields


def _kv(value: Any) -> str:
    text = str(value)
    if not text or any(ch in text for ch in ' ="\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_kv(v)}" for k, v in _fields(record).items())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(_fields(record), default=str).decode()


def formatter_path(fmt: str) -> str:
    return f"{__name__}.{'JsonFormatter' if fmt == 'json' else 'KeyValueFormatter'}"


def logging_config(fmt: str, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping, also handed to the faust worker."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": formatter_path(fmt)}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"handlers": ["stderr"], "level": level},
        # kafka-python logs every connection at INFO; keep its warnings and errors only.
        "loggers": {"kafka": {"level": "WARNING"}},
    }


def configure(fmt: str, level: str = "INFO") -> None:
    import logging.config

    logging.config.dictConfig(logging_config(fmt, level))
