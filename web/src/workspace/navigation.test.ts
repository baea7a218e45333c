import { describe, expect, it } from "vitest";

import type { Role } from "../types";
import { pathOf, roleLabel, routeFor, viewFor } from "./navigation";

const admin = { roles: ["hr-admin", "employee"] as Role[], manages: null };
const manager = { roles: ["manager", "employee"] as Role[], manages: "Sales" };
const employee = { roles: ["employee"] as Role[], manages: null };

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

describe("routeFor", () => {
  it("opens an allocation's team page for managers", () => {
    expect(routeFor("/allocations/a-1/team", manager)).toEqual({
      view: "allocation-team",
      allocationId: "a-1",
    });
    expect(pathOf({ view: "allocation-team", allocationId: "a-1" })).toBe("/allocations/a-1/team");
  });

  it("sends others home instead, and anyone to the preferences", () => {
    expect(routeFor("/allocations/a-1/team", employee)).toEqual({ view: "inbox" });
    expect(routeFor("/allocations/a-1/team", admin)).toEqual({ view: "allocations" });
    expect(routeFor("/preferences", employee)).toEqual({ view: "preferences" });
    expect(routeFor("/allocations/a 1/team", manager)).toEqual({ view: "inbox" });
  });
});
