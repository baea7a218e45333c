"""A service's background tasks, kept running: one that fails is logged and restarted.

A background task is a loop meant to run as long as the service (a Kafka consumer, a
relay, a heartbeat). Nothing awaits it until shutdown, so one that ended with an error
used to leave the process up, answering probes, and deaf: a notifier whose consumer had
stopped kept its streams open with pings and no events. The supervisor restarts such a
task after a backoff (`herald_common.retry`, docs/decisions/0038), logs each failure
under the task's name, and reports the task as down meanwhile, which readiness answers
with a 503 (`herald_web.health.tasks`).

What a restart means is the task's: the supervisor calls its `work` again for a new
coroutine, so the object behind it decides where it goes on from (the notifier's consumer
from its position, the mailer's from its first record not committed; see their modules).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter

from herald_common.cancelling import cancel_and_wait
from herald_common.dead_letter import describe
from herald_common.retry import RetryPolicy

logger = logging.getLogger(__name__)

# Restarts wait 1 s, then twice as long each time up to 30 s: soon enough for a one-off
# failure, and a failure that repeats (the broker away) is not hammered.
RESTARTS = RetryPolicy(max_attempts=1, initial_seconds=1.0, max_seconds=30.0)


def restart_counter(service: str, registry: CollectorRegistry) -> Counter:
    """A service's count of restarted background tasks, by task, for its metrics."""
    return Counter(
        f"herald_{service}_task_restarts_total",
        "Background tasks restarted after they failed, by task",
        ["task"],
        registry=registry,
    )


class Supervisor:
    """Runs background tasks until `resources` close; restarts any that fails.

    `restarts` counts the restarts by task (`restart_counter`). Each task stops when
    `resources` close, in the reverse order of the starts and before what `resources` held
    when it started (the pool, the producer). Restarts are not limited (the policy's
    `max_attempts` is not used): a service does not give up its consumer, it reports it
    down for as long as it is. A run that lasted longer than the policy's longest wait
    counts as recovered, so its failure waits the first delay again.
    """

    def __init__(
        self,
        resources: contextlib.AsyncExitStack,
        restarts: Counter,
        policy: RetryPolicy = RESTARTS,
    ) -> None:
        self._resources = resources
        self._restarts = restarts
        self._policy = policy
        # name -> why it is down, in the order they went down
        self._down: dict[str, str] = {}

    @property
    def down(self) -> dict[str, str]:
        """The tasks waiting to be restarted, with why they stopped (empty: all up)."""
        return dict(self._down)

    def start(self, name: str, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run `work()` as the task `name`, and again each time it fails."""
        task = asyncio.create_task(self._keep_running(name, work), name=name)
        self._resources.push_async_callback(_cancel, task)
        return task

    async def _keep_running(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        backoff = self._policy.backoff()
        while True:
            began = loop.time()
            failure: Exception | None = None
            try:
                await work()
            except Exception as exc:
                failure = exc
            if loop.time() - began > self._policy.max_seconds:
                backoff.reset()
            if failure is None:
                # A loop that ends by itself leaves the service as deaf as a crashed one.
                reason = "returned"
                logger.error("%s returned; restarting in %.1fs", name, backoff.delay)
            else:
                reason = " ".join(describe(failure).split())  # one line, for /readyz
                logger.error(
                    "%s failed; restarting in %.1fs", name, backoff.delay, exc_info=failure
                )
            self._down[name] = reason
            try:
                await backoff.wait()
            finally:
                del self._down[name]
            self._restarts.labels(name).inc()


async def _cancel(task: asyncio.Task[None]) -> None:
    await cancel_and_wait(task)
    # A failure was logged when it happened; shutdown goes on to close the rest.
    if not task.cancelled():
        task.exception()
