"""Allocating safely in real Chromium, over the real services.

The rule names its audience, the admin reviews whom and how much before anything is sent
(and types the count for everyone), and one draft makes one allocation whatever the clicks
and reloads. Every test here targets departments of its own, so nobody else's inbox moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request, Route, expect

from tests.browser.conftest import BrowserStack
from tests.browser.helpers import (
    REVIEWED,
    TYPED,
    allocate_button,
    confirm_review,
    employees,
    expect_live,
    fill_voucher,
    new_person,
    open_review,
    shoot,
    sign_in,
    tick_department,
)
from tests.support.api import employees_csv, import_employees, wait_until_finished

pytestmark = pytest.mark.integration

ADMIN = "RVW-A1"
HIRED = date.today() - timedelta(days=3 * 365)
LOGISTICS = [
    ("RVW-L1", "Ines Moreau"),
    ("RVW-L2", "Kwame Mensah"),
    ("RVW-L3", "Lena Fischer"),
    ("RVW-L4", "Marco Bianchi"),
    ("RVW-L5", "Nadia Haddad"),
    ("RVW-L6", "Oskar Nyberg"),
    ("RVW-L7", "Priya Raman"),
]
FIELD_SERVICE = [
    ("RVW-F1", "Quentin Leroy"),
    ("RVW-F2", "Rosa Jiménez"),
    ("RVW-F3", "Samir Aziz"),
    ("RVW-F4", "Tanja Kovač"),
    ("RVW-F5", "Umar Farouk"),
]
FACILITIES = [("RVW-C1", "Vera Holm"), ("RVW-C2", "Wen Li"), ("RVW-C3", "Xavier Dubois")]
PROCUREMENT = [("RVW-P1", "Yara Nasser"), ("RVW-P2", "Zeno Papadakis")]
QUALITY = [("RVW-Q1", "Agnes Varga"), ("RVW-Q2", "Bruno Costa")]
LATECOMER = ("RVW-Q3", "Chiara Conti")
CSV_HEADER = ["employee_id", "name", "email", "department", "grade", "hired_on"]


@pytest.fixture(scope="module")
async def people(services, herald_env):
    rows = [(ADMIN, "Beatriz Santos", "HR", "G6", date(2015, 4, 1))]
    for department, staff in (
        ("Logistics", LOGISTICS),
        ("Field Service", FIELD_SERVICE),
        ("Facilities", FACILITIES),
        ("Procurement", PROCUREMENT),
        ("Quality", QUALITY),
    ):
        rows += [(employee_id, name, department, "G3", HIRED) for employee_id, name in staff]
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        response = await import_employees(api, employees_csv(rows))
        assert response.status_code == 200, response.text


def allocations_named(database_url: str, name: str) -> list[str]:
    # Compared in Python: `voucher->>'name'` fails on any voucher whose name holds U+0000
    # (which `json` keeps and `text` cannot), such as the hostile-text tests write.
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id, voucher::text FROM allocations").fetchall()
    return [str(row[0]) for row in rows if json.loads(row[1])["name"] == name]


def allocation_total(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM allocations").fetchone()
    assert row is not None
    return int(row[0])


async def stored_draft(page: Page) -> dict[str, Any]:
    raw = await page.evaluate(
        "(key) => localStorage.getItem(key)", f"herald.allocation-draft.{ADMIN}"
    )
    assert raw is not None
    draft: dict[str, Any] = json.loads(raw)
    return draft


def is_allocation_post(request: Request) -> bool:
    return request.method == "POST" and urlsplit(request.url).path == "/v1/allocations"


async def signed_in_admin(browser, browser_stack, console, contexts) -> Page:
    admin = await new_person(contexts, browser, console, "hr-admin")
    await sign_in(admin, browser_stack.url, ADMIN, "hr-admin")
    await expect(admin.get_by_role("heading", name="Allocations", exact=True)).to_be_visible()
    return admin


async def test_review_shows_whom_and_how_much_and_the_csv_lists_them(
    browser, browser_stack: BrowserStack, people, herald_env, console, contexts, output_dir
):
    admin = await signed_in_admin(browser, browser_stack, console, contexts)

    # A new form names nobody and fills in no voucher: there is nothing to review yet.
    await expect(admin.get_by_test_id("audience-required")).to_be_visible()
    await expect(admin.get_by_role("button", name="Review", exact=True)).to_be_disabled()
    await expect(admin.get_by_text("None ticked means every department")).to_have_count(0)
    for label in ("Name", "Amount", "Expires on", "Code prefix"):
        await expect(admin.get_by_label(label, exact=True)).to_have_value("")
    await expect(admin.get_by_label("Currency")).to_have_value("EUR")

    await tick_department(admin, "Logistics")
    await tick_department(admin, "Field Service")
    await expect(admin.get_by_test_id("audience-required")).to_have_count(0)
    await fill_voucher(admin, "Summer bonus", "SUM", amount="25.50")
    review = await open_review(admin)

    everybody = dict(LOGISTICS + FIELD_SERVICE)
    await expect(review.get_by_test_id("review-count")).to_have_text(str(len(everybody)))
    await expect(review.get_by_test_id("review-audience")).to_have_text("Field Service, Logistics")
    per_department = {}
    for row in await review.get_by_test_id("review-department").all():
        department, count = [await cell.inner_text() for cell in await row.locator("td").all()]
        per_department[department] = int(count)
    assert per_department == {"Logistics": 7, "Field Service": 5}
    await expect(review.get_by_test_id("review-total")).to_have_text("€306.00")  # 12 × €25.50
    sample = review.get_by_test_id("review-sample").locator("li")
    await expect(sample).to_have_count(10)
    shown = [(await item.inner_text()).split(" · ")[0] for item in await sample.all()]
    assert len(set(shown)) == 10, shown
    assert set(shown) <= set(everybody.values()), shown
    await expect(review).to_contain_text("and 2 others.")

    # Nothing goes out before the admin says they reviewed it.
    submit = allocate_button(review)
    await expect(submit).to_have_text("Allocate to 12 employees")
    await expect(submit).to_be_disabled()
    await review.get_by_label(REVIEWED).check()
    await expect(submit).to_be_enabled()
    await expect(review.get_by_label(TYPED)).to_have_count(0)  # 12 is under the threshold
    await shoot(admin, output_dir, "review", readme=True)

    async with admin.expect_download() as started:
        await review.get_by_role("button", name="Download the full list (CSV)").click()
    download = await started.value
    assert download.suggested_filename == "recipients.csv"
    with open(await download.path(), encoding="utf-8", newline="") as listed:
        reader = csv.reader(listed)
        header = next(reader)
        recipients = list(reader)
    assert header == CSV_HEADER
    assert len(recipients) == int(await review.get_by_test_id("review-count").inner_text())
    assert {(r[0], r[1]) for r in recipients} == set(everybody.items())
    assert {r[3] for r in recipients} == {"Logistics", "Field Service"}

    # Back to edit: the draft is as it was, and nothing was allocated.
    await review.get_by_role("button", name="Back to edit").click()
    await expect(admin.get_by_label("Name", exact=True)).to_have_value("Summer bonus")
    await expect(admin.get_by_role("checkbox", name="Everyone (all employees)")).not_to_be_checked()
    assert allocations_named(herald_env.database_url, "Summer bonus") == []
    assert console.errors == [], "\n".join(console.errors)


async def test_everyone_needs_the_exact_count_typed(
    browser, browser_stack: BrowserStack, people, herald_env, console, contexts, output_dir
):
    admin = await signed_in_admin(browser, browser_stack, console, contexts)
    logistics = admin.get_by_role("checkbox", name="Logistics (")
    g3 = admin.get_by_role("checkbox", name="G3", exact=True)
    at_least = admin.get_by_label("At least")
    await logistics.check()
    await g3.check()
    await at_least.fill("1")

    # Everyone stands alone: ticking it clears the other criteria and locks them.
    everyone = admin.get_by_label("Everyone (all employees)")
    await everyone.check()
    for box in (logistics, g3):
        await expect(box).not_to_be_checked()
        await expect(box).to_be_disabled()
    await expect(at_least).to_have_value("")
    await expect(at_least).to_be_disabled()

    await fill_voucher(admin, "Thank-you voucher", "THANKS", amount="10.00")
    review = await open_review(admin)
    await expect(review.get_by_test_id("review-audience")).to_have_text("Everyone")
    total = int((await review.get_by_test_id("review-count").inner_text()).replace(",", ""))
    with psycopg.connect(herald_env.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM employees").fetchone()
    assert row is not None
    assert total == row[0]

    submit = allocate_button(review)
    await expect(submit).to_have_text(f"Allocate to {employees(total)}")
    typed = review.get_by_label(TYPED)
    await review.get_by_label(REVIEWED).check()
    await expect(submit).to_be_disabled()  # ticked, but the count is not typed yet
    for wrong in (str(total + 1), str(total - 1), f"{total}0", f"{total}.5", "everyone"):
        await typed.fill(wrong)
        await expect(submit).to_be_disabled()
    await typed.fill(f"{total:,}")
    await expect(submit).to_be_enabled()
    await typed.fill(str(total))
    await expect(submit).to_be_enabled()
    await review.get_by_label(REVIEWED).uncheck()
    await expect(submit).to_be_disabled()
    await shoot(admin, output_dir, "review-typed")

    # Back to edit, then a reload: the draft is kept, Everyone and the voucher with it.
    await review.get_by_role("button", name="Back to edit").click()
    await admin.reload()
    await expect_live(admin)
    await expect(everyone).to_be_checked()
    await expect(admin.get_by_label("Name", exact=True)).to_have_value("Thank-you voucher")
    await expect(admin.get_by_label("Code prefix")).to_have_value("THANKS")
    assert allocations_named(herald_env.database_url, "Thank-you voucher") == []
    assert console.errors == [], "\n".join(console.errors)


async def test_a_double_click_on_allocate_allocates_once(
    browser, browser_stack: BrowserStack, people, herald_env, services, console, contexts
):
    admin = await signed_in_admin(browser, browser_stack, console, contexts)
    name = "Double-click bonus"
    before = allocation_total(herald_env.database_url)
    await tick_department(admin, "Facilities")
    await fill_voucher(admin, name, "DBL")
    review = await open_review(admin)
    submit = await confirm_review(review, len(FACILITIES))
    where = await submit.bounding_box()
    assert where is not None

    await submit.dblclick()
    # And once more where the button was, 350 ms later, as the admin in the report did.
    await admin.wait_for_timeout(350)
    await admin.mouse.click(where["x"] + where["width"] / 2, where["y"] + where["height"] / 2)

    await expect(admin.get_by_test_id("sent-notice")).to_contain_text(name)
    made = allocations_named(herald_env.database_url, name)
    assert len(made) == 1, made
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await wait_until_finished(api, made[0]))["status"] == "completed"
        listed = (await api.get("/v1/allocations", params={"limit": 200})).json()["items"]
    assert [a["id"] for a in listed if a["voucher"]["name"] == name] == made
    assert allocation_total(herald_env.database_url) == before + 1
    await expect(admin.get_by_test_id("progress")).to_have_attribute(
        "data-status", "completed", timeout=30_000
    )
    await expect(admin.get_by_test_id("history-row").filter(has_text=name)).to_have_count(1)
    assert console.errors == [], "\n".join(console.errors)


async def test_a_reload_while_sending_allocates_once_and_shows_it(
    browser, browser_stack: BrowserStack, people, herald_env, console, contexts
):
    admin = await signed_in_admin(browser, browser_stack, console, contexts)
    name = "Reload bonus"
    before = allocation_total(herald_env.database_url)
    keys: list[str | None] = []
    first_answered, let_first_go = asyncio.Event(), asyncio.Event()
    second_arrived, let_second_go = asyncio.Event(), asyncio.Event()

    async def hold(route: Route) -> None:
        if not is_allocation_post(route.request):
            await route.continue_()
            return
        keys.append(await route.request.header_value("Idempotency-Key"))
        if len(keys) == 1:
            # The server makes the allocation; its answer never reaches the page.
            answer = await route.fetch()
            assert answer.status == 202, await answer.text()
            first_answered.set()
            await let_first_go.wait()
            with contextlib.suppress(PlaywrightError):  # the page that asked is gone
                await route.fulfill(response=answer)
        else:
            second_arrived.set()
            await let_second_go.wait()
            await route.continue_()

    await admin.route(lambda url: urlsplit(url).path == "/v1/allocations", hold)
    await tick_department(admin, "Procurement")
    await fill_voucher(admin, name, "RLD")
    review = await open_review(admin)
    submit = await confirm_review(review, len(PROCUREMENT))
    await submit.click()
    await asyncio.wait_for(first_answered.wait(), 15)
    assert len(allocations_named(herald_env.database_url, name)) == 1
    # The mark of the request on its way was stored, with the key it went out with.
    pending = (await stored_draft(admin))["pending"]
    assert pending is not None
    assert pending["key"] == keys[0]
    assert pending["request"]["confirmed_recipients"] == len(PROCUREMENT)

    async with admin.expect_response(lambda r: is_allocation_post(r.request)) as replayed:
        await admin.reload()
        let_first_go.set()
        # Signed in again, the console sends the same request by itself, and says so.
        await asyncio.wait_for(second_arrived.wait(), 20)
        await expect(admin.get_by_test_id("resuming")).to_be_visible()
        let_second_go.set()
    answer = await replayed.value
    assert answer.status == 202
    assert answer.headers.get("idempotent-replayed") == "true"
    assert len(keys) == 2
    assert keys[0] is not None
    assert keys[1] == keys[0]

    made = allocations_named(herald_env.database_url, name)
    assert len(made) == 1, made
    assert allocation_total(herald_env.database_url) == before + 1
    await expect(admin.get_by_test_id("sent-notice")).to_contain_text(
        f"“{name}” was received before the reload"
    )
    progress = admin.get_by_test_id("progress")
    await expect(progress.locator(".fineprint code")).to_have_text(made[0])
    await expect(progress).to_have_attribute("data-status", "completed", timeout=30_000)
    await expect(admin.get_by_test_id("history-row").filter(has_text=name)).to_have_count(1)
    # Done: the draft starts again from nothing, under a new key.
    await expect(admin.get_by_label("Name", exact=True)).to_have_value("")
    draft = await stored_draft(admin)
    assert draft["pending"] is None
    assert draft["key"] != keys[0]
    await admin.unroute_all()
    assert console.errors == [], "\n".join(console.errors)


async def test_recipients_changed_since_the_review_goes_back_to_the_review(
    browser, browser_stack: BrowserStack, people, herald_env, services, console, contexts
):
    admin = await signed_in_admin(browser, browser_stack, console, contexts)
    name = "Quality bonus"
    sent: list[tuple[str | None, dict[str, Any]]] = []

    async def note(request: Request) -> None:
        if is_allocation_post(request):
            sent.append((await request.header_value("Idempotency-Key"), request.post_data_json))

    admin.on("request", note)
    await tick_department(admin, "Quality")
    await fill_voucher(admin, name, "QLT")
    review = await open_review(admin)
    submit = await confirm_review(review, len(QUALITY))

    # Someone joins Quality between the review and the click.
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        joined = await import_employees(api, employees_csv([(*LATECOMER, "Quality", "G3", HIRED)]))
        assert joined.status_code == 200, joined.text
    await submit.click()

    # Refused, nothing made: the review comes back with the new figures, unticked.
    await expect(review.get_by_test_id("review-notice")).to_contain_text("now matches 3 employees")
    await expect(review.get_by_test_id("review-count")).to_have_text("3")
    await expect(review.get_by_test_id("review-sample")).to_contain_text(LATECOMER[1])
    await expect(review.get_by_label(REVIEWED)).not_to_be_checked()
    assert allocations_named(herald_env.database_url, name) == []
    submit = await confirm_review(review, 3)
    await submit.click()
    await expect(admin.get_by_test_id("sent-notice")).to_contain_text(name)

    made = allocations_named(herald_env.database_url, name)
    assert len(made) == 1, made
    await expect(admin.get_by_test_id("progress")).to_have_attribute(
        "data-status", "completed", timeout=30_000
    )
    await expect(admin.get_by_test_id("step-matched-value")).to_have_text("3")
    # Both sends were the same draft, so the same key; only the confirmed count moved.
    assert [body["confirmed_recipients"] for _, body in sent] == [2, 3]
    assert sent[0][0] is not None
    assert sent[1][0] == sent[0][0]
    # Chromium logs every 4xx answer; the one 409 is this test's point, anything else is not.
    refused = [e for e in console.errors if "status of 409" in e and "/v1/allocations" in e]
    assert len(refused) == 1, console.errors
    others = [e for e in console.errors if e not in refused]
    assert others == [], "\n".join(others)


async def test_a_request_no_worker_has_picked_up_says_so(
    browser, browser_stack: BrowserStack, people, herald_env, console, contexts, output_dir
):
    name = "Stuck bonus"
    with psycopg.connect(herald_env.database_url) as conn:
        row = conn.execute(
            "INSERT INTO allocations (id, request_hash, voucher, criteria, status, requested_at)"
            " VALUES (gen_random_uuid(), 'x', %s::jsonb, %s::jsonb, 'requested',"
            " now() - interval '125 seconds') RETURNING id",
            (
                json.dumps(
                    {
                        "name": name,
                        "amount": "10.00",
                        "currency": "EUR",
                        "expires_on": "2031-01-01",
                        "code_prefix": "STK",
                    }
                ),
                json.dumps({"departments": ["Logistics"]}),
            ),
        ).fetchone()
    assert row is not None
    try:
        admin = await signed_in_admin(browser, browser_stack, console, contexts)
        stuck = admin.get_by_test_id("history-row").filter(has_text=name)
        await expect(stuck).to_contain_text("Requested")
        await expect(stuck.get_by_test_id("history-waiting")).to_have_text(
            "Waiting for a worker · 2 min"
        )
        await stuck.get_by_role("button", name="Show progress").click()
        await expect(admin.get_by_test_id("progress-waiting")).to_have_text(
            "Waiting for a worker · 2 min"
        )
        await shoot(admin, output_dir, "console-waiting")
        assert console.errors == [], "\n".join(console.errors)
    finally:
        # Nothing else in the session may see a request that waits for ever.
        with psycopg.connect(herald_env.database_url) as conn:
            conn.execute("DELETE FROM allocations WHERE id = %s", (row[0],))
