// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { formatMoney } from "../../format";
import { FakeApi } from "../../test/fakeApi";
import { fakeStreamClient } from "../../test/fakeStream";
import type { InboxItemBody, InboxPage } from "../../types";
import { NOTIFICATION_STATE, NOTIFICATIONS_READ_ALL, UNREAD_COUNT } from "../stream/StreamClient";
import { StreamHub } from "../stream/StreamHub";
import { useInbox } from "./useInbox";

const INBOX = "/v1/notifications";
const UNREAD = "/v1/notifications/unread-count";

const row = (id: number, readAt: string | null = null): InboxItemBody => ({
  id,
  kind: "herald.notification.pushed",
  title: `Item ${id}`,
  body: "",
  data: { employee_id: "E1" },
  created_at: "2030-01-01T10:00:00Z",
  read_at: readAt,
});

const page = (rows: InboxItemBody[], next: string | null = null): InboxPage => ({
  items: rows,
  next_cursor: next,
});

// A per-employee frame as the notifier sends it.
const arrived = (id: number, employeeId: string | null = "E1") => ({
  type: "herald.voucher.allocated",
  id,
  data: {
    type: "herald.voucher.allocated",
    time: "2030-01-01T11:00:00Z",
    data: {
      employee_id: employeeId,
      voucher: { name: "Winter bonus", code: "W-1", amount: "50.00", currency: "EUR" },
    },
  },
});

async function setup(rows: InboxItemBody[] = [row(3), row(2, "2030-01-01T10:05:00Z")], unread = 1) {
  const server = new FakeApi();
  const stream = new StreamHub();
  const client = fakeStreamClient();
  stream.attach(client);
  const hook = renderHook(() => useInbox(server.api, "E1", stream));
  await act(() => server.answer(INBOX, page(rows, rows.length > 0 ? "older" : null)));
  await act(() => server.answer(UNREAD, { unread }));
  const ids = () => hook.result.current.items.map((item) => item.id);
  const frame = (event: Parameters<typeof stream.clientOptions.onEvent>[0]) =>
    act(() => stream.clientOptions.onEvent(event));
  return { server, stream, client, ids, frame, ...hook };
}

afterEach(cleanup);

describe("useInbox", () => {
  it("loads the first page, then opens the stream after its newest item", async () => {
    const { server, client, ids, result } = await setup();
    expect(server.calls[0]?.query).toEqual({ archived: "false", limit: 50 });
    expect(ids()).toEqual([3, 2]);
    expect(result.current).toMatchObject({ loaded: true, error: null, unread: 1, hasOlder: true });
    expect(client.remember.mock.calls).toEqual([[3], [2]]);
    expect(client.start).toHaveBeenCalledExactlyOnceWith(3, []);
  });

  it("opens the stream from the start when the inbox could not load", async () => {
    const server = new FakeApi();
    const stream = new StreamHub();
    const client = fakeStreamClient();
    stream.attach(client);
    const { result } = renderHook(() => useInbox(server.api, "E1", stream));
    await act(() => server.fail(INBOX, new Error("the server answered 502")));
    expect(result.current).toMatchObject({ loaded: false, error: "the server answered 502" });
    expect(client.start).toHaveBeenCalledExactlyOnceWith(0, []);
  });

  it("puts a new item on top, once, and announces it", async () => {
    const { frame, ids, result } = await setup();
    frame(arrived(4));
    expect(ids()).toEqual([4, 3, 2]);
    expect(result.current.items[0]?.readAt).toBeNull();
    expect(result.current.announcement).toBe(
      `New voucher: Winter bonus, ${formatMoney("50.00", "EUR")}`,
    );
    // A frame never overrides what the page has: item 2 stays read.
    frame(arrived(2));
    expect(ids()).toEqual([4, 3, 2]);
    expect(result.current.items[2]?.readAt).not.toBeNull();
  });

  it("takes broadcasts but not someone else's items", async () => {
    const { frame, ids } = await setup();
    frame(arrived(5, "E2"));
    frame(arrived(6, null));
    expect(ids()).toEqual([6, 3, 2]);
  });

  it("follows the unread count, and reloads the read marks when it fell elsewhere", async () => {
    const { server, frame, result } = await setup();
    frame({ type: UNREAD_COUNT, id: null, data: { unread: 1 } });
    expect(server.open()).toHaveLength(0);
    frame({ type: UNREAD_COUNT, id: null, data: { unread: 0 } });
    expect(result.current.unread).toBe(0);
    expect(server.open(INBOX)).toHaveLength(1);
    await act(() =>
      server.answer(INBOX, page([row(3, "2030-01-01T12:00:00Z"), row(2, "2030-01-01T10:05:00Z")])),
    );
    expect(result.current.items.every((item) => item.readAt !== null)).toBe(true);
  });

  it("reloads the newest page when the stream says too much was missed", async () => {
    const { server, stream, ids } = await setup();
    act(() => stream.clientOptions.onReset?.());
    await act(() => server.answer(INBOX, page([row(9), row(3)])));
    expect(ids()).toEqual([9, 3, 2]);
  });

  it("marks one item read, and takes the count the server gives", async () => {
    const { server, result } = await setup();
    await act(async () => {
      const done = result.current.markOneRead(3);
      expect(server.open()[0]).toMatchObject({ method: "POST", path: "/v1/notifications/3/read" });
      await server.answer("/v1/notifications/3/read", { unread: 0 });
      await done;
    });
    expect(result.current.items[0]?.readAt).not.toBeNull();
    expect(result.current.unread).toBe(0);
  });

  it("marks everything read", async () => {
    const { server, frame, result } = await setup();
    frame(arrived(4));
    await act(async () => {
      const done = result.current.markAllRead();
      await server.answer("/v1/notifications/read-all", { marked: 2 });
      await done;
    });
    expect(result.current.items.every((item) => item.readAt !== null)).toBe(true);
    expect(result.current.unread).toBe(0);
  });

  it("loads older pages from the cursor until there are none", async () => {
    const { server, client, ids, result } = await setup();
    await act(async () => {
      const done = result.current.loadOlder();
      expect(server.open(INBOX)[0]?.query).toEqual({ archived: "false", limit: 50, cursor: "older" });
      await server.answer(INBOX, page([row(1)]));
      await done;
    });
    expect(ids()).toEqual([3, 2, 1]);
    expect(result.current.hasOlder).toBe(false);
    expect(client.remember).toHaveBeenLastCalledWith(1);
  });

  it("marks an item unread again, and takes the count the server gives", async () => {
    const { server, result } = await setup();
    await act(async () => {
      const done = result.current.act(2, "unread");
      expect(server.open()[0]).toMatchObject({ method: "POST", path: "/v1/notifications/2/unread" });
      await server.answer("/v1/notifications/2/unread", { unread: 2 });
      await done;
    });
    expect(result.current.items[1]?.readAt).toBeNull();
    expect(result.current.unread).toBe(2);
  });

  it("archives an item out of the tab, and unarchives it from the Archived tab", async () => {
    const { server, ids, result } = await setup();
    await act(async () => {
      const done = result.current.act(3, "archive");
      await server.answer("/v1/notifications/3/archive", { unread: 0 });
      await done;
    });
    expect(ids()).toEqual([2]);
    expect(result.current.unread).toBe(0);

    act(() => result.current.selectTab("archived"));
    expect(result.current).toMatchObject({ tab: "archived", loaded: false, items: [] });
    expect(server.open(INBOX)[0]?.query).toEqual({ archived: "true", limit: 50 });
    await act(() => server.answer(INBOX, page([{ ...row(3), archived: true }])));
    expect(ids()).toEqual([3]);
    await act(async () => {
      const done = result.current.act(3, "unarchive");
      await server.answer("/v1/notifications/3/unarchive", { unread: 1 });
      await done;
    });
    expect(ids()).toEqual([]);
    expect(result.current.unread).toBe(1);
  });

  it("asks the server for each tab's items", async () => {
    const { server, result } = await setup();
    act(() => result.current.selectTab("unread"));
    expect(server.open(INBOX)[0]?.query).toEqual({ archived: "false", status: "unread", limit: 50 });
    act(() => result.current.selectTab("vouchers"));
    expect(server.open(INBOX)[1]?.query).toEqual({
      archived: "false",
      kind: "herald.voucher.allocated",
      limit: 50,
    });
  });

  it("drops a late answer for a tab left since", async () => {
    const { server, ids, result } = await setup();
    act(() => result.current.selectTab("unread"));
    act(() => result.current.selectTab("archived"));
    await act(() => server.answer(INBOX, page([row(8)])));
    expect(ids()).toEqual([]);
    await act(() => server.answer(INBOX, page([{ ...row(5), archived: true }])));
    expect(ids()).toEqual([5]);
  });

  it("shows only unread items in the Unread tab, and a read one leaves it", async () => {
    const { server, ids, result } = await setup();
    act(() => result.current.selectTab("unread"));
    await act(() => server.answer(INBOX, page([row(3), row(1)])));
    expect(ids()).toEqual([3, 1]);
    await act(async () => {
      const done = result.current.markOneRead(3);
      await server.answer("/v1/notifications/3/read", { unread: 1 });
      await done;
    });
    expect(ids()).toEqual([1]);
  });

  it("follows reads and archives made in other tabs and devices", async () => {
    const { frame, ids, result } = await setup();
    frame({ type: NOTIFICATION_STATE, id: null, data: { id: "3", read: true, archived: false } });
    expect(result.current.items[0]?.readAt).not.toBeNull();
    frame({ type: NOTIFICATION_STATE, id: null, data: { id: "2", read: false, archived: false } });
    expect(result.current.items[1]?.readAt).toBeNull();
    frame({ type: NOTIFICATION_STATE, id: null, data: { id: "3", read: true, archived: true } });
    expect(ids()).toEqual([2]);
  });

  it("marks read what was marked all read elsewhere, up to the id given", async () => {
    const { frame, result } = await setup([row(5), row(4), row(3)], 3);
    frame({ type: NOTIFICATIONS_READ_ALL, id: null, data: { up_to: 4 } });
    expect(result.current.items.map((item) => item.readAt === null)).toEqual([true, false, false]);
  });

  it("reloads when an item it does not have changed elsewhere", async () => {
    const { server, frame, ids } = await setup();
    frame({ type: NOTIFICATION_STATE, id: null, data: { id: "7", read: false, archived: false } });
    expect(server.open(INBOX)).toHaveLength(1);
    await act(() => server.answer(INBOX, page([row(7), row(3), row(2)])));
    expect(ids()).toEqual([7, 3, 2]);
  });

  it("tells the page of each new item once", async () => {
    const server = new FakeApi();
    const stream = new StreamHub();
    stream.attach(fakeStreamClient());
    const arrivals: number[] = [];
    renderHook(() => useInbox(server.api, "E1", stream, (item) => arrivals.push(item.id)));
    await act(() => server.answer(INBOX, page([])));
    await act(() => server.answer(UNREAD, { unread: 0 }));
    act(() => stream.clientOptions.onEvent(arrived(4)));
    act(() => stream.clientOptions.onEvent(arrived(5, "E2")));
    expect(arrivals).toEqual([4]);
  });
});
