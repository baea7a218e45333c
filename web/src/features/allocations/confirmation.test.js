import { describe, expect, it } from "vitest";
import { canAllocate, parseTypedCount } from "./confirmation";
const preview = (matched, confirmation) => ({
    matched,
    by_department: [],
    total_cost: [],
    sample: [],
    confirmation,
    typed_confirmation_above: 1000,
});
describe("a typed count", () => {
    it("reads digits with or without thousands separators", () => {
        expect(parseTypedCount("2000")).toBe(2000);
        expect(parseTypedCount(" 2000 ")).toBe(2000);
        expect(parseTypedCount("2,000")).toBe(2000);
        expect(parseTypedCount("1,234,567")).toBe(1234567);
        expect(parseTypedCount("2.000")).toBe(2000);
        expect(parseTypedCount("2 000")).toBe(2000);
        expect(parseTypedCount("2\u202f000")).toBe(2000);
        expect(parseTypedCount("2'000")).toBe(2000);
    });
    it("is no count when it is not written like one", () => {
        for (const text of ["", "two thousand", "20.00", "2,00", "2,0000", "1,234.567", "1,234 567", "-2000", "2e3", ",000"]) {
            expect(parseTypedCount(text)).toBeNull();
        }
    });
});
describe("allocating from the review", () => {
    it("needs the tick", () => {
        expect(canAllocate(preview(3, "review"), { reviewed: false, typed: "" })).toBe(false);
        expect(canAllocate(preview(3, "review"), { reviewed: true, typed: "" })).toBe(true);
    });
    it("needs the exact count typed when the preview asks for it", () => {
        const big = preview(2000, "typed");
        expect(canAllocate(big, { reviewed: true, typed: "" })).toBe(false);
        expect(canAllocate(big, { reviewed: true, typed: "1999" })).toBe(false);
        expect(canAllocate(big, { reviewed: true, typed: "20000" })).toBe(false);
        expect(canAllocate(big, { reviewed: false, typed: "2000" })).toBe(false);
        expect(canAllocate(big, { reviewed: true, typed: "2,000" })).toBe(true);
        expect(canAllocate(big, { reviewed: true, typed: "2000" })).toBe(true);
    });
    it("is never possible for nobody", () => {
        expect(canAllocate(preview(0, "review"), { reviewed: true, typed: "0" })).toBe(false);
    });
});
