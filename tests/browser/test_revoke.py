"""Revoking in real Chromium: hr-admin A revokes a completed allocation for one employee,
with a reason and an explicit confirmation, and that employee's open inbox shows the
revocation live; a colleague of theirs keeps a valid voucher."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import BrowserStack
from tests.browser.helpers import new_person, shoot, sign_in
from tests.support.api import import_employees, voucher, wait_until_finished

ADMIN, REVOKED, KEPT = "RVK-A1", "RVK-E1", "RVK-E2"
TEAM = "Revocation-Team"
PEOPLE = (
    "employee_id,name,email,department,grade,hired_on,manager_id\n"
    f"{ADMIN},Ada Revell,ada@example.com,HR,G6,2012-02-01,\n"
    f"{REVOKED},Rui Vaz,rui@example.com,{TEAM},G4,2016-06-01,\n"
    f"{KEPT},Kim Berg,kim@example.com,{TEAM},G4,2016-06-01,\n"
)
NAME = "Quarter bonus (revoke test)"
REASON = "Sent to the wrong person"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def allocation_id(services, herald_env) -> str:
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        response = await import_employees(api, PEOPLE)
        assert response.status_code == 200, response.text
        response = await api.post(
            "/v1/allocations",
            json={"voucher": voucher(NAME, prefix="QRT"), "criteria": {"departments": [TEAM]}},
        )
        assert response.status_code == 202, response.text
        allocation: str = response.json()["id"]
        assert (await wait_until_finished(api, allocation))["status"] == "completed"
    return allocation


async def test_an_admin_revokes_and_the_employee_sees_it_live(
    browser, browser_stack: BrowserStack, allocation_id, console, contexts, output_dir
):
    url = browser_stack.url
    admin = await new_person(contexts, browser, console, "hr-admin")
    revoked = await new_person(contexts, browser, console, "revoked-employee")
    kept = await new_person(contexts, browser, console, "kept-employee")
    await sign_in(admin, url, ADMIN, "hr-admin")
    await sign_in(revoked, url, REVOKED, "employee")
    await sign_in(kept, url, KEPT, "employee")
    for page in (revoked, kept):
        await expect(page.get_by_test_id("inbox-row")).to_have_count(1)
        await expect(page.get_by_test_id("inbox-row").first).to_contain_text(NAME)

    # The admin opens the completed allocation and fills in the revocation.
    await admin.get_by_role(
        "button", name=re.compile(rf"^Show progress of {re.escape(NAME)}")
    ).click()
    await expect(admin.get_by_test_id("progress")).to_have_attribute("data-status", "completed")
    panel = admin.get_by_test_id("revoke")
    start = panel.get_by_role("button", name="Revoke…")
    await expect(start).to_be_disabled()  # no reason yet
    await panel.get_by_label("Reason (shown to the employees)").fill(REASON)
    await panel.get_by_label("Only these employees").check()
    await panel.get_by_label("Employee ids (separated by commas or new lines)").fill(REVOKED)
    await start.click()
    # Nothing is sent before the explicit confirmation.
    confirm = panel.get_by_role("button", name="Yes, revoke 1 voucher")
    await expect(confirm).to_be_visible()
    await expect(panel.get_by_role("alertdialog")).to_contain_text("cannot be undone")
    await shoot(admin, output_dir, "revoke-confirm")
    # Two clicks in a row: one revocation.
    await confirm.dblclick()
    result = admin.get_by_test_id("revoke-result")
    await expect(result.get_by_role("status")).to_have_attribute(
        "data-status", "completed", timeout=30_000
    )
    await expect(result).to_contain_text("Revoked 1 voucher")

    # Live in Rui's inbox: the notice arrives and the voucher shows as revoked.
    rows = revoked.get_by_test_id("inbox-row")
    await expect(rows).to_have_count(2, timeout=15_000)
    notice = rows.first
    await expect(notice).to_have_attribute("data-kind", "herald.voucher.revoked")
    await expect(notice).to_contain_text(REASON)
    original = rows.nth(1)
    await expect(original).to_have_attribute("data-revoked", "true")
    await expect(original.get_by_test_id("revoked-note")).to_contain_text(REASON)
    await expect(revoked.get_by_test_id("announcer")).to_have_text(f"Voucher revoked: {NAME}")
    await shoot(revoked, output_dir, "inbox-revoked")

    # After a reload the API says the same, and nothing is doubled.
    await revoked.reload()
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_have_attribute("data-revoked", "true")

    # Kim's voucher stands.
    await asyncio.sleep(1)
    await expect(kept.get_by_test_id("inbox-row")).to_have_count(1)
    await expect(kept.get_by_test_id("inbox-row").first).not_to_have_attribute(
        "data-revoked", "true"
    )
