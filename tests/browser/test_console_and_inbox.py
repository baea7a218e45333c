"""The web console and the inbox in real Chromium, over the real services.

An HR admin allocates to Sales; a Sales employee (two tabs) sees it live and marks it read;
an HR employee sees nothing; the Sales manager's team feed shows it. Then the notifier
goes away and comes back, and the inbox catches up with exactly the one item it missed.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import httpx
import psycopg
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack
from tests.browser.helpers import (
    admin_api,
    allocate,
    expect_live,
    new_person,
    shoot,
    sign_in,
    tick_department,
)
from tests.support.api import import_employees, wait_until_finished

RECENT = (date.today() - timedelta(days=300)).isoformat()  # under 2 years of service
ADMIN, HR_EMPLOYEE, MANAGER, SALES, SALES_2 = "BRW-A1", "BRW-H1", "BRW-M1", "BRW-S1", "BRW-S2"
# Sales people are G2 with under two years of service, so the allocations of other tests
# (which target senior grades) never reach them.
PEOPLE = (
    "employee_id,name,email,department,grade,hired_on,manager_id\n"
    f"{ADMIN},Amelia Okafor,amelia@example.com,HR,G6,2014-03-01,\n"
    f"{HR_EMPLOYEE},Henrik Dahl,henrik@example.com,HR,G3,2019-09-01,{ADMIN}\n"
    f"{MANAGER},Mariana Costa,mariana@example.com,Sales,G2,{RECENT},\n"
    f"{SALES},Sofía Brandt,sofia@example.com,Sales,G2,{RECENT},{MANAGER}\n"
    f"{SALES_2},Tomás Lindqvist,tomas@example.com,Sales,G2,{RECENT},{MANAGER}\n"
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def people(services, herald_env):
    async with admin_api(services, herald_env) as api:
        response = await import_employees(api, PEOPLE)
        assert response.status_code == 200, response.text


def badge(page: Page):
    return page.get_by_test_id("unread-badge")


def rows(page: Page):
    return page.get_by_test_id("inbox-row")


async def choose_junior_sales(page: Page) -> int:
    """Sales, G2, at most one year: the live count settles; returns it."""
    preview = page.get_by_test_id("preview").locator(".preview-value")
    await tick_department(page, "Sales")
    await page.get_by_role("checkbox", name="G2", exact=True).check()
    await page.get_by_label("At most").fill("1")
    await expect(preview).to_have_attribute("aria-busy", "false")
    await expect(preview).not_to_have_text("—")
    return int((await preview.inner_text()).split()[0].replace(",", ""))


async def test_allocate_watch_read_reload_and_recover(
    browser,
    browser_stack: BrowserStack,
    people,
    herald_env,
    services,
    console,
    contexts,
    output_dir,
):
    url = browser_stack.url
    admin = await new_person(contexts, browser, console, "hr-admin")
    sales = await new_person(contexts, browser, console, "sales")
    hr = await new_person(contexts, browser, console, "hr")
    manager = await new_person(contexts, browser, console, "manager")

    await admin.goto(url)
    await expect(admin.get_by_role("heading", name="Sign in")).to_be_visible()
    await admin.get_by_label("Find a person").fill("BRW-")
    # HR people can sign in as hr-admin or employee; managers (Amelia, Mariana) also as such.
    await expect(admin.get_by_label("Sign in as").locator("option")).to_have_count(9)
    await shoot(admin, output_dir, "sign-in")

    await sign_in(admin, url, ADMIN, "hr-admin")
    await sign_in(sales, url, SALES, "employee")
    await sign_in(hr, url, HR_EMPLOYEE, "employee")
    await sign_in(manager, url, MANAGER, "manager")
    # The same person in a second tab: same browser, already signed in.
    sales_tab2 = await sales.context.new_page()
    console.attach(sales_tab2, "sales-tab-2")
    await sales_tab2.goto(f"{url}/inbox")
    await expect_live(sales_tab2)
    await manager.get_by_role("link", name="Team feed").click()
    await expect(manager.get_by_test_id("feed-empty")).to_be_visible()
    for page in (sales, sales_tab2, hr):
        await expect(page.get_by_test_id("inbox-empty")).to_be_visible()
        await expect(badge(page)).to_have_text("0")

    # The admin builds the criteria and sees the live match count.
    await expect(admin.get_by_role("heading", name="Allocations", exact=True)).to_be_visible()
    matched = await choose_junior_sales(admin)
    assert matched >= 3  # our three Sales people, and whoever else is junior in Sales
    await allocate(admin, "Winter bonus", "WIN", matched)

    progress = admin.get_by_test_id("progress")
    await expect(progress).to_have_attribute("data-status", "completed", timeout=30_000)
    await expect(admin.get_by_test_id("step-matched-value")).to_have_text(str(matched))
    await expect(admin.get_by_test_id("step-published-value")).to_have_text(str(matched))
    # Sofía (two tabs, counted once) and Mariana have Herald open; Tomás does not.
    await expect(admin.get_by_test_id("step-delivered-value")).to_have_text("2")
    history = admin.get_by_test_id("history-row").first
    await expect(history).to_contain_text("Winter bonus")
    await expect(history).to_contain_text("Completed")

    # Sofía sees the voucher in both tabs, with the badge at 1 and a polite announcement.
    for page in (sales, sales_tab2):
        await expect(rows(page)).to_have_count(1)
        await expect(badge(page)).to_have_text("1")
    row = rows(sales).first
    await expect(row).to_contain_text("Winter bonus")
    await expect(row).to_contain_text("€50.00")
    code = await row.locator("code").inner_text()
    assert code.startswith("WIN-")
    await expect(sales.get_by_test_id("announcer")).to_have_text(
        "New voucher: Winter bonus, €50.00"
    )
    await shoot(admin, output_dir, "console", readme=True)
    await shoot(sales, output_dir, "inbox", readme=True)

    # The manager's feed shows the allocation reaching the team, without voucher codes.
    feed = manager.get_by_test_id("feed-table")
    for name in ("Sofía Brandt", "Tomás Lindqvist", "Mariana Costa"):
        await expect(feed).to_contain_text(name)
    await expect(feed).not_to_contain_text(code)
    await shoot(manager, output_dir, "team-feed", readme=True)

    # Henrik in HR got nothing.
    await asyncio.sleep(1)
    await expect(rows(hr)).to_have_count(0)
    await expect(badge(hr)).to_have_text("0")
    await shoot(hr, output_dir, "inbox-hr-empty")

    # Read in one tab: the badge goes to 0 in both.
    await row.get_by_role("button", name="Mark as read: “Winter bonus”").click()
    for page in (sales, sales_tab2):
        await expect(badge(page)).to_have_text("0")
    await expect(rows(sales_tab2).first).to_contain_text("Read")

    # Reload: the history is intact and nothing is doubled.
    await sales.reload()
    await expect_live(sales)
    await expect(rows(sales)).to_have_count(1)
    await expect(rows(sales).first).to_contain_text(code)
    await expect(badge(sales)).to_have_text("0")
    first_id = await rows(sales).first.get_attribute("data-id")

    # The notifier goes away: the page says so, and an allocation happens meanwhile.
    console.outage = True
    browser_stack.notifier.stop()
    await expect(sales.get_by_test_id("connection-state")).to_have_attribute(
        "data-state", "reconnecting", timeout=15_000
    )
    await expect(sales.get_by_test_id("connection-state")).to_have_text("Reconnecting…")
    await shoot(sales, output_dir, "inbox-reconnecting")
    # The form starts from nothing after an allocation: the rule is chosen again.
    assert await choose_junior_sales(admin) == matched
    await allocate(admin, "Spring bonus", "SPR", matched)
    await expect(admin.get_by_test_id("history-row").first).to_contain_text("Spring bonus")
    spring = await admin.get_by_test_id("history-row").first.get_attribute("data-id")
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await wait_until_finished(api, spring))["status"] == "completed"

    # It comes back: the page catches up with exactly the one item it missed.
    browser_stack.restart_notifier()
    await expect(sales.get_by_test_id("connection-state")).to_have_attribute(
        "data-state", "caught-up", timeout=30_000
    )
    console.outage = False
    await expect(rows(sales)).to_have_count(2)
    await expect(rows(sales).first).to_contain_text("Spring bonus")
    await expect(rows(sales).nth(1)).to_have_attribute("data-id", first_id)
    await expect(badge(sales)).to_have_text("1")
    await shoot(sales, output_dir, "inbox-caught-up")
    await expect_live(sales, timeout=10_000)
    await asyncio.sleep(1.5)
    await expect(rows(sales)).to_have_count(2)
    await expect(rows(sales_tab2)).to_have_count(2)

    assert console.errors == [], "\n".join(console.errors)


async def test_markup_stays_text_failures_explain_themselves_and_keyboard_works(
    browser,
    browser_stack: BrowserStack,
    people,
    herald_env,
    services,
    console,
    contexts,
    output_dir,
):
    url = browser_stack.url
    hr = await new_person(contexts, browser, console, "hr")
    admin = await new_person(contexts, browser, console, "hr-admin")

    # Sign in with the keyboard alone: search, pick, submit.
    await hr.goto(url)
    # The sign-in form renders after the script runs; Tab before it exists goes nowhere.
    await expect(hr.get_by_label("Find a person")).to_be_visible()
    await hr.keyboard.press("Tab")
    await expect(hr.get_by_label("Find a person")).to_be_focused()
    await hr.keyboard.type(HR_EMPLOYEE)
    person = hr.get_by_label("Sign in as")
    await expect(person.locator("option")).to_have_count(2)  # as hr-admin, as employee
    await hr.keyboard.press("Tab")
    await expect(person).to_be_focused()
    await hr.keyboard.press("ArrowDown")
    await hr.keyboard.press("ArrowDown")
    await expect(person).to_have_value(f"{HR_EMPLOYEE}|employee")
    await hr.keyboard.press("Tab")
    await expect(hr.get_by_role("button", name="Sign in")).to_be_focused()
    await hr.keyboard.press("Enter")
    await expect_live(hr)
    await expect(hr.get_by_role("link", name="Allocations")).to_have_count(0)

    hostile = '<img src=x onerror="window.__pwned=1">Pay <b>day</b>'
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        pushed = await api.post(
            "/v1/notifications",
            json={
                "title": hostile,
                "body": "<script>window.__pwned=2</script>",
                "target": {"employee_ids": [HR_EMPLOYEE]},
            },
        )
        assert pushed.status_code == 202, pushed.text
    row = rows(hr).first
    await expect(row).to_contain_text(hostile)
    await expect(row).to_contain_text("<script>window.__pwned=2</script>")
    assert await row.locator("img, b, script").count() == 0
    assert await hr.evaluate("window.__pwned") is None

    # Keyboard: Tab reaches the row's button, Enter marks it read.
    await row.get_by_role("button", name=re.compile(r"^Mark as read")).focus()
    await hr.keyboard.press("Enter")
    await expect(badge(hr)).to_have_text("0")

    # A failed allocation says why, in words for people, with the technical cause folded.
    reason = "Herald lost its database <after 5 attempts>; nothing was allocated. Try again."
    detail = "OperationalError: connection to PostgreSQL lost <server closed the connection>"
    with psycopg.connect(herald_env.database_url) as conn:
        conn.execute(
            "INSERT INTO allocations (id, request_hash, voucher, criteria, status,"
            " failure_reason, failure_detail, completed_at)"
            " VALUES (gen_random_uuid(), 'x', %s::jsonb, %s::jsonb, 'failed', %s, %s, now())",
            (
                '{"name": "Broken <i>bonus</i>", "amount": "10.00", "currency": "EUR",'
                ' "expires_on": "2031-01-01", "code_prefix": "BRK"}',
                '{"departments": ["Sales"]}',
                reason,
                detail,
            ),
        )
    await sign_in(admin, url, ADMIN, "hr-admin")
    failed = admin.get_by_test_id("history-row").filter(has_text="Broken <i>bonus</i>")
    await expect(failed).to_contain_text("Failed")
    await expect(failed.get_by_test_id("failure-reason")).to_have_text(reason)
    folded = failed.get_by_test_id("failure-detail")
    await expect(folded).not_to_have_attribute("open", "")
    await expect(folded.get_by_text(detail)).to_be_hidden()
    await folded.get_by_text("Technical detail").click()
    await expect(folded.get_by_text(detail)).to_be_visible()
    await failed.get_by_role("button", name="Show progress").click()
    await expect(admin.get_by_test_id("progress-failure")).to_have_text(f"Failed: {reason}")
    panel_detail = admin.get_by_test_id("progress").get_by_test_id("failure-detail")
    await expect(panel_detail.get_by_text(detail)).to_be_hidden()
    await panel_detail.get_by_text("Technical detail").click()
    await expect(panel_detail.get_by_text(detail)).to_be_visible()
    await shoot(admin, output_dir, "console-failed")

    # Every control has a label (its text, a <label>, or aria-label).
    for page, view in ((admin, "console"), (hr, "inbox")):
        unlabeled = await page.evaluate(
            """() => [...document.querySelectorAll('input, select, button, textarea')]
                .filter((el) => !(el.labels?.length || el.getAttribute('aria-label')
                                  || (el.tagName === 'BUTTON' && el.textContent.trim())))
                .map((el) => el.outerHTML.slice(0, 120))"""
        )
        assert unlabeled == [], f"{view}: {unlabeled}"

    assert console.errors == [], "\n".join(console.errors)
