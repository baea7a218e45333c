"""Every view, for every persona, on a desktop and on two phones, in real Chromium.

Each view must fit its viewport (the document is never wider: no horizontal scrolling)
and axe-core, injected into the page, must find no serious or critical violation. The
widths and axe's findings are written beside the screenshots (layout-<persona>-<size>.json).
Then the inbox's own features: tabs, one-line codes with a copy button, relative times,
unread marked in words, focus kept after "Mark as read", toasts that go away, and the
email settings.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack
from tests.browser.helpers import (
    SIZES,
    ViewCheck,
    admin_api,
    assert_views,
    check_view,
    expect_live,
    fill_voucher,
    new_person,
    open_inbox_tab,
    open_page,
    open_review,
    shoot,
    sign_in,
    tick_department,
)
from tests.support.api import import_employees, voucher, wait_push, wait_until_finished

pytestmark = pytest.mark.integration

HIRED = (date.today() - timedelta(days=4 * 365)).isoformat()
ADMIN, MANAGER, EMPLOYEE, COLLEAGUE = "PHN-A1", "PHN-M1", "PHN-E1", "PHN-E2"
# Design is this module's own department: no other test allocates or pushes to it.
PEOPLE = (
    "employee_id,name,email,department,grade,hired_on,manager_id\n"
    f"{ADMIN},Ingrid Solberg-Marchetti,ingrid@example.com,HR,G6,2013-05-01,\n"
    f"{MANAGER},Kofi Boateng,kofi@example.com,Design,G5,2016-02-01,\n"
    f"{EMPLOYEE},Maximiliane Oberhauser-Lindqvist,maxi@example.com,Design,G3,{HIRED},{MANAGER}\n"
    f"{COLLEAGUE},Yusuf Demir,yusuf@example.com,Design,G3,{HIRED},{MANAGER}\n"
)
# Long enough to wrap on a phone: the card must wrap it, not widen the page.
NOTICE = "Quarterly design review: bring your portfolio, your questions and your best ideas"
PERSONAS = {"employee": EMPLOYEE, "manager": MANAGER, "hr-admin": ADMIN}
PHONES = ("phone", "small-phone")


@pytest.fixture(scope="module")
async def design(services, herald_env):
    """The people, a Design voucher for everyone in Design, and a notice for one of them."""
    async with admin_api(services, herald_env) as api:
        response = await import_employees(api, PEOPLE)
        assert response.status_code == 200, response.text
        allocated = await api.post(
            "/v1/allocations",
            json={
                "voucher": voucher("Design week lunch", "1250.00", "DSNWEEK"),
                "criteria": {"departments": ["Design"]},
            },
            headers={"Idempotency-Key": "every-view-design"},
        )
        assert allocated.status_code in (200, 201, 202), allocated.text
        finished = await wait_until_finished(api, allocated.json()["id"])
        assert finished["status"] == "completed", finished
        pushed = await api.post(
            "/v1/notifications",
            json={
                "title": NOTICE,
                "body": "Room 4.12",
                "target": {"employee_ids": [EMPLOYEE, MANAGER, ADMIN]},
            },
        )
        assert pushed.status_code == 202, pushed.text
        await wait_push(api, pushed.json()["id"])


async def push_to_design(services, herald_env, title: str) -> None:
    async with admin_api(services, herald_env) as api:
        pushed = await api.post(
            "/v1/notifications",
            json={"title": title, "body": "", "target": {"department": "Design"}},
        )
        assert pushed.status_code == 202, pushed.text


def rows(page: Page):
    return page.get_by_test_id("inbox-row")


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("persona", list(PERSONAS))
async def test_every_view_fits_and_passes_axe(
    persona: str,
    size: str,
    browser,
    browser_stack: BrowserStack,
    design,
    services,
    herald_env,
    console,
    contexts,
    output_dir,
):
    phone = size in PHONES
    page = await new_person(contexts, browser, console, persona, SIZES[size], axe=True)
    checks: list[ViewCheck] = []
    shot = f"{persona}-{size}"
    # The README shows the desktop and the 390 px phone.
    readme = size != "small-phone"

    await page.goto(browser_stack.url)
    await page.get_by_label("Find a person").fill(PERSONAS[persona])
    await expect(page.get_by_label("Sign in as").locator("option").first).to_be_attached()
    await check_view(page, "sign-in", checks)
    await sign_in(page, browser_stack.url, PERSONAS[persona], persona)

    if phone:
        # The header folds: who is signed in and "Sign out" wait behind the menu.
        await expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
        await expect(page.get_by_test_id("connection-state")).to_be_visible()
        await page.get_by_role("button", name=re.compile(r"^Menu")).click()
        await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        await check_view(page, "header menu", checks)
        await page.get_by_role("button", name=re.compile(r"^Menu")).click()
        await expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    else:
        await expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    if persona == "hr-admin":
        await expect(page.get_by_test_id("history-row").first).to_be_visible()
        await check_view(page, "allocations", checks)
        design_row = page.get_by_test_id("history-row").filter(has_text="Design week lunch")
        await design_row.get_by_role("button", name="Show progress").click()
        await expect(page.get_by_test_id("progress")).to_have_attribute("data-status", "completed")
        await check_view(page, "allocation progress", checks)
        await shoot(page, output_dir, shot, readme=readme)
        await tick_department(page, "Design")
        await fill_voucher(page, "Phone-size review", "PHONE")
        review = await open_review(page)
        await expect(review.get_by_test_id("review-count")).to_have_text("3")
        await check_view(page, "allocation review", checks)
        await review.get_by_role("button", name="Back to edit").click()
        await open_page(page, "Inbox", phone)

    await expect(rows(page).filter(has_text=NOTICE)).to_have_count(1)
    if persona != "hr-admin":
        code = rows(page).filter(has_text="Design week lunch").locator("code")
        # One line: a code is as tall as one line of its text.
        box = await code.bounding_box()
        line = await code.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight)")
        assert box is not None
        assert box["height"] < 2 * line, (box, line)
    await check_view(page, "inbox", checks)
    if persona == "employee":
        await shoot(page, output_dir, shot, readme=readme)
    for tab in ("Unread", "Vouchers", "Archived"):
        await open_inbox_tab(page, tab)
        await check_view(page, f"inbox {tab.lower()}", checks)
    await open_inbox_tab(page, "All")

    if persona == "manager":
        await open_page(page, "Team feed", phone)
        await push_to_design(services, herald_env, f"Design studio closes early ({size})")
        feed = page.get_by_test_id("feed-table")
        await expect(feed).to_contain_text(f"Design studio closes early ({size})")
        await expect(page.get_by_test_id("feed-range")).to_contain_text("Showing")
        await check_view(page, "team feed", checks)
        await shoot(page, output_dir, shot, readme=readme)

    await open_page(page, "Email settings", phone)
    # One per email the mailer sends: the allocation and the revocation summaries.
    settings = page.get_by_test_id("preferences")
    await expect(settings.get_by_role("checkbox")).to_have_count(2)
    await expect(
        settings.get_by_role("checkbox", name="Team summary after a revocation")
    ).to_be_visible()
    await check_view(page, "email settings", checks)

    assert_views(checks, output_dir / f"layout-{shot}.json")
    assert console.errors == [], "\n".join(console.errors)


async def test_inbox_tabs_codes_times_focus_and_toasts(
    browser, browser_stack: BrowserStack, design, services, herald_env, console, contexts
):
    page = await new_person(contexts, browser, console, "employee", SIZES["phone"])
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await sign_in(page, browser_stack.url, COLLEAGUE, "employee")
    voucher_row = rows(page).filter(has_text="Design week lunch")
    await expect(voucher_row).to_have_count(1)

    # Unread shows in words and weight, not only in colour.
    await expect(voucher_row).to_have_attribute("data-state", "unread")
    await expect(voucher_row.get_by_text("Unread", exact=True)).to_be_visible()
    weight = await voucher_row.locator(".item-name").evaluate(
        "(el) => Number(getComputedStyle(el).fontWeight)"
    )
    assert weight >= 700

    # The time reads relative; the exact moment is on hover and for screen readers.
    when = voucher_row.locator("time")
    await expect(when).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    title = await when.get_attribute("title")
    assert title is not None
    assert re.search(r"\d{4}", title), title
    await expect(when.locator("[aria-hidden=true]")).to_have_text(
        re.compile(r"(just now|minutes? ago|hours? ago)")
    )
    await expect(when.locator(".visually-hidden")).to_have_text(title)

    # The code copies with one press.
    code = await voucher_row.locator("code").inner_text()
    assert code.startswith("DSNWEEK-")
    await voucher_row.get_by_role("button", name=re.compile(r"^Copy code")).click()
    await expect(voucher_row.get_by_role("status")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == code

    # A new item: a toast that goes away by itself, and the badge in the menu.
    await push_to_design(services, herald_env, "Design studio: new plotter")
    toast = page.get_by_test_id("toast").filter(has_text="Design studio: new plotter")
    await expect(toast).to_be_visible()
    await expect(toast).to_have_count(0, timeout=15_000)
    await expect(page.get_by_test_id("announcer")).to_have_text(
        "New notification: Design studio: new plotter"
    )

    # The tabs follow the arrow keys, as a tab strip does.
    await page.get_by_role("tab", name="All").focus()
    await page.keyboard.press("ArrowRight")
    vouchers_tab = page.get_by_role("tab", name="Vouchers")
    await expect(vouchers_tab).to_be_focused()
    await expect(vouchers_tab).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("ArrowLeft")
    await expect(page.get_by_role("tab", name="All")).to_have_attribute("aria-selected", "true")

    # Tabs: vouchers only, then unread only.
    await open_inbox_tab(page, "Vouchers")
    await expect(rows(page)).to_have_count(1)
    await expect(rows(page).first).to_contain_text("Design week lunch")
    await open_inbox_tab(page, "Unread")
    unread = await rows(page).count()
    assert unread >= 2
    await expect(rows(page).filter(has_text="Design studio: new plotter")).to_have_count(1)

    # "Mark as read" in Unread: the row leaves the tab and focus moves to the next one.
    first, second = rows(page).nth(0), rows(page).nth(1)
    second_id = await second.get_attribute("data-id")
    await first.get_by_role("button", name=re.compile(r"^Mark as read")).click()
    await expect(rows(page)).to_have_count(unread - 1)
    await expect(page.locator(f'[data-testid="inbox-row"][data-id="{second_id}"]')).to_be_focused()

    # In All, the row stays, read, and keeps the focus.
    await open_inbox_tab(page, "All")
    still_unread = rows(page).filter(has=page.get_by_text("Unread", exact=True)).first
    kept_id = await still_unread.get_attribute("data-id")
    await still_unread.get_by_role("button", name=re.compile(r"^Mark as read")).focus()
    await page.keyboard.press("Enter")
    kept = page.locator(f'[data-testid="inbox-row"][data-id="{kept_id}"]')
    await expect(kept).to_have_attribute("data-state", "read")
    await expect(kept).to_be_focused()
    assert console.errors == [], "\n".join(console.errors)


async def test_email_settings_are_kept(
    browser, browser_stack: BrowserStack, design, console, contexts
):
    page = await new_person(contexts, browser, console, "manager")
    await sign_in(page, browser_stack.url, MANAGER, "manager")
    await open_page(page, "Email settings", phone=False)
    summary = page.get_by_role("checkbox", name="Team summary after an allocation")
    await expect(summary).to_be_checked()
    # Saved at once; the box shows what the server kept.
    await summary.click()
    await expect(page.get_by_test_id("preferences-status")).to_have_text("Saved.")
    await expect(summary).not_to_be_checked()
    await page.reload()
    await expect_live(page)
    await expect(summary).not_to_be_checked()
    await summary.click()
    await expect(page.get_by_test_id("preferences-status")).to_have_text("Saved.")
    await expect(summary).to_be_checked()
    await page.reload()
    await expect(summary).to_be_checked()
    assert console.errors == [], "\n".join(console.errors)
