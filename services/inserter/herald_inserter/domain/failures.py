"""Why a request failed, in words for the people who asked, beside the technical cause.

An HR admin reads `failure_reason` in the console: what happened, what was or was not
written, and what to do next. The exception's own text goes to `failure_detail`, for
operators, never in place of the explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from aiokafka.errors import KafkaError

from herald_common.dead_letter import describe
from herald_inserter.domain.transactions import TransactionBudgetExceeded

_NOTHING_WRITTEN = "Nothing was written and nobody was notified"


@dataclass(frozen=True, slots=True)
class Failure:
    reason: str
    detail: str | None = None


def unknown_departments(departments: list[str]) -> Failure:
    names = ", ".join(departments)
    return Failure(
        f"The rule names department(s) no employee belongs to: {names}. {_NOTHING_WRITTEN}."
        " Correct the departments and request the allocation again.",
        f"unknown department(s): {names}",
    )


def no_recipients() -> Failure:
    return Failure(
        f"The rule matched no employee when the allocation was sent. {_NOTHING_WRITTEN}."
        " Check the rule (departments, grades, years of experience) and request it again.",
        "the criteria matched 0 employees",
    )


def gave_up(exc: BaseException, *, what: str, written: int) -> Failure:
    """After the retries ran out: the cause by kind, and what the recipients have."""
    if isinstance(exc, TransactionBudgetExceeded):
        cause = (
            f"The {what} took longer than the {exc.budget_seconds:g} s Herald allows for"
            " writing and publishing one request, on every try"
        )
    elif isinstance(exc, psycopg.Error):
        cause = "Herald's database refused the write"
    elif isinstance(exc, KafkaError):
        cause = "Herald could not publish the notifications to Kafka"
    else:
        cause = "An unexpected error stopped the work"
    if written == 0 and isinstance(exc, TransactionBudgetExceeded):
        # Requested again as it was, it would run out of time again.
        outcome = (
            f"{_NOTHING_WRITTEN}. Request it for fewer people at a time (for example one"
            " department per request), or ask an operator to raise"
            " HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS or lower"
            " HERALD_INSERTER_CHUNK_EMPLOYEES."
        )
    elif written == 0:
        outcome = f"{_NOTHING_WRITTEN}, so it is safe to request the {what} again."
    else:
        outcome = (
            f"{written:,} inbox entries were written, so recipients see them in their inbox,"
            " but live notifications may be missing. Do not request it again: ask an operator"
            " to look at the inserter's logs with the detail below."
        )
    return Failure(f"{cause}. {outcome}", describe(exc))
