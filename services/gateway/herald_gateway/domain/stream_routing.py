"""Which notifier share a stream goes to, from what its request already carries.

Where notifier processes share the partitions (docs/decisions/0078), a stream must reach
one that reads every department it needs: the employee's own (a ticket's key, or the
`department` claim of the Bearer token or of the session cookie, which holds the token)
and each `private-department-` channel it asks for. Streams of one share go to it; the
rest (departments on several shares, or an unknown department) go to the notifiers that
read everything (`None`). The mapping itself is herald_common.affinity's, the notifiers'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from herald_common.affinity import route_key, stream_share, ticket_key, token_department

STREAM_PATH = "/v1/stream"
_DEPARTMENT_CHANNEL = "private-department-"


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def own_key(ticket: str | None, authorization: str | None, cookie: str | None) -> int | None:
    """The key of the caller's department, from the credential the notifier will check
    (a ticket first, then the Bearer header, then the cookie, as it does)."""
    if ticket is not None:
        return ticket_key(ticket)
    token = _bearer(authorization) or cookie
    department = None if token is None else token_department(token)
    return None if department is None else route_key(department)


def stream_share_of(
    query: Mapping[str, Sequence[str]],
    authorization: str | None,
    cookie: str | None,
    shares: int,
) -> int | None:
    """The share (of `shares`) of a `GET /v1/stream` with this query and these
    credentials; None for the notifiers that read every partition."""
    if shares < 2:
        return None
    tickets = query.get("ticket")
    keys = [own_key(tickets[0] if tickets else None, authorization, cookie)]
    for value in query.get("channels", ()):
        for name in value.split(","):
            if name.startswith(_DEPARTMENT_CHANNEL) and len(name) > len(_DEPARTMENT_CHANNEL):
                keys.append(route_key(name[len(_DEPARTMENT_CHANNEL) :]))
    return stream_share(keys, shares)
