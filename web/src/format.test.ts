import { describe, expect, it } from "vitest";

import { formatAge, formatDay, formatExact, formatRelative } from "./format";

describe("ages", () => {
  it("uses the largest unit that says enough", () => {
    expect(formatAge(0)).toBe("0 s");
    expect(formatAge(42.7)).toBe("42 s");
    expect(formatAge(60)).toBe("1 min");
    expect(formatAge(150)).toBe("2 min");
    expect(formatAge(3600)).toBe("1 h");
    expect(formatAge(3600 + 5 * 60)).toBe("1 h 5 min");
    expect(formatAge(3 * 86400 + 10)).toBe("3 d");
  });

  it("never shows a negative age (clocks disagree)", () => {
    expect(formatAge(-3)).toBe("0 s");
  });
});

describe("days", () => {
  it("stay the day they name, and an unreadable one is shown as given", () => {
    expect(formatDay("2031-01-31")).toContain("2031");
    expect(formatDay("2031-01-31")).toContain("31");
    expect(formatDay("someday")).toBe("someday");
  });
});

describe("relative times", () => {
  const now = Date.parse("2030-01-10T12:00:00Z");
  it("says how long ago in the largest whole unit", () => {
    expect(formatRelative("2030-01-10T11:59:30Z", now)).toBe("just now");
    expect(formatRelative("2030-01-10T11:55:00Z", now)).toMatch(/5 minutes ago/);
    expect(formatRelative("2030-01-10T09:00:00Z", now)).toMatch(/3 hours ago/);
    expect(formatRelative("2030-01-09T12:00:00Z", now)).toMatch(/yesterday|1 day ago/);
    expect(formatRelative("2029-12-20T12:00:00Z", now)).toMatch(/3 weeks ago/);
  });

  it("keeps what it cannot read as it is", () => {
    expect(formatRelative("soon", now)).toBe("soon");
    expect(formatExact("soon")).toBe("soon");
  });
});
