"""structlog set-up: JSON lines on stdout, level from config."""

from __future__ import annotations

import io
import logging
import sys

import orjson
import structlog


def configure(level: str = "info") -> None:
    # One line per event, written at once: uvicorn ends a graceful shutdown by re-raising
    # SIGTERM, which kills the process without flushing a block-buffered stdout.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # BytesLogger flushes after every line itself
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, format="%(message)s")
    # httpx logs every request line at INFO: noise on the hot path, and URLs may carry secrets.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            # orjson renders bytes several times faster than json.dumps: one line per request.
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.BytesLoggerFactory(),
        cache_logger_on_first_use=True,
    )
