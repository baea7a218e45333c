"""RS256 signing keys from an identity provider's JWKS URL, fetched without blocking.

The fetch is asynchronous (httpx), so a slow provider holds up only the requests that need
its keys, never the event loop with every other request and stream on it. The keys are
cached and used for `max_age` seconds; older keys are still used while a fresh set is
fetched in the background. A token naming a `kid` the cache lacks fetches the keys again
(the provider rotated) and waits for them. At most one fetch runs at a time, and fetches
are at least `min_interval` apart whatever asks for them, so tokens with random kids cannot
make us hammer the provider, and a failure is remembered for that long. Keys fetched before
a failure stay in use up to `stale_for` seconds past their age. A request that finds no
usable keys gets `KeysUnavailable`, which the HTTP layer answers with 503 and Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from jwt import PyJWK, PyJWKSet

logger = logging.getLogger(__name__)

Fetch = Callable[[str, float], Awaitable[PyJWKSet]]


class KeysUnavailable(Exception):
    """The signing keys cannot be had now; `retry_after` says when asking again may help."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the identity provider's signing keys cannot be fetched; retry later")
        self.retry_after = retry_after


async def fetch_jwks(url: str, within: float) -> PyJWKSet:
    """The key set at `url`, fetched within `within` seconds in all."""
    async with asyncio.timeout(within), httpx.AsyncClient(timeout=within) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        return PyJWKSet.from_dict(response.json())


@dataclass(frozen=True, slots=True)
class JwksPolicy:
    """How long keys serve, how often they may be fetched, how long a fetch may take."""

    max_age: float = 300.0
    min_interval: float = 10.0
    timeout: float = 5.0
    # How long past `max_age` keys still serve while the provider cannot be reached.
    stale_for: float = 3600.0


class RemoteJwks:
    def __init__(
        self,
        url: str,
        policy: JwksPolicy,
        *,
        fetch: Fetch = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the JWKS URL must be http(s)")
        self.url = url
        self.policy = policy
        self._fetch = fetch
        self._clock = clock
        self._keys: PyJWKSet | None = None
        self._loaded_at = 0.0
        self._attempted_at: float | None = None
        self._failed = False
        self._fetching: asyncio.Task[None] | None = None

    async def key(self, kid: str | None) -> Any | None:
        """The RSA key the token's `kid` names (the only one, when it names none), or None.

        Raises KeysUnavailable when there are no usable keys, or when the kid is unknown
        and the keys could not be fetched again to look for it.
        """
        if not self._usable():
            await self._refresh()
            if not self._usable():
                raise KeysUnavailable(self._retry_after())
        elif self._age() >= self.policy.max_age:
            self._start_refresh()  # for the next requests; this one uses the keys it has
        found = match_key(self._keys, kid)
        if found is None:
            await self._refresh()
            found = match_key(self._keys, kid)
        if found is None and self._failed:
            raise KeysUnavailable(self._retry_after())
        return None if found is None else found.key

    def _usable(self) -> bool:
        return self._keys is not None and self._age() < self.policy.max_age + self.policy.stale_for

    def _age(self) -> float:
        return self._clock() - self._loaded_at

    def _retry_after(self) -> int:
        if self._attempted_at is None:
            return 1
        wait = self._attempted_at + self.policy.min_interval - self._clock()
        return max(1, math.ceil(wait))

    def _start_refresh(self) -> None:
        """Start a fetch unless one runs or the last began less than `min_interval` ago."""
        if self._fetching is not None:
            return
        now = self._clock()
        if self._attempted_at is not None and now - self._attempted_at < self.policy.min_interval:
            return
        self._attempted_at = now
        self._fetching = asyncio.create_task(self._fetch_keys(), name="jwks-fetch")

    async def _refresh(self) -> None:
        """Wait for a fetch: the running one, or a new one if one may start."""
        self._start_refresh()
        if self._fetching is not None:
            # Shielded: a caller that gives up (its client left) leaves the fetch to the rest.
            await asyncio.shield(self._fetching)

    async def _fetch_keys(self) -> None:
        try:
            keys = await self._fetch(self.url, self.policy.timeout)
        except Exception as exc:  # whatever went wrong, the answer is the same: no new keys
            self._failed = True
            logger.warning(
                "fetching the signing keys from %s failed: %s: %s",
                self.url,
                type(exc).__name__,
                exc,
            )
        else:
            self._keys, self._loaded_at, self._failed = keys, self._clock(), False
        finally:
            self._fetching = None


def match_key(keys: PyJWKSet | None, kid: str | None) -> PyJWK | None:
    """The one RSA key named `kid` (the only RSA key, for a token naming none), or None."""
    if keys is None:
        return None
    found = [k for k in keys.keys if k.key_type == "RSA" and (kid is None or k.key_id == kid)]
    return found[0] if len(found) == 1 else None
