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


# One encoder for every line: `json.dumps` with options builds a new one on each call.
_ENCODE = json.JSONEncoder(default=str, ensure_ascii=False).encode


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the `extra=` fields.

    Every stream open and every ticket writes an access line, so the line's cost is an open's
    cost: the time's text up to the second is kept for the next line of the same second, and
    the `extra=` fields are found with one set difference (docs/decisions/0090).
    """

    def __init__(self) -> None:
        super().__init__()
        # (whole seconds since the epoch, their ISO text): one tuple, so a reader on another
        # thread sees a matching pair.
        self._second: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        second = int(created)
        # As `datetime.fromtimestamp(created).isoformat(timespec="milliseconds")`: the
        # microseconds rounded half to even (into the next second at 1,000,000), then the
        # milliseconds truncated.
        micro = round((created - second) * 1e6)
        if micro == 1_000_000:
            second, micro = second + 1, 0
        cached, text = self._second
        if second != cached:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, text)
        return f"{text}.{micro // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        attributes = vars(record)
        if attributes.keys() - _RECORD_ATTRIBUTES:  # rare: most lines carry no extra field
            for key, value in attributes.items():
                if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                    entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # The whole line: an exception's text, a stack or an `extra=` value may hold a URL too.
        return redact(_ENCODE(entry))


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
    # Nor the caller's file, line or function: without `_srcfile` no record walks the stack
    # for them (the same table of the HOWTO); 2.5 µs of each access line here.
    logging._srcfile = None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # aiokafka logs every metadata refresh at INFO; that drowns the service's own lines.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
