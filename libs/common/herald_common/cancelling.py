"""Stopping a task for certain: a cancellation is delivered again until the task ends.

On Python 3.11, `asyncio.wait_for` returns its result instead of raising when the
cancellation arrives in the same loop iteration as that result (gh-86296, fixed in 3.12
by reimplementing it on `asyncio.timeout`). aiosmtplib awaits every SMTP reply through
it, and so do parts of aiokafka. A task cancelled once while its SMTP server answered
went on with its next email and its next record, and the mailer's shutdown awaited it
for ever: the pod would have been SIGKILLed at the end of its grace, with an email in
hand. Cancelling again until the task is done is what anyio's cancel scopes do for the
same reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

# Long enough for a `finally` that closes a connection to finish before it is cut short;
# short against every service's drain (5 s at least, docs/decisions/0064).
AGAIN_AFTER_SECONDS = 0.5


async def cancel_and_wait(
    task: asyncio.Task[Any], again_after: float = AGAIN_AFTER_SECONDS
) -> None:
    """Cancel `task` and wait until it has ended, cancelling again while it runs on.

    What the task ended with (a result, an error, the cancellation) is left on the task
    for the caller to read. A cancellation of the caller propagates as usual.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=again_after)
