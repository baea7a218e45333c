"""The runtime a service's lifespan builds, read back by its routes from `app.state`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request

R = TypeVar("R")


def runtime_getter(kind: type[R]) -> Callable[[Request], R]:
    """`get_runtime(request)` for a service whose lifespan sets `app.state.runtime`.

    Usable as a FastAPI dependency too. `kind` only types the answer: the lifespan is
    the one place that sets it, so it is not checked on every request.
    """

    def get_runtime(request: Request) -> R:
        runtime: R = request.app.state.runtime
        return runtime

    return get_runtime
