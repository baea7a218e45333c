"""What the browser tests do again and again: sign in, screenshots, fill in an allocation."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.conftest import VIEWPORT, ConsoleWatch
from tests.support.stack import REPO

README_SHOTS = REPO / "docs" / "screenshots"
EXPIRES_ON = (date.today() + timedelta(days=90)).isoformat()
REVIEWED = "I have reviewed the recipients and the amount"
TYPED = "Type the number of recipients to confirm"


async def new_person(contexts: list, browser: Browser, console: ConsoleWatch, name: str) -> Page:
    context = await browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
    contexts.append(context)
    page = await context.new_page()
    console.attach(page, name)
    return page


async def sign_in(page: Page, url: str, employee_id: str, role: str) -> None:
    await page.goto(url)
    await page.get_by_label("Find a person").fill(employee_id)
    option = f"{employee_id}|{role}"
    person = page.get_by_label("Sign in as")
    await expect(person.locator(f'option[value="{option}"]')).to_have_count(1)
    await person.select_option(option)
    await page.get_by_role("button", name="Sign in").click()
    await expect_live(page)


async def expect_live(page: Page, timeout: float = 20_000) -> None:
    await expect(page.get_by_test_id("connection-state")).to_have_attribute(
        "data-state", "live", timeout=timeout
    )


async def shoot(page: Page, output_dir: Path, name: str, readme: bool = False) -> None:
    path = output_dir / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    if readme and os.environ.get("HERALD_UPDATE_SCREENSHOTS"):
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SHOTS / f"{name}.png")


def employees(count: int) -> str:
    return f"{count:,} employee" + ("" if count == 1 else "s")


async def tick_department(page: Page, department: str) -> None:
    await page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(department)} \(")).check()


async def fill_voucher(page: Page, name: str, prefix: str, amount: str = "50.00") -> None:
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Amount").fill(amount)
    await page.get_by_label("Expires on").fill(EXPIRES_ON)
    await page.get_by_label("Code prefix").fill(prefix)


async def open_review(page: Page) -> Locator:
    """Review the filled-in form; returns the review step once its figures are in."""
    await page.get_by_role("button", name="Review", exact=True).click()
    review = page.get_by_test_id("review")
    await expect(review.get_by_test_id("review-count")).to_be_visible(timeout=10_000)
    return review


def allocate_button(review: Locator) -> Locator:
    return review.get_by_role("button", name=re.compile(r"^Allocate to "))


async def confirm_review(review: Locator, matched: int) -> Locator:
    """Tick the review; returns the allocate button, enabled and naming the count."""
    await expect(review.get_by_test_id("review-count")).to_have_text(f"{matched:,}")
    submit = allocate_button(review)
    await expect(submit).to_have_text(f"Allocate to {employees(matched)}")
    await expect(submit).to_be_disabled()
    await review.get_by_label(REVIEWED).check()
    await expect(submit).to_be_enabled()
    return submit


async def allocate(page: Page, name: str, prefix: str, matched: int) -> None:
    """Fill in the voucher for the criteria already chosen, review, tick, allocate."""
    await fill_voucher(page, name, prefix)
    review = await open_review(page)
    submit = await confirm_review(review, matched)
    await submit.click()
    # Sent: the draft is cleared and the form is back, empty, for the next one.
    await expect(page.get_by_test_id("sent-notice")).to_contain_text(name)
    await expect(page.get_by_label("Name", exact=True)).to_have_value("")
