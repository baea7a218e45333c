import { describe, expect, it } from "vitest";
import { EMPTY_FORM, audienceOf, chooseEveryone, criteriaOf, describeCriteria, voucherOf, } from "./form";
describe("the audience", () => {
    it("is none until something is chosen: no choice never means everyone", () => {
        expect(audienceOf(EMPTY_FORM)).toBe("none");
        expect(criteriaOf(EMPTY_FORM)).toEqual({});
        expect(audienceOf({ ...EMPTY_FORM, minYears: "0" })).toBe("filtered");
        expect(audienceOf({ ...EMPTY_FORM, grades: ["G2"] })).toBe("filtered");
    });
    it("is everyone only when chosen, alone, and sent as all_employees", () => {
        const chosen = chooseEveryone({ ...EMPTY_FORM, departments: ["Sales"], grades: ["G2"], minYears: "1", maxYears: "3" }, true);
        expect(chosen).toMatchObject({ everyone: true, departments: [], grades: [], minYears: "", maxYears: "" });
        expect(audienceOf(chosen)).toBe("everyone");
        expect(criteriaOf(chosen)).toEqual({ all_employees: true });
        expect(audienceOf(chooseEveryone(chosen, false))).toBe("none");
    });
    it("builds criteria from what is set, in one order whatever the clicks", () => {
        const form = { ...EMPTY_FORM, departments: ["Sales", "HR"], grades: ["G3", "G1"], maxYears: "1" };
        expect(criteriaOf(form)).toEqual({
            departments: ["HR", "Sales"],
            grades: ["G1", "G3"],
            max_years_experience: 1,
        });
        expect(criteriaOf(form)).not.toHaveProperty("all_employees");
    });
});
describe("the voucher", () => {
    it("starts empty except the currency", () => {
        expect(EMPTY_FORM).toMatchObject({ name: "", amount: "", expiresOn: "", codePrefix: "", currency: "EUR" });
    });
    it("is sent trimmed, with two decimals and an upper-case prefix", () => {
        const form = { ...EMPTY_FORM, name: " Winter bonus ", amount: "50", expiresOn: "2031-01-31", codePrefix: "win " };
        expect(voucherOf(form)).toEqual({
            name: "Winter bonus",
            amount: "50.00",
            currency: "EUR",
            expires_on: "2031-01-31",
            code_prefix: "WIN",
        });
        expect(voucherOf(EMPTY_FORM).amount).toBe("");
    });
});
describe("criteria in words", () => {
    it("says Everyone for all_employees", () => {
        expect(describeCriteria({ all_employees: true })).toBe("Everyone");
        // Stored criteria name every field, with null for the ones not used.
        expect(describeCriteria({ all_employees: true, departments: null, grades: null, min_years_experience: null })).toBe("Everyone");
    });
    it("names what is used and skips what is null", () => {
        expect(describeCriteria({
            departments: ["Sales"],
            grades: ["G2"],
            min_years_experience: null,
            max_years_experience: 1,
            all_employees: null,
        })).toBe("Sales · G2 · up to 1 year");
        expect(describeCriteria({ departments: null, grades: null })).toBe("All departments");
        expect(describeCriteria({ min_years_experience: 2, max_years_experience: 5 })).toBe("All departments · 2–5 years");
        expect(describeCriteria({ min_years_experience: 0 })).toBe("All departments · 0+ years");
        expect(describeCriteria({ min_years_experience: 0, max_years_experience: 1 })).toBe("All departments · 0–1 year");
    });
});
