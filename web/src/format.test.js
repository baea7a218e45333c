import { describe, expect, it } from "vitest";
import { formatAge, formatDay } from "./format";
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
