"""Where the gateway sends a stream when notifiers share the partitions (decision 0078)."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from herald_common.affinity import (
    format_key,
    route_key,
    routed_ticket,
    ticket_key,
    token_department,
)
from herald_gateway.domain.stream_routing import own_key, stream_share_of

SALES, OPERATIONS, ENGINEERING = "Sales", "Operations", "Engineering"  # shares 0, 0, 1 of 2


def token(**claims: object) -> str:
    return jwt.encode({"sub": "E1", **claims}, "any-secret-of-sufficient-length-for-hs256", "HS256")


def bearer(department: str | None) -> str:
    return f"Bearer {token(department=department)}"


def test_the_departments_used_here_fall_on_the_shares_the_tests_say() -> None:
    assert [route_key(d) % 2 for d in (SALES, OPERATIONS, ENGINEERING)] == [0, 0, 1]


def test_a_bearer_tokens_department_claim_routes_its_stream() -> None:
    assert stream_share_of({}, bearer(ENGINEERING), None, 2) == 1
    assert stream_share_of({}, bearer(SALES), None, 2) == 0


def test_the_session_cookies_department_claim_routes_its_stream() -> None:
    assert stream_share_of({}, None, token(department=ENGINEERING), 2) == 1


def test_the_bearer_header_is_read_before_the_cookie() -> None:
    assert stream_share_of({}, bearer(SALES), token(department=ENGINEERING), 2) == 0


def test_a_ticket_routes_by_the_key_it_was_issued_with() -> None:
    ticket = routed_ticket("secret-part", ENGINEERING)
    assert ticket == f"{format_key(route_key(ENGINEERING))}.secret-part"
    # The ticket says who is asking; a cookie sent along does not decide.
    assert stream_share_of({"ticket": [ticket]}, None, token(department=SALES), 2) == 1


def test_a_ticket_without_a_key_goes_to_all() -> None:
    assert stream_share_of({"ticket": ["plain-secret"]}, bearer(SALES), None, 2) is None


def test_a_token_without_a_department_claim_goes_to_all() -> None:
    assert stream_share_of({}, f"Bearer {token()}", None, 2) is None


def test_a_request_without_credentials_goes_to_all() -> None:
    assert stream_share_of({}, None, None, 2) is None


def test_a_watcher_of_departments_on_its_own_share_goes_to_it() -> None:
    query = {"channels": [f"private-department-{SALES},private-department-{OPERATIONS}"]}
    assert stream_share_of(query, bearer(OPERATIONS), None, 2) == 0


def test_a_watcher_of_departments_on_several_shares_goes_to_all() -> None:
    query = {"channels": [f"private-department-{SALES}", f"private-department-{ENGINEERING}"]}
    assert stream_share_of(query, bearer(SALES), None, 2) is None


def test_a_watcher_of_another_shares_department_goes_to_all() -> None:
    query = {"channels": [f"private-department-{ENGINEERING}"]}
    assert stream_share_of(query, bearer(SALES), None, 2) is None


def test_allocation_channels_do_not_move_a_stream() -> None:
    query = {"channels": ["private-allocation-6f1c1b8e-1111-4e2e-9d55-2b1d5d0a2f10"]}
    assert stream_share_of(query, bearer(ENGINEERING), None, 2) == 1


def test_with_fewer_than_two_shares_everything_goes_to_all() -> None:
    assert stream_share_of({}, bearer(ENGINEERING), None, 1) is None


@pytest.mark.parametrize(
    "value",
    [
        "not-a-token",
        "a.b",
        "a.!!!.c",
        "a." + base64.urlsafe_b64encode(b"[1, 2]").decode() + ".c",
        "a." + base64.urlsafe_b64encode(json.dumps({"department": 7}).encode()).decode() + ".c",
        "a." + base64.urlsafe_b64encode(json.dumps({"department": ""}).encode()).decode() + ".c",
        "a." + "A" * 9000 + ".c",
    ],
)
def test_what_is_not_a_token_with_a_department_names_none(value: str) -> None:
    assert token_department(value) is None
    assert own_key(None, f"Bearer {value}", None) is None


def test_a_claim_is_read_from_unpadded_base64url() -> None:
    assert token_department(token(department="Recherche & Développement")) == (
        "Recherche & Développement"
    )


@pytest.mark.parametrize("ticket", ["", "no-key", "zzzzzzzz.secret", "1234.secret"])
def test_a_ticket_without_a_well_formed_key_has_none(ticket: str) -> None:
    assert ticket_key(ticket) is None


def test_a_scheme_other_than_bearer_is_no_credential() -> None:
    assert own_key(None, f"Basic {token(department=SALES)}", None) is None
