"""Four-eyes approval: which allocations wait for a second hr-admin (env prefix HERALD_APPROVAL_).

One rule for both ways in: the API applies it when an allocation is requested, the inserter
again when it is about to write (the audience may have grown until a scheduled send, and
other systems write `herald.allocation.requested` straight to the topic). Over the rule and
not approved, nothing is written: the allocation waits as `pending_approval`
(docs/decisions/0043).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from herald_common.events import VoucherSpec


class ApprovalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_APPROVAL_", extra="ignore")

    # On by default: an allocation cannot be taken back, so a large one needs two people.
    enabled: bool = True
    # More recipients than this need approval.
    above_recipients: int = Field(default=100, ge=0)
    # A total (amount x recipients) above this, in any currency not listed in above_total.
    above_total_default: Decimal = Field(default=Decimal("10000"), ge=0)
    # Per-currency limits, e.g. {"JPY": "1500000"} (JSON in the environment).
    above_total: dict[str, Decimal] = Field(default_factory=dict)
    # A request nobody approved or rejected within this time expires.
    expires_after_hours: float = Field(default=72.0, gt=0)
    # CloudEvents `source`s of trusted producers whose requests written straight to the
    # topic skip the rule: only as strong as the topic's write ACL (docs/decisions/0043).
    exempt_sources: list[str] = Field(default_factory=list)

    @property
    def expires_after(self) -> timedelta:
        return timedelta(hours=self.expires_after_hours)

    def limit_for(self, currency: str) -> Decimal:
        return self.above_total.get(currency, self.above_total_default)

    def reason(self, matched: int, voucher: VoucherSpec | None) -> str | None:
        """Why an allocation to `matched` employees needs approval; None when it does not
        (without a voucher, as far as the recipient count tells)."""
        if not self.enabled:
            return None
        if matched > self.above_recipients:
            return (
                f"{matched:,} recipients is more than {self.above_recipients:,}:"
                " a second hr-admin must approve it"
            )
        if voucher is None:
            return None
        total = voucher.amount * matched
        limit = self.limit_for(voucher.currency)
        if total > limit:
            return (
                f"a total of {total:,.2f} {voucher.currency} is more than {limit:,.2f}"
                f" {voucher.currency}: a second hr-admin must approve it"
            )
        return None
