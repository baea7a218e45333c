import { describe, expect, it } from "vitest";

import { describeCriteria } from "./ConsoleView";

describe("criteria in words", () => {
  it("names what is used and skips what is null", () => {
    expect(
      describeCriteria({
        departments: ["Sales"],
        grades: ["G2"],
        min_years_experience: null,
        max_years_experience: 1,
      }),
    ).toBe("Sales · G2 · up to 1 year");
    expect(describeCriteria({ departments: null, grades: null })).toBe("All departments");
    expect(describeCriteria({ min_years_experience: 2, max_years_experience: 5 })).toBe(
      "All departments · 2–5 years",
    );
    expect(describeCriteria({ min_years_experience: 0 })).toBe("All departments · 0+ years");
    expect(describeCriteria({ min_years_experience: 0, max_years_experience: 1 })).toBe(
      "All departments · 0–1 year",
    );
  });
});
