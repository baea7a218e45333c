"""Manager summary emails: content, escaping, and headers that data cannot break."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from uuid import UUID

import pytest

from herald_mailer.domain.compose import (
    Templates,
    compose,
    describe_criteria,
    in_app_payload,
    message_id,
    money,
    oneline,
)
from herald_mailer.domain.summary import Allocation, Manager, ManagerSummary, Team, TeamMember

ALLOCATION_ID = UUID("6f1c1b8e-1111-4e2e-9d55-2b1d5d0a2f10")
SENDER = "Herald <herald@example.org>"


def _summary(
    *,
    voucher_name: str = "Winter bonus",
    manager_name: str = "Mia Manager",
    members: list[TeamMember] | None = None,
    team_recipients: int | None = None,
) -> ManagerSummary:
    members = (
        members
        if members is not None
        else [
            TeamMember("E1", "Zoë Ñúñez", "Sales", "G3"),
            TeamMember("E2", "Bob Smith", "Sales", "G4"),
        ]
    )
    return ManagerSummary(
        allocation=Allocation(
            ALLOCATION_ID,
            {
                "name": voucher_name,
                "amount": "50.00",
                "currency": "EUR",
                "expires_on": "2030-01-31",
                "code_prefix": "WIN",
            },
            {"departments": ["Sales"], "grades": ["G3", "G4"], "min_years_experience": 2},
            datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
            datetime(2026, 11, 21, 9, 31, tzinfo=UTC),
            140,
        ),
        manager=Manager("M1", manager_name, "mia@example.com", "Sales"),
        members=members,
        team=Team("Sales", 428),
        team_recipients=len(members) if team_recipients is None else team_recipients,
    )


def _roundtrip(summary: ManagerSummary) -> email.message.EmailMessage:
    message = compose(Templates(), summary, sender=SENDER, public_base_url="https://herald.test/")
    raw = message.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def _parts(message: email.message.EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def test_summary_names_the_allocation_the_team_and_the_totals():
    message = _roundtrip(_summary())
    text, html = _parts(message)
    assert message["Subject"] == "Winter bonus: 2 people in your team received it"
    assert message["To"] == "Mia Manager <mia@example.com>"
    assert message["From"] == SENDER
    assert message["Message-ID"] == message_id(ALLOCATION_ID, "M1", "example.org")
    for part in (text, html):
        assert "Zoë Ñúñez" in part
        assert "Bob Smith" in part
        assert "€100.00" in part  # 2 x 50.00, formatted as the console does
        assert "€50.00 each" in part
        assert "Sales" in part
        assert "428 people in Sales" in part  # the team: the whole department
        assert "at least 2 years" in part
        assert "2026-11-21 09:30 UTC" in part
        assert f"https://herald.test/allocations/{ALLOCATION_ID}/team" in part
        assert "/v1/" not in part  # the console page, never the API
        assert "140 people" in part  # the whole allocation
    assert "  - Zoë Ñúñez (E1, Sales, G3)" in text.splitlines()


def test_the_immediate_summary_says_nothing_of_who_has_not_opened_it():
    text, html = _parts(_roundtrip(_summary()))
    for part in (text, html):
        assert "opened" not in part.lower()


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [("21350.00", "EUR", "€21,350.00"), ("5", "USD", "$5.00"), ("7.5", "CHF", "CHF 7.50")],
)
def test_amounts_are_written_with_their_currency(amount, currency, shown):
    assert money(amount, currency) == shown


def test_long_teams_are_listed_up_to_the_limit_and_counted_in_full():
    listed = [TeamMember(f"E{n}", f"Person {n}", "Sales", "G1") for n in range(3)]
    text, html = _parts(_roundtrip(_summary(members=listed, team_recipients=250)))
    assert "... and 247 people more." in text
    assert "247 people more" in html
    assert "250 people of 428, €12,500.00" in text


def test_html_escapes_every_value():
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    summary = _summary(
        voucher_name=hostile,
        manager_name=hostile,
        members=[TeamMember("E1", hostile, "R&D <b>", "G1")],
    )
    _, html = _parts(_roundtrip(summary))
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img" in html
    assert "R&amp;D &lt;b&gt;" in html


def test_line_breaks_in_data_cannot_add_headers_or_lines():
    summary = _summary(
        voucher_name="Bonus\r\nBcc: spy@evil.example",
        manager_name="Mia\r\nBcc: spy@evil.example\nX-Injected: yes",
        members=[TeamMember("E1", "Eve\r\nSubject: fake\u2028Reply-To: x@evil.example", "S", "G1")],
    )
    message = _roundtrip(summary)
    assert message["Bcc"] is None
    assert message["X-Injected"] is None
    assert message["Reply-To"] is None
    assert len(message.get_all("Subject")) == 1
    assert message["Subject"] == "Bonus Bcc: spy@evil.example: 1 person in your team received it"
    assert message["To"].addresses[0].addr_spec == "mia@example.com"
    assert message["To"].addresses[0].display_name == "Mia Bcc: spy@evil.example X-Injected: yes"
    text, _ = _parts(message)
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith(("Bcc:", "Subject:", "Reply-To:"))]
    assert "  - Eve Subject: fake Reply-To: x@evil.example (E1, S, G1)" in lines


@pytest.mark.parametrize(
    "address",
    [
        "mia@example.com\r\nBcc: spy@evil.example",
        "two@at@example.com",
        "nobody",
        "<mia@example.com>",
        "mia@",
        "mia smith@example.com",
    ],
)
def test_unusable_addresses_are_refused(address):
    summary = _summary()
    broken = ManagerSummary(
        summary.allocation,
        Manager("M1", "Mia", address, "Sales"),
        summary.members,
        summary.team,
        summary.team_recipients,
    )
    with pytest.raises(ValueError, match="unusable email address"):
        compose(Templates(), broken, sender=SENDER, public_base_url="https://herald.test")


def test_oneline_flattens_every_kind_of_break():
    assert oneline("a\r\nb\nc\rd\te\x00f\x85g\u2028h\u2029i") == "a b c d e f g h i"
    assert oneline("  padded   out  ") == "padded out"
    assert oneline(None) == ""


def test_criteria_read_as_sentences():
    assert describe_criteria({}) == [("Employees", "everyone")]
    assert describe_criteria({"max_years_experience": 3}) == [("Experience", "at most 3 years")]
    assert describe_criteria({"min_years_experience": 1, "max_years_experience": 3}) == [
        ("Experience", "1 to 3 years")
    ]


def test_in_app_payload_links_to_the_team_page_and_carries_totals():
    payload = in_app_payload(
        _summary().allocation, "M1", Team("Sales", 428), 3, "https://herald.test"
    )
    assert payload["employee_id"] == "M1"
    assert payload["department"] == "Sales"
    assert payload["link"] == f"https://herald.test/allocations/{ALLOCATION_ID}/team"
    assert payload["title"] == "Winter bonus: 3 people in your team received it"
    assert payload["body"] == "3 people of the 428 in Sales received €50.00 each, €150.00 in total."
    assert payload["totals"] == {
        "team_recipients": 3,
        "team_size": 428,
        "allocation_recipients": 140,
        "amount_each": "50.00",
        "amount_total": "150.00",
        "currency": "EUR",
    }


def test_message_ids_are_stable_and_safe_for_any_employee_id():
    first = message_id(ALLOCATION_ID, "a..b-c_d", "example.org")
    assert first == message_id(ALLOCATION_ID, "a..b-c_d", "example.org")
    assert first != message_id(ALLOCATION_ID, "a..b-c_e", "example.org")
    local = first.strip("<>").partition("@")[0]
    assert ".." not in local
