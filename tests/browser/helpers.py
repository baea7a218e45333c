"""What the browser tests do again and again: sign in, screenshots, fill in an allocation."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.conftest import VIEWPORT, ConsoleWatch
from tests.support.stack import REPO

README_SHOTS = REPO / "docs" / "screenshots"
EXPIRES_ON = (date.today() + timedelta(days=90)).isoformat()
REVIEWED = "I have reviewed the recipients and the amount"
TYPED = "Type the number of recipients to confirm"


# axe-core from the console's own npm packages (web/package.json), so `npm ci` brings it.
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {
    "desktop": {"width": 1360, "height": 900},
    "phone": {"width": 390, "height": 844},
    "small-phone": {"width": 360, "height": 740},
}


def admin_api(services: Any, herald_env: Any, base_url: str | None = None) -> httpx.AsyncClient:
    """The allocation API (the session's, or the one at `base_url`) as an HR admin (use
    with `async with`)."""
    return httpx.AsyncClient(
        base_url=base_url or services.allocation_url, timeout=30, headers=herald_env.admin
    )


async def new_person(
    contexts: list,
    browser: Browser,
    console: ConsoleWatch,
    name: str,
    viewport: dict[str, int] = VIEWPORT,
    axe: bool = False,
) -> Page:
    context = await browser.new_context(viewport=viewport, locale="en-GB", timezone_id="UTC")
    contexts.append(context)
    if axe:
        # Before the page's own scripts, and outside its Content-Security-Policy.
        await context.add_init_script(path=str(AXE))
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
    # From the top, so the sticky header is where it belongs in a full-page picture.
    await page.evaluate("window.scrollTo(0, 0)")
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


@dataclass
class ViewCheck:
    """What one view measured: its widths and axe's findings by impact."""

    view: str
    viewport_width: int
    scroll_width: int
    violations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def blocking(self) -> list[str]:
        return self.violations.get("serious", []) + self.violations.get("critical", [])


AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""


async def check_view(page: Page, view: str, checks: list[ViewCheck]) -> ViewCheck:
    """No horizontal scrolling and no serious or critical axe violation on the view shown."""
    widths: dict[str, int] = await page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, viewport: window.innerWidth})"
    )
    found: list[dict[str, Any]] = await page.evaluate(AXE_RUN)
    violations: dict[str, list[str]] = {}
    for violation in found:
        where = ", ".join(violation["nodes"])
        violations.setdefault(violation["impact"] or "unknown", []).append(
            f"{violation['id']} ({where})"
        )
    check = ViewCheck(view, widths["viewport"], widths["scroll"], violations)
    checks.append(check)
    return check


def assert_views(checks: list[ViewCheck], output: Path) -> None:
    """Every view fits its viewport and has no serious or critical axe violation; the
    figures are kept beside the screenshots."""
    output.write_text(json.dumps([asdict(check) for check in checks], indent=2))
    too_wide = [
        f"{c.view}: {c.scroll_width} px > {c.viewport_width} px"
        for c in checks
        if c.scroll_width > c.viewport_width
    ]
    assert too_wide == [], too_wide
    blocking = {c.view: c.blocking for c in checks if c.blocking}
    assert blocking == {}, json.dumps(blocking, indent=2)


async def open_page(page: Page, link: str, phone: bool) -> None:
    """Follow a header link; on a phone the links are behind the menu button."""
    if phone:
        menu = page.get_by_role("button", name=re.compile(r"^Menu"))
        await menu.click()
        await expect(menu).to_have_attribute("aria-expanded", "true")
    await (
        page.get_by_role("navigation", name="Main")
        .get_by_role("link", name=re.compile(rf"^{re.escape(link)}"))
        .click()
    )


async def open_inbox_tab(page: Page, name: str) -> None:
    """Select an inbox tab and wait for its first page."""
    tab = page.get_by_role("tab", name=re.compile(rf"^{name}"))
    await tab.click()
    await expect(tab).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_text("Loading your inbox…")).to_have_count(0)
