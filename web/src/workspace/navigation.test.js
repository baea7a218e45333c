import { describe, expect, it } from "vitest";
import { roleLabel, viewFor } from "./navigation";
const admin = { roles: ["hr-admin", "employee"], manages: null };
const manager = { roles: ["manager", "employee"], manages: "Sales" };
const employee = { roles: ["employee"], manages: null };
describe("viewFor", () => {
    it("opens the page the path names when the person may see it", () => {
        expect(viewFor("/allocations", admin)).toBe("allocations");
        expect(viewFor("/team", manager)).toBe("team");
        expect(viewFor("/inbox", admin)).toBe("inbox");
    });
    it("falls back to the person's home page", () => {
        expect(viewFor("/allocations", employee)).toBe("inbox");
        expect(viewFor("/team", admin)).toBe("allocations");
        expect(viewFor("/", admin)).toBe("allocations");
        expect(viewFor("/", manager)).toBe("inbox");
        // A manager role without a department has no feed to show.
        expect(viewFor("/team", { roles: ["manager"], manages: null })).toBe("inbox");
    });
});
describe("roleLabel", () => {
    it("names the strongest role", () => {
        expect(roleLabel(admin)).toBe("HR admin");
        expect(roleLabel(manager)).toBe("Manager, Sales");
        expect(roleLabel(employee)).toBe("Employee");
    });
});
