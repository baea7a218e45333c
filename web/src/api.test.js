import { describe, expect, it } from "vitest";
import { ApiError, describeError, errorText, filenameOf, parse } from "./api";
describe("errorText", () => {
    it("is an error's message", () => {
        expect(errorText(new ApiError(409, "The rule now matches 3 employees", null))).toBe("The rule now matches 3 employees");
        expect(errorText(new TypeError("Failed to fetch"))).toBe("Failed to fetch");
    });
    it("is the thrown value itself when it is not an Error", () => {
        expect(errorText("timed out")).toBe("timed out");
        expect(errorText(404)).toBe("404");
        expect(errorText(null)).toBe("null");
    });
});
describe("describeError", () => {
    it("reads FastAPI's three shapes of detail", () => {
        expect(describeError(404, { detail: "not found" })).toBe("not found");
        expect(describeError(409, { detail: { code: "recipients_changed", message: "changed" } })).toBe("changed");
        expect(describeError(422, {
            detail: [
                { loc: ["body", "voucher", "amount"], msg: "must be positive" },
                { loc: ["body"], msg: "invalid" },
            ],
        })).toBe("voucher › amount: must be positive; invalid");
    });
    it("falls back to the status", () => {
        expect(describeError(502, null)).toBe("the server answered 502");
    });
});
describe("parse", () => {
    it("throws an ApiError people can read, and reports a 401", async () => {
        let unauthorized = 0;
        const failure = await parse(new Response("Bad gateway", { status: 401 }), () => {
            unauthorized += 1;
        }).catch((error) => error);
        expect(failure).toBeInstanceOf(ApiError);
        expect(errorText(failure)).toBe("Bad gateway");
        expect(unauthorized).toBe(1);
    });
});
describe("filenameOf", () => {
    it("reads a plain filename", () => {
        expect(filenameOf('attachment; filename="recipients.csv"')).toBe("recipients.csv");
        expect(filenameOf(null)).toBeNull();
    });
});
