"""The four-eyes rule: recipients or total per currency above the limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from herald_common.approval import ApprovalSettings
from herald_common.events import VoucherSpec


def voucher(amount: str, currency: str = "EUR") -> VoucherSpec:
    return VoucherSpec(
        name="Bonus",
        amount=Decimal(amount),
        currency=currency,
        expires_on=date(2040, 1, 1),
        code_prefix="BO",
    )


def test_at_the_limits_no_approval_is_needed():
    assert ApprovalSettings().reason(100, voucher("100.00")) is None


def test_more_recipients_than_the_limit_need_approval():
    reason = ApprovalSettings().reason(101, voucher("1.00"))
    assert reason == "101 recipients is more than 100: a second hr-admin must approve it"


def test_a_total_above_the_limit_needs_approval():
    reason = ApprovalSettings().reason(2, voucher("5000.01"))
    assert reason == (
        "a total of 10,000.02 EUR is more than 10,000.00 EUR: a second hr-admin must approve it"
    )


def test_a_currency_has_its_own_limit():
    settings = ApprovalSettings(above_total={"JPY": Decimal("1500000")})
    assert settings.reason(10, voucher("150000", "JPY")) is None
    assert settings.reason(10, voucher("150000.01", "JPY")) is not None
    assert settings.reason(10, voucher("1000.01", "EUR")) is not None


def test_the_rule_can_be_switched_off():
    assert ApprovalSettings(enabled=False).reason(1_000_000, voucher("1000")) is None


def test_the_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HERALD_APPROVAL_ABOVE_RECIPIENTS", "5")
    monkeypatch.setenv("HERALD_APPROVAL_ABOVE_TOTAL", '{"USD": "50"}')
    settings = ApprovalSettings()
    assert settings.above_recipients == 5
    assert settings.limit_for("USD") == Decimal("50")
