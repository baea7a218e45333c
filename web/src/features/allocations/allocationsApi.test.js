import { describe, expect, it } from "vitest";
import { ApiError, describeError, filenameOf } from "../../api";
import { recipientsChangedTo, submitErrorText } from "./allocationsApi";
const changed = { detail: { code: "recipients_changed", message: "the rule now matches 2,001 employees", matched: 2001 } };
describe("refusals", () => {
    it("reads recipients_changed with the new count", () => {
        const failure = new ApiError(409, describeError(409, changed), changed);
        expect(recipientsChangedTo(failure)).toBe(2001);
        expect(failure.message).toBe("the rule now matches 2,001 employees");
    });
    it("takes nothing else for recipients_changed", () => {
        expect(recipientsChangedTo(new ApiError(409, "x", { detail: "conflict" }))).toBeNull();
        expect(recipientsChangedTo(new ApiError(422, "x", changed))).toBeNull();
        expect(recipientsChangedTo(new Error("x"))).toBeNull();
    });
    it("explains validation problems and rate limits in words", () => {
        const body = { detail: [{ loc: ["body", "criteria"], msg: "criteria must name an audience", type: "no_audience" }] };
        expect(describeError(422, body)).toBe("criteria: criteria must name an audience");
        expect(submitErrorText(new ApiError(429, "x", null))).toMatch(/try again in a minute/);
        expect(submitErrorText(new TypeError("Failed to fetch"))).toMatch(/cannot allocate twice/);
    });
});
describe("download names", () => {
    it("come from Content-Disposition", () => {
        expect(filenameOf('attachment; filename="recipients.csv"')).toBe("recipients.csv");
        expect(filenameOf("attachment; filename=list.csv")).toBe("list.csv");
        expect(filenameOf("attachment")).toBeNull();
        expect(filenameOf(null)).toBeNull();
    });
});
