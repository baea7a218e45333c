"""Summary -> email and in-app text. Every value from the directory or a request is data.

HTML is rendered with autoescaping; the plain-text part and every header get values
flattened to one line, so a name holding CR/LF can neither add a header nor fake lines
of the message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from uuid import UUID

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from herald_common.events import ALLOCATION_SUMMARY, REVOCATION_SUMMARY
from herald_mailer.domain.summary import (
    Allocation,
    ManagerSummary,
    Revocation,
    RevocationSummary,
    Team,
)

# C0/C1 controls and the Unicode line and paragraph separators.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s{2,}")


def oneline(value: object) -> str:
    """The value as one line of text: control characters become spaces."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    return _SPACES.sub(" ", text).strip()


# Symbols written before the amount, as the console's Intl.NumberFormat("en") writes them;
# other currencies lead with their code ("CHF 21,350.00").
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


def money(value: Decimal | str, currency: str) -> str:
    """An amount with its currency, as the console shows it: "€21,350.00"."""
    text = f"{Decimal(str(value)):,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{currency} {text}"


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def describe_criteria(criteria: dict[str, Any]) -> list[tuple[str, str]]:
    """The allocation's rule as (label, value) lines; no criteria means everyone."""
    lines = []
    if criteria.get("departments"):
        lines.append(("Departments", ", ".join(criteria["departments"])))
    if criteria.get("grades"):
        lines.append(("Grades", ", ".join(criteria["grades"])))
    low, high = criteria.get("min_years_experience"), criteria.get("max_years_experience")
    if low is not None and high is not None:
        lines.append(("Experience", f"{low} to {high} years"))
    elif low is not None:
        lines.append(("Experience", f"at least {low} years"))
    elif high is not None:
        lines.append(("Experience", f"at most {high} years"))
    return lines or [("Employees", "everyone")]


def team_page(public_base_url: str, allocation_id: UUID) -> str:
    """The console page of the manager's team's part of an allocation (the gateway's SPA)."""
    return f"{public_base_url.rstrip('/')}/allocations/{allocation_id}/team"


def title(allocation: Allocation, team_recipients: int) -> str:
    return oneline(
        f"{allocation.voucher['name']}: {people(team_recipients)} in your team received it"
    )


def in_app_payload(
    allocation: Allocation,
    manager_id: str,
    team: Team,
    team_recipients: int,
    public_base_url: str,
) -> dict[str, Any]:
    """Data of the manager's `herald.allocation.summary` notification (and inbox row)."""
    amount, currency = allocation.amount, allocation.currency
    total = amount * team_recipients
    return {
        "allocation_id": str(allocation.allocation_id),
        "employee_id": manager_id,
        "department": team.department,
        "title": title(allocation, team_recipients),
        "body": (
            f"{people(team_recipients)} of the {team.size} in {team.department} received"
            f" {money(amount, currency)} each, {money(total, currency)} in total."
        ),
        "link": team_page(public_base_url, allocation.allocation_id),
        "totals": {
            "team_recipients": team_recipients,
            "team_size": team.size,
            "allocation_recipients": allocation.recipients,
            "amount_each": f"{amount:.2f}",
            "amount_total": f"{total:.2f}",
            "currency": currency,
        },
    }


def revocation_title(revocation: Revocation, team_revoked: int) -> str:
    return oneline(
        f"{revocation.allocation.voucher['name']}: revoked from {people(team_revoked)} in your team"
    )


def revocation_payload(
    revocation: Revocation,
    manager_id: str,
    department: str,
    team_revoked: int,
    public_base_url: str,
) -> dict[str, Any]:
    """Data of the manager's `herald.revocation.summary` notification (and inbox row)."""
    amount, currency = revocation.allocation.amount, revocation.allocation.currency
    total = amount * team_revoked
    return {
        "revocation_id": str(revocation.revocation_id),
        "allocation_id": str(revocation.allocation_id),
        "employee_id": manager_id,
        "department": department,
        "title": revocation_title(revocation, team_revoked),
        "body": (
            f"The voucher of {people(team_revoked)} in your team was revoked"
            f" ({money(amount, currency)} each, {money(total, currency)} in total)."
            f" Reason: {revocation.reason}"
        ),
        "reason": revocation.reason,
        "link": team_page(public_base_url, revocation.allocation_id),
        "totals": {
            "team_revoked": team_revoked,
            "revoked": revocation.revoked,
            "amount_each": f"{amount:.2f}",
            "amount_total": f"{total:.2f}",
            "currency": currency,
        },
    }


def message_id(subject_id: UUID, manager_id: str, domain: str) -> str:
    """The same id for the same (allocation or revocation, manager), so any copy is
    recognisably one mail."""
    return f"<summary.{subject_id}.{manager_id.encode().hex()}@{domain}>"


class Templates:
    """The summary templates; built once per app (in the lifespan), never at import."""

    def __init__(self) -> None:
        loader = PackageLoader("herald_mailer", "templates")
        self._html = Environment(
            loader=loader,
            autoescape=select_autoescape(["html"], default=True),
            undefined=StrictUndefined,
        )
        # Plain text is not HTML: every value is made safe by `oneline` instead.
        self._text = Environment(
            loader=loader,
            autoescape=False,  # noqa: S701
            undefined=StrictUndefined,
            finalize=oneline,
        )
        for env in (self._html, self._text):
            env.filters.update(money=money, when=when, people=people)

    def render(self, summary: ManagerSummary | RevocationSummary, link: str) -> tuple[str, str]:
        """(plain text, HTML) of one summary."""
        context = {
            "summary": summary,
            "allocation": summary.allocation,
            "voucher": summary.allocation.voucher,
            "criteria": describe_criteria(summary.allocation.criteria),
            "manager": summary.manager,
            "link": link,
        }
        name = "revocation" if isinstance(summary, RevocationSummary) else "summary"
        text = self._text.get_template(f"{name}.txt").render(context)
        html = self._html.get_template(f"{name}.html").render(context)
        return text, html


def compose(
    templates: Templates,
    summary: ManagerSummary | RevocationSummary,
    *,
    sender: str,
    public_base_url: str,
) -> EmailMessage:
    """The email for one summary. Raises ValueError for an address that cannot be used."""
    allocation, manager = summary.allocation, summary.manager
    address = manager.email.strip()
    unusable = ValueError(f"unusable email address for {manager.employee_id}")
    if oneline(address) != address or address.count("@") != 1:
        raise unusable
    try:
        recipient = Address(display_name=oneline(manager.name), addr_spec=address)
    except (ValueError, IndexError, MessageError) as exc:
        # The stdlib parser signals a bad address in several ways, not all ValueError.
        raise unusable from exc
    if isinstance(summary, RevocationSummary):
        subject, kind = (
            revocation_title(summary.revocation, summary.team_revoked),
            REVOCATION_SUMMARY,
        )
        about = summary.revocation.revocation_id
    else:
        subject, kind = title(allocation, summary.team_recipients), ALLOCATION_SUMMARY
        about = allocation.allocation_id
    # Both open the team's part of the allocation in the console, where revoked
    # vouchers show as revoked.
    link = team_page(public_base_url, allocation.allocation_id)
    text, html = templates.render(summary, link)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id(
        about, manager.employee_id, parseaddr(sender)[1].rpartition("@")[2]
    )
    message["X-Herald-Kind"] = kind
    message["X-Herald-Allocation"] = str(allocation.allocation_id)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
