"""Logging set-up used by every service's entry point: one JSON object per line.

Fields given with `extra=` (allocation_id, event_id, ...) become top-level keys, so a log
pipeline can find every line about one allocation or one event without parsing messages.
Credentials carried in URLs (stream tickets, channel signatures) are redacted from every line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    # uvicorn repeats each message with terminal colours under this name.
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # The whole line: an exception's text, a stack or an `extra=` value may hold a URL too.
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


# Stream tickets and channel signatures travel in URLs (EventSource cannot send headers),
# so access-log lines would carry them; nothing that grants access may be written to a log.
# A parameter is found wherever its name starts a word: after ? or &, and also where a URL
# or a query is quoted (`QueryParams('ticket=...')`); its value ends where a URL's would.
_SECRET_NAMES = ("ticket", "channel_auth", "token", "access_token")
_SECRET_PARAMS = re.compile(rf"(\b(?:{'|'.join(map(re.escape, _SECRET_NAMES))})=)[^&#\s\"'\\]*")
# What a line holds if the regex can match it at all.
_SECRET_MARKERS = tuple(f"{name}=" for name in _SECRET_NAMES)


def redact(text: str) -> str:
    # Most lines name none of the parameters: a few substring tests (C) spare them the
    # regex, which walks the whole line and was a quarter of an access line's 20 µs.
    for marker in _SECRET_MARKERS:
        if marker in text:
            return _SECRET_PARAMS.sub(r"\1[redacted]", text)
    return text


class RedactSecrets(logging.Filter):
    """Redacts the message as it will read, for whichever handler gets the record.

    The message is formatted here because any argument may carry a URL, not only a str:
    httpx logs each request it sends with an `httpx.URL`, which the gateway's are.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # Arguments that do not fit the message: the handler reports that, with them.
            record.msg = redact(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(redact(repr(a)) for a in record.args)
            return True
        record.msg, record.args = redact(message), None
        return True


def configure_logging(level: str = "INFO") -> None:
    # No line shows the thread or the process, so records need not look them up (the
    # logging HOWTO's "Optimization"): every stream open writes an access line.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # aiokafka logs every metadata refresh at INFO; that drowns the service's own lines.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
