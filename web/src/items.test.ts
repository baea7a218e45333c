import { describe, expect, it } from "vitest";

import { applyState, fromEvent, fromRest, markRead, merge, safeActionUrl } from "./items";

const payload = {
  allocation_id: "a1",
  employee_id: "E1",
  department: "Sales",
  title: "New voucher: Winter bonus",
  body: "You received 50.00 EUR",
  voucher: { name: "Winter bonus", code: "WIN-1", amount: "50.00", currency: "EUR", expires_on: "2030-01-31" },
};

const rest = (id: number, readAt: string | null = null) =>
  fromRest({
    id,
    kind: "herald.voucher.allocated",
    title: payload.title,
    body: payload.body,
    data: payload,
    created_at: "2026-11-21T10:00:00Z",
    read_at: readAt,
  });

describe("items", () => {
  it("reads a stream event like the same item over REST", () => {
    const event = {
      specversion: "1.0",
      id: "7",
      type: "herald.voucher.allocated",
      time: "2026-11-21T10:00:00Z",
      data: payload,
    };
    expect(fromEvent(7, event)).toEqual(rest(7));
  });

  it("keeps one item per id, newest first", () => {
    const merged = merge([rest(1), rest(3)], [rest(2), rest(3)], false);
    expect(merged.map((i) => i.id)).toEqual([3, 2, 1]);
  });

  it("lets REST change read marks but not a live event", () => {
    const read = rest(3, "2026-11-21T11:00:00Z");
    expect(merge([read], [rest(3)], false)[0]?.readAt).toBe("2026-11-21T11:00:00Z");
    expect(merge([rest(3)], [read], true)[0]?.readAt).toBe("2026-11-21T11:00:00Z");
  });

  it("marks chosen or all unread items read", () => {
    const items = [rest(1), rest(2)];
    expect(markRead(items, new Set([2]), "t").map((i) => i.readAt)).toEqual([null, "t"]);
    expect(markRead(items, "all", "t").map((i) => i.readAt)).toEqual(["t", "t"]);
  });

  it("keeps markup as plain text", () => {
    const item = fromEvent(9, { type: "herald.notification.pushed", data: { title: "<img src=x onerror=alert(1)>" } });
    expect(item?.title).toBe("<img src=x onerror=alert(1)>");
    expect(item?.voucher).toBeNull();
  });

  it("marks a voucher revoked as soon as its revocation notice arrives", () => {
    const notice = fromEvent(9, {
      type: "herald.voucher.revoked",
      time: "2026-11-22T08:00:00Z",
      data: { ...payload, reason: "Wrong team", revoked_notification_id: 3 },
    });
    expect(notice?.revokes).toBe(3);
    const merged = merge([rest(3), rest(4)], notice ? [notice] : [], false);
    const byId = new Map(merged.map((item) => [item.id, item]));
    expect(byId.get(3)?.revokedAt).toBe("2026-11-22T08:00:00Z");
    expect(byId.get(3)?.revokeReason).toBe("Wrong team");
    expect(byId.get(4)?.revokedAt).toBeNull();
  });

  it("takes the revocation of an item from the REST answer", () => {
    const item = fromRest({
      id: 5,
      kind: "herald.voucher.allocated",
      title: payload.title,
      body: payload.body,
      data: payload,
      created_at: "2026-11-21T10:00:00Z",
      read_at: null,
      revoked_at: "2026-11-22T08:00:00Z",
      revoke_reason: "Budget cut",
    });
    expect(item.revokedAt).toBe("2026-11-22T08:00:00Z");
    expect(item.revokeReason).toBe("Budget cut");
  });
});

describe("action links", () => {
  it("keeps console paths and http(s) links, and drops other schemes", () => {
    expect(safeActionUrl("/allocations/a1/team")).toBe("/allocations/a1/team");
    expect(safeActionUrl("https://herald.example/allocations/a1/team")).toBe(
      "https://herald.example/allocations/a1/team",
    );
    expect(safeActionUrl("javascript:alert(1)")).toBeNull();
    expect(safeActionUrl("//evil.example/x")).toBeNull();
    expect(safeActionUrl(42)).toBeNull();
  });

  it("reads the action link and the archive mark over REST", () => {
    const item = fromRest({
      id: 1,
      kind: "herald.allocation.summary",
      title: "Team summary",
      body: "",
      data: {},
      created_at: "2026-11-21T10:00:00Z",
      read_at: null,
      archived: true,
      action_url: "/allocations/a1/team",
    });
    expect(item).toMatchObject({ archived: true, actionUrl: "/allocations/a1/team" });
  });
});

describe("applyState", () => {
  it("reads, unreads and archives one item, leaving the others", () => {
    const items = [rest(2), rest(1, "2026-11-21T11:00:00Z")];
    const read = applyState(items, { id: 2, read: true }, "2026-11-22T00:00:00Z");
    expect(read.map((i) => i.readAt)).toEqual(["2026-11-22T00:00:00Z", "2026-11-21T11:00:00Z"]);
    const unread = applyState(read, { id: 1, read: false, archived: true }, "x");
    expect(unread[1]).toMatchObject({ readAt: null, archived: true });
    expect(unread[0]).toBe(read[0]);
  });
});
