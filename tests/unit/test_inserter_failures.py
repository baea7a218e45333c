"""The inserter's reasons for people when a request fails, and the detail for operators."""

from __future__ import annotations

from herald_inserter.domain.failures import gave_up
from herald_inserter.domain.transactions import TransactionBudgetExceeded


def test_over_budget_with_nothing_written_says_how_to_get_through():
    failure = gave_up(TransactionBudgetExceeded(60), what="allocation", written=0)
    assert failure.reason.startswith(
        "The allocation took longer than the 60 s Herald allows for writing and publishing"
        " one request, on every try. Nothing was written and nobody was notified."
    )
    # Not "safe to request again": as it was, it would run out of time again.
    assert "safe to request" not in failure.reason
    assert "fewer people" in failure.reason
    assert "HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS" in failure.reason
    # The budget bounds one chunk of an allocation (0068): smaller chunks fit it.
    assert "HERALD_INSERTER_CHUNK_EMPLOYEES" in failure.reason
    assert failure.detail is not None
    assert failure.detail.startswith("TransactionBudgetExceeded: the transaction outlived")


def test_over_budget_after_rows_were_written_says_not_to_request_again():
    failure = gave_up(TransactionBudgetExceeded(60), what="notification", written=1200)
    assert failure.reason.startswith("The notification took longer than the 60 s")
    assert "1,200 inbox entries were written" in failure.reason
    assert "Do not request it again" in failure.reason
