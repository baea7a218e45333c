"""Four eyes and scheduling in real Chromium, over the real services.

Two HR admins: A requests an allocation over the approval rule, B approves it, and the
employee's open inbox shows the voucher live; nothing reaches anyone before. A schedules
another and cancels it, and nobody is told. The page is served by a gateway in front of an
allocation service with the approval rule on (more than 3 recipients); the session's
inserter and the browser tests' notifier do the rest. The departments are this module's own.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import (
    REVIEWED,
    fill_voucher,
    new_person,
    shoot,
    sign_in,
    tick_department,
)
from tests.support.api import employees_csv, import_employees

pytestmark = pytest.mark.integration

ADMIN_A, ADMIN_B = "LCB-A1", "LCB-A2"
HIRED = date.today() - timedelta(days=2 * 365)
# Four people: over the rule's three.
WAREHOUSE = [
    ("LCB-W1", "Hana Sato"),
    ("LCB-W2", "Ivo Petrov"),
    ("LCB-W3", "Jonas Berg"),
    ("LCB-W4", "Kaja Novak"),
]
# One person: under the rule, scheduled and cancelled.
ARCHIVE = [("LCB-R1", "Lucia Ferri")]


@pytest.fixture(scope="module")
async def people(services, herald_env) -> None:
    rows = [
        (ADMIN_A, "Amara Okafor", "HR", "G6", date(2014, 2, 1)),
        (ADMIN_B, "Bjorn Lind", "HR", "G6", date(2016, 9, 1)),
    ]
    rows += [(i, n, "Warehouse", "G2", HIRED) for i, n in WAREHOUSE]
    rows += [(i, n, "Archive", "G2", HIRED) for i, n in ARCHIVE]
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        response = await import_employees(api, employees_csv(rows))
        assert response.status_code == 200, response.text


def notifications_of(database_url: str, employee_id: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM notifications WHERE employee_id = %s", (employee_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def inbox_rows(page: Page):
    return page.get_by_test_id("inbox-row")


async def send_reviewed(page: Page, button: str) -> None:
    """On the open review: wait for the figures, tick the review, send."""
    review = page.get_by_test_id("review")
    await expect(review.get_by_test_id("review-count")).to_be_visible(timeout=10_000)
    await review.get_by_label(REVIEWED).check()
    submit = review.get_by_role("button", name=button)
    await expect(submit).to_be_enabled()
    await submit.click()


async def test_a_requests_b_approves_and_the_inbox_shows_the_voucher(
    browser, browser_stack, approval_stack, people, herald_env, console, contexts, output_dir
):
    admin_a = await new_person(contexts, browser, console, "hr-admin-a")
    admin_b = await new_person(contexts, browser, console, "hr-admin-b")
    employee = await new_person(contexts, browser, console, "warehouse")
    await sign_in(admin_a, approval_stack.url, ADMIN_A, "hr-admin")
    await sign_in(admin_b, approval_stack.url, ADMIN_B, "hr-admin")
    await sign_in(employee, approval_stack.url, WAREHOUSE[0][0], "employee")
    await expect(employee.get_by_test_id("inbox-empty")).to_be_visible()

    # A asks for four people: the review says a second admin must approve it.
    await tick_department(admin_a, "Warehouse")
    await fill_voucher(admin_a, "Spring bonus", "SPR")
    await admin_a.get_by_role("button", name="Review", exact=True).click()
    await expect(admin_a.get_by_test_id("review-approval")).to_contain_text(
        "A second HR admin must approve this allocation"
    )
    await send_reviewed(admin_a, "Request approval for 4 employees")
    await expect(admin_a.get_by_test_id("sent-notice")).to_contain_text(
        "waits for a second HR admin's approval"
    )
    progress_a = admin_a.get_by_test_id("progress")
    await expect(progress_a).to_have_attribute("data-status", "pending_approval")
    # A cannot approve their own: the row says so, without buttons.
    row_a = admin_a.get_by_test_id("approval-row").filter(has_text="Spring bonus")
    await expect(row_a.get_by_test_id("approval-own")).to_have_text("Needs another HR admin")
    await expect(row_a.get_by_role("button", name="Approve Spring bonus")).to_have_count(0)
    await shoot(admin_a, output_dir, "approval-requested")

    # Nothing was written, nobody was told.
    assert notifications_of(herald_env.database_url, WAREHOUSE[0][0]) == 0
    await expect(employee.get_by_test_id("inbox-empty")).to_be_visible()

    # B sees it waiting and approves it; the employee's open inbox shows the voucher live.
    await admin_b.reload()
    row_b = admin_b.get_by_test_id("approval-row").filter(has_text="Spring bonus")
    await expect(row_b).to_contain_text(ADMIN_A)
    await shoot(admin_b, output_dir, "approval-pending", readme=True)
    await row_b.get_by_role("button", name="Approve Spring bonus").click()
    await expect(inbox_rows(employee)).to_have_count(1, timeout=30_000)
    await expect(inbox_rows(employee).first).to_contain_text("Spring bonus")
    await expect(
        admin_b.get_by_test_id("approval-row").filter(has_text="Spring bonus")
    ).to_have_count(0)

    # B's detail panel follows it to the end, with its history.
    progress_b = admin_b.get_by_test_id("progress")
    await expect(progress_b).to_have_attribute("data-status", "completed", timeout=30_000)
    steps = progress_b.get_by_test_id("audit-step")
    await expect(steps).to_have_count(4, timeout=10_000)
    await expect(steps.nth(0)).to_contain_text(f"Requested by {ADMIN_A}")
    await expect(steps.nth(1)).to_contain_text(f"Approved by {ADMIN_B}")
    await expect(steps.nth(2)).to_contain_text("Started writing by herald-inserter")
    await expect(steps.nth(3)).to_contain_text("Completed by herald-inserter")
    await shoot(admin_b, output_dir, "approval-history", readme=True)
    # A's console heard of it too (the status frames and the completion).
    await expect(progress_a).to_have_attribute("data-status", "completed", timeout=30_000)
    assert console.errors == []


async def test_a_schedules_and_cancels_and_nobody_is_told(
    browser, browser_stack, approval_stack, people, herald_env, console, contexts, output_dir
):
    admin_a = await new_person(contexts, browser, console, "hr-admin-a")
    employee = await new_person(contexts, browser, console, "archive")
    await sign_in(admin_a, approval_stack.url, ADMIN_A, "hr-admin")
    await sign_in(employee, approval_stack.url, ARCHIVE[0][0], "employee")
    await expect(employee.get_by_test_id("inbox-empty")).to_be_visible()

    # The browser runs in UTC (helpers.new_person), so its local time is UTC.
    send_at = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    await tick_department(admin_a, "Archive")
    await fill_voucher(admin_a, "Archive day", "ARC")
    await admin_a.get_by_label("Send at (optional)").fill(send_at.strftime("%Y-%m-%dT%H:%M"))
    await admin_a.get_by_role("button", name="Review", exact=True).click()
    await expect(admin_a.get_by_test_id("review-scheduled")).to_contain_text(
        "The rule is evaluated when the allocation is sent"
    )
    await shoot(admin_a, output_dir, "schedule-review")
    await send_reviewed(admin_a, "Schedule for 1 employee")
    await expect(admin_a.get_by_test_id("sent-notice")).to_contain_text("is scheduled for")

    row = admin_a.get_by_test_id("history-row").filter(has_text="Archive day")
    await expect(row).to_contain_text("Scheduled")
    await row.get_by_role("button", name=re.compile(r"^Cancel Archive day")).click()
    await expect(row).to_contain_text("Cancelled")
    await expect(row.get_by_role("button", name=re.compile(r"^Cancel "))).to_have_count(0)
    progress = admin_a.get_by_test_id("progress")
    await expect(progress).to_have_attribute("data-status", "cancelled")
    await expect(progress.get_by_test_id("lifecycle-note")).to_contain_text("Nobody was told")
    steps = progress.get_by_test_id("audit-step")
    await expect(steps).to_have_count(3)
    await expect(steps.nth(2)).to_contain_text(f"Cancelled by {ADMIN_A}")

    # Nobody was told: nothing in the inbox, no notification written for anyone.
    await expect(employee.get_by_test_id("inbox-empty")).to_be_visible()
    assert notifications_of(herald_env.database_url, ARCHIVE[0][0]) == 0
    with psycopg.connect(herald_env.database_url) as conn:
        row_ = conn.execute(
            "SELECT count(*) FROM allocations a JOIN notifications n ON n.allocation_id = a.id"
            " WHERE a.voucher::text LIKE '%%Archive day%%'"
        ).fetchone()
    assert row_ == (0,)
    assert console.errors == []
