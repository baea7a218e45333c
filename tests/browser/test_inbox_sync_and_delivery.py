"""What needed the server's side of the inbox and the manager's view, in real Chromium.

Archive, unarchive, mark as unread and mark all as read, each followed by a second tab of
the same person over the stream; a push's action link; the summary's "See your team's
part" and the team page (one row per recipient: delivered live, waiting in the inbox,
read); HR's delivery figures and their CSV. The team page and the lifecycle views
(approvals, history, revoke) are measured at the desktop and both phone sizes: no wider
than the viewport, no serious or critical axe-core violation.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import ApprovalStack, BrowserStack
from tests.browser.helpers import (
    SIZES,
    ViewCheck,
    admin_api,
    assert_views,
    check_view,
    expect_live,
    new_person,
    open_inbox_tab,
    shoot,
    sign_in,
)
from tests.support.api import import_employees, voucher, wait_push, wait_until_finished

pytestmark = pytest.mark.integration

HIRED = (date.today() - timedelta(days=3 * 365)).isoformat()
ADMIN, MANAGER, LIVE, WAITING = "ATL-A1", "ATL-M1", "ATL-E1", "ATL-E2"
TABBED, UNREAD, ALLREAD, LINKED = "ATL-E3", "ATL-E4", "ATL-E5", "ATL-E6"
# Atelier is this module's own department: no other test allocates or pushes to it.
# (id, name, department, grade, manager)
PEOPLE = [
    (ADMIN, "Henrike Ostrowski", "HR", "G6", ""),
    (MANAGER, "Adaeze Okonkwo", "Atelier", "G5", ""),
    (LIVE, "Bruno Castellanos", "Atelier", "G3", MANAGER),
    (WAITING, "Chiara Lombardi", "Atelier", "G3", MANAGER),
    *((who, f"Tab tester {who}", "Atelier-Tabs", "G2", "") for who in (TABBED, UNREAD, ALLREAD)),
    (LINKED, "Greta Lindqvist", "Atelier-Tabs", "G2", ""),
]
NAME = "Atelier tools budget"
# The mailer's default public base URL (the gateway's usual address).
PUBLIC_BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
async def people(services, herald_env):
    async with admin_api(services, herald_env) as api:
        header = "employee_id,name,email,department,grade,hired_on,manager_id\n"
        lines = (
            f"{who},{name},{who.lower()}@example.com,{department},{grade},{HIRED},{manager}\n"
            for who, name, department, grade, manager in PEOPLE
        )
        response = await import_employees(api, header + "".join(lines))
        assert response.status_code == 200, response.text


async def push(services, herald_env, employee_ids: list[str], title: str, **extra) -> None:
    async with admin_api(services, herald_env) as api:
        pushed = await api.post(
            "/v1/notifications",
            json={"title": title, "body": "", "target": {"employee_ids": employee_ids}, **extra},
        )
        assert pushed.status_code == 202, pushed.text
        done = await wait_push(api, pushed.json()["id"])
        assert done["status"] == "completed", done


async def two_tabs(contexts, browser, console, url: str, employee_id: str) -> tuple[Page, Page]:
    """The same person in two tabs of one browser: the second signs in from the first."""
    first = await new_person(contexts, browser, console, f"{employee_id}-tab-1")
    await sign_in(first, url, employee_id, "employee")
    second = await first.context.new_page()
    console.attach(second, f"{employee_id}-tab-2")
    await second.goto(url)
    await expect_live(second)
    return first, second


def row(page: Page, text: str):
    return page.get_by_test_id("inbox-row").filter(has_text=text)


async def test_archive_moves_the_row_and_a_second_tab_follows(
    browser, browser_stack: BrowserStack, people, services, herald_env, console, contexts
):
    title = "Atelier keys: return them by Friday"
    await push(services, herald_env, [TABBED], title)
    first, second = await two_tabs(contexts, browser, console, browser_stack.url, TABBED)
    for page in (first, second):
        await expect(row(page, title)).to_have_count(1)

    await row(first, title).get_by_role("button", name=re.compile(r"^Archive")).click()
    # It leaves All here and, through the stream, in the other tab.
    for page in (first, second):
        await expect(row(page, title)).to_have_count(0)
    await open_inbox_tab(first, "Archived")
    await expect(row(first, title)).to_have_count(1)

    await row(first, title).get_by_role("button", name=re.compile(r"^Unarchive")).click()
    await expect(row(first, title)).to_have_count(0)
    await open_inbox_tab(first, "All")
    for page in (first, second):
        await expect(row(page, title)).to_have_count(1)
    assert console.errors == [], "\n".join(console.errors)


async def test_mark_as_unread_raises_the_badge_in_both_tabs(
    browser, browser_stack: BrowserStack, people, services, herald_env, console, contexts
):
    title = "Atelier lamp repaired"
    await push(services, herald_env, [UNREAD], title)
    first, second = await two_tabs(contexts, browser, console, browser_stack.url, UNREAD)
    await row(first, title).get_by_role("button", name=re.compile(r"^Mark as read")).click()
    for page in (first, second):
        await expect(row(page, title)).to_have_attribute("data-state", "read")
        await expect(page.get_by_test_id("unread-badge")).to_have_text("0")

    await row(first, title).get_by_role("button", name=re.compile(r"^Mark as unread")).click()
    for page in (first, second):
        await expect(row(page, title)).to_have_attribute("data-state", "unread")
        await expect(page.get_by_test_id("unread-badge")).to_have_text("1")
    assert console.errors == [], "\n".join(console.errors)


async def test_mark_all_read_in_one_tab_marks_the_other_tabs_rows(
    browser, browser_stack: BrowserStack, people, services, herald_env, console, contexts
):
    titles = ("Atelier sketch night", "Atelier glaze order")
    for title in titles:
        await push(services, herald_env, [ALLREAD], title)
    first, second = await two_tabs(contexts, browser, console, browser_stack.url, ALLREAD)
    for title in titles:
        await expect(row(second, title)).to_have_attribute("data-state", "unread")
    await expect(second.get_by_test_id("unread-badge")).to_have_text("2")

    await first.get_by_role("button", name="Mark all as read").click()
    for title in titles:
        await expect(row(second, title)).to_have_attribute("data-state", "read")
    await expect(second.get_by_test_id("unread-badge")).to_have_text("0")
    assert console.errors == [], "\n".join(console.errors)


async def test_a_push_with_an_action_url_shows_its_link(
    browser, browser_stack: BrowserStack, people, services, herald_env, console, contexts
):
    page = await new_person(contexts, browser, console, "linked")
    await sign_in(page, browser_stack.url, LINKED, "employee")
    title = "Check which emails you get"
    # Live first: the stream's item carries the link as the REST answer does.
    await push(services, herald_env, [LINKED], title, action_url="/preferences")
    link = row(page, title).get_by_test_id("item-action")
    await expect(link).to_have_attribute("href", "/preferences")
    await expect(link).to_have_accessible_name(f"Open: {title}")
    await page.reload()
    await expect(link).to_have_attribute("href", "/preferences")
    await link.click()
    await expect(page.get_by_role("heading", name="Email settings")).to_be_visible()
    assert console.errors == [], "\n".join(console.errors)


@pytest.fixture(scope="module")
async def allocated(people, services, herald_env, browser, browser_stack: BrowserStack):
    """The Atelier allocation, sent while one employee has Herald open: delivered live to
    them, waiting in the inbox for the others. Returns its id."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await sign_in(page, browser_stack.url, LIVE, "employee")
        async with admin_api(services, herald_env) as api:
            response = await api.post(
                "/v1/allocations",
                json={
                    "voucher": voucher(NAME, "40.00", "ATLR"),
                    "criteria": {"departments": ["Atelier"]},
                },
                headers={"Idempotency-Key": "inbox-sync-atelier"},
            )
            assert response.status_code in (200, 201, 202), response.text
            allocation_id: str = response.json()["id"]
            finished = await wait_until_finished(api, allocation_id)
            assert finished["status"] == "completed", finished
        await expect(row(page, NAME)).to_have_count(1)
        # Read by the one who had it live.
        await row(page, NAME).get_by_role("button", name=re.compile(r"^Mark as read")).click()
        await expect(row(page, NAME)).to_have_attribute("data-state", "read")
    finally:
        await context.close()
    return allocation_id


async def test_the_summary_link_opens_the_team_page(
    browser,
    browser_stack: BrowserStack,
    allocated: str,
    console,
    contexts,
    output_dir,
):
    page = await new_person(contexts, browser, console, "manager", SIZES["desktop"], axe=True)
    await sign_in(page, browser_stack.url, MANAGER, "manager")
    summary = page.locator(
        '[data-testid="inbox-row"][data-kind="herald.allocation.summary"]', has_text=NAME
    )
    link = summary.get_by_role("link", name=re.compile(r"^See your team's part"))
    await expect(link).to_have_count(1)
    # Built from the configured public base URL (the gateway's address by default, as the
    # test services leave it), never a service port; the stack's own gateway, on a port of
    # its own here, serves the same path.
    await expect(link).to_have_attribute("href", f"{PUBLIC_BASE_URL}/allocations/{allocated}/team")
    await page.goto(f"{browser_stack.url}/allocations/{allocated}/team")

    team = page.get_by_test_id("allocation-team")
    rows = team.get_by_test_id("allocation-team-row")
    # One row per recipient: the manager and both employees of Atelier.
    await expect(rows).to_have_count(3)
    await expect(team.get_by_test_id("team-live")).to_have_text("1")
    await expect(team.get_by_test_id("team-inbox")).to_have_text("2")
    await expect(team.get_by_test_id("team-read")).to_have_text("1")
    live = rows.filter(has_text=LIVE)
    await expect(live).to_contain_text("Delivered live")
    await expect(live).to_contain_text("Read")
    waiting = rows.filter(has_text=WAITING)
    await expect(waiting).to_contain_text("Waiting in inbox")
    await expect(waiting).to_contain_text("Not yet")

    checks: list[ViewCheck] = []
    for size, viewport in SIZES.items():
        await page.set_viewport_size(viewport)
        await expect(rows).to_have_count(3)
        await check_view(page, f"allocation team ({size})", checks)
    assert_views(checks, output_dir / "layout-allocation-team.json")
    assert console.errors == [], "\n".join(console.errors)


async def test_hr_delivery_figures_follow_reads_and_download(
    browser,
    browser_stack: BrowserStack,
    allocated: str,
    console,
    contexts,
    tmp_path,
):
    admin = await new_person(contexts, browser, console, "hr-admin")
    await sign_in(admin, browser_stack.url, ADMIN, "hr-admin")
    history_row = admin.get_by_test_id("history-row").filter(has_text=NAME)
    await history_row.get_by_role("button", name="Show progress").click()
    figures = admin.get_by_test_id("deliveries")
    # Open without asking, now that the figures are there to be had.
    await expect(figures.get_by_role("button", name="Delivery figures")).to_have_attribute(
        "aria-expanded", "true"
    )
    await expect(figures.get_by_test_id("delivery-total")).to_have_text("3")
    await expect(figures.get_by_test_id("delivered-live")).to_have_text("1")
    await expect(figures.get_by_test_id("waiting-in-inbox")).to_have_text("2")
    await expect(figures.get_by_test_id("read")).to_have_text("1")

    # The one it waited for reads it: the open figures follow (polled every 10 s).
    employee = await new_person(contexts, browser, console, "waiting-employee")
    await sign_in(employee, browser_stack.url, WAITING, "employee")
    await row(employee, NAME).get_by_role("button", name=re.compile(r"^Mark as read")).click()
    await expect(row(employee, NAME)).to_have_attribute("data-state", "read")
    await expect(figures.get_by_test_id("read")).to_have_text("2", timeout=25_000)

    async with admin.expect_download() as waiting_for:
        await figures.get_by_role("button", name=re.compile(r"^Download the delivery list")).click()
    download = await waiting_for.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    saved = tmp_path / "deliveries.csv"
    await download.save_as(saved)
    lines = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert sorted(line["employee_id"] for line in lines) == [LIVE, WAITING, MANAGER]
    assert {line["employee_id"]: line["delivery"] for line in lines}[LIVE] == "live"
    assert {line["employee_id"]: line["delivery"] for line in lines}[WAITING] == "inbox"
    assert console.errors == [], "\n".join(console.errors)


async def test_lifecycle_views_fit_every_size_and_pass_axe(
    browser,
    approval_stack: ApprovalStack,
    allocated: str,
    services,
    herald_env,
    console,
    contexts,
    output_dir,
):
    # Atelier and Atelier-Tabs: seven people, over the rule's three; it waits for a
    # second HR admin.
    async with admin_api(services, herald_env, approval_stack.allocation_url) as api:
        response = await api.post(
            "/v1/allocations",
            json={
                "voucher": voucher("Atelier kiln (needs approval)", "60.00", "KILN"),
                "criteria": {"departments": ["Atelier", "Atelier-Tabs"]},
            },
            headers={"Idempotency-Key": "inbox-sync-kiln"},
        )
        assert response.status_code in (200, 201, 202), response.text
        pending = response.json()
        assert pending["status"] == "pending_approval", pending
        try:
            page = await new_person(
                contexts, browser, console, "hr-admin", SIZES["desktop"], axe=True
            )
            await sign_in(page, approval_stack.url, ADMIN, "hr-admin")
            approval = page.get_by_test_id("approval-row").filter(has_text="Atelier kiln")
            checks: list[ViewCheck] = []
            for size, viewport in SIZES.items():
                await page.set_viewport_size(viewport)
                await expect(approval).to_have_count(1)
                await expect(page.get_by_test_id("history-row").first).to_be_visible()
                await check_view(page, f"approvals and history ({size})", checks)
            await (
                page.get_by_test_id("history-row")
                .filter(has_text=NAME)
                .get_by_role("button", name="Show progress")
                .click()
            )
            revoke = page.get_by_test_id("revoke")
            await revoke.get_by_label("Reason (shown to the employees)").fill("Budget moved")
            await revoke.get_by_label("Only these employees").check()
            await revoke.get_by_label(re.compile(r"^Employee ids")).fill(WAITING)
            await revoke.get_by_role("button", name="Revoke…").click()
            await expect(revoke.get_by_role("alertdialog")).to_be_visible()
            await expect(page.get_by_test_id("audit-trail")).to_be_visible()
            for size, viewport in SIZES.items():
                await page.set_viewport_size(viewport)
                await check_view(page, f"progress, history and revoke ({size})", checks)
                await shoot(page, output_dir, f"lifecycle-{size}")
            # Nothing revoked: the confirmation is cancelled.
            await revoke.get_by_role("button", name="Cancel").click()
            assert_views(checks, output_dir / "layout-lifecycle.json")
        finally:
            cancelled = await api.post(f"/v1/allocations/{pending['id']}:cancel")
            assert cancelled.status_code == 200, cancelled.text
    assert console.errors == [], "\n".join(console.errors)
