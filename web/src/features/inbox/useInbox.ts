// The signed-in person's inbox and unread count: a tab's first page over REST, then what
// the stream brings; read and archive marks go to the server and come back from other tabs
// and devices (`unread-count`, `notification-state`).

import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";

import { type Api, errorText } from "../../api";
import { formatMoney } from "../../format";
import {
  type Item,
  type ItemState,
  VOUCHER_REVOKED,
  applyState,
  fromEvent,
  fromRest,
  markRead,
  merge,
} from "../../items";
import type { InboxPage } from "../../types";
import {
  NOTIFICATION_STATE,
  NOTIFICATIONS_READ_ALL,
  type StreamEvent,
  UNREAD_COUNT,
} from "../stream/StreamClient";
import type { StreamHub } from "../stream/StreamHub";
import { type InboxTab, belongsTo, queryFor } from "./tabs";

const PAGE = 50;

export type ItemAction = "read" | "unread" | "archive" | "unarchive";

// What each action changes on the item once the server agreed.
const EFFECT: Record<ItemAction, Omit<ItemState, "id">> = {
  read: { read: true },
  unread: { read: false },
  archive: { archived: true },
  unarchive: { archived: false },
};

export interface Inbox {
  tab: InboxTab;
  // The items of the tab shown, newest first.
  items: Item[];
  loaded: boolean;
  error: string | null;
  hasOlder: boolean;
  unread: number;
  // For the live region: what just arrived.
  announcement: string;
  selectTab: (tab: InboxTab) => void;
  loadOlder: () => Promise<void>;
  act: (id: number, action: ItemAction) => Promise<void>;
  markOneRead: (id: number) => Promise<void>;
  markAllRead: () => Promise<void>;
}

export function describeArrival(item: Item): string {
  if (item.kind === VOUCHER_REVOKED) return `Voucher revoked: ${item.voucher?.name ?? item.title}`;
  if (item.voucher) {
    const { name, amount, currency } = item.voucher;
    return `New voucher: ${name}, ${formatMoney(amount, currency)}`;
  }
  return `New notification: ${item.title}`;
}

function isItemState(value: unknown): value is ItemState {
  if (typeof value !== "object" || value === null) return false;
  return Number.isSafeInteger(Number((value as { id?: unknown }).id));
}

// `onArrival`: told of each new item the stream brings (the page's toasts).
export function useInbox(
  api: Api,
  employeeId: string,
  stream: StreamHub,
  onArrival?: (item: Item) => void,
): Inbox {
  const [tab, setTab] = useState<InboxTab>("all");
  const [items, setItems] = useState<Item[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [unread, setUnread] = useState(0);
  const [announcement, setAnnouncement] = useState("");
  // The tab whose answers are wanted: a late answer for a tab left since is dropped.
  const shownTab = useRef<InboxTab>("all");

  // The tab's newest page again; resolves to the newest id on it (0 for an empty page).
  const reload = useCallback(
    (which: InboxTab) =>
      api
        .get<InboxPage>("/v1/notifications", { ...queryFor(which), limit: PAGE })
        .then((page) => {
          const loadedItems = page.items.map(fromRest);
          for (const item of loadedItems) stream.remember(item.id);
          if (shownTab.current === which) {
            setItems((current) => merge(current, loadedItems, true));
            setCursor((current) => current ?? page.next_cursor);
            setLoaded(true);
            setError(null);
          }
          return loadedItems[0]?.id ?? 0;
        }),
    [api, stream],
  );

  // The stream opens after the first page, from its newest id: nothing in between is lost.
  useEffect(() => {
    let cancelled = false;
    let newest = 0;
    reload("all")
      .then((id) => {
        newest = id;
        return api.get<{ unread: number }>("/v1/notifications/unread-count");
      })
      .then((count) => {
        if (!cancelled) setUnread(count.unread);
      })
      .catch((failure: unknown) => {
        if (!cancelled) setError(errorText(failure));
      })
      .finally(() => {
        if (!cancelled) stream.start(newest);
      });
    return () => {
      cancelled = true;
    };
  }, [api, stream, reload]);

  const selectTab = useCallback(
    (next: InboxTab) => {
      if (next === shownTab.current) return;
      shownTab.current = next;
      setTab(next);
      setItems([]);
      setCursor(null);
      setLoaded(false);
      reload(next).catch((failure: unknown) => {
        if (shownTab.current === next) setError(errorText(failure));
      });
    },
    [reload],
  );

  const onEvent = useEffectEvent((event: StreamEvent) => {
    if (event.type === UNREAD_COUNT) {
      const count = (event.data as { unread?: number }).unread ?? 0;
      setUnread(count);
      const unreadHere = items.filter((item) => item.readAt === null).length;
      // Read elsewhere (another tab, another device): bring the read marks up to date.
      if (count < unreadHere) reload(tab).catch(() => undefined);
      return;
    }
    if (event.type === NOTIFICATION_STATE) {
      if (!isItemState(event.data)) return;
      const change = { ...event.data, id: Number(event.data.id) };
      if (items.some((item) => item.id === change.id)) {
        setItems((current) => applyState(current, change, new Date().toISOString()));
      } else {
        // Not on this page (unarchived elsewhere, say): the server knows where it goes.
        reload(tab).catch(() => undefined);
      }
      return;
    }
    if (event.type === NOTIFICATIONS_READ_ALL) {
      const upTo = Number((event.data as { up_to?: unknown }).up_to);
      if (!Number.isSafeInteger(upTo)) return;
      setItems((current) => markRead(current, { upTo }, new Date().toISOString()));
      return;
    }
    if (event.id === null) return;
    const item = fromEvent(event.id, event.data);
    if (item === null || (item.employeeId !== employeeId && item.employeeId !== null)) return;
    setItems((current) => merge(current, [item], false));
    setAnnouncement(describeArrival(item));
    onArrival?.(item);
  });
  const onReset = useEffectEvent(() => {
    reload(tab).catch(() => undefined);
  });
  useEffect(() => stream.listen({ onEvent, onReset }), [stream]);

  const loadOlder = useCallback(async () => {
    if (!cursor) return;
    const which = tab;
    const page = await api.get<InboxPage>("/v1/notifications", {
      ...queryFor(which),
      limit: PAGE,
      cursor,
    });
    if (shownTab.current !== which) return;
    const older = page.items.map(fromRest);
    for (const item of older) stream.remember(item.id);
    setItems((current) => merge(current, older, true));
    setCursor(page.next_cursor);
  }, [api, stream, cursor, tab]);

  const act = useCallback(
    async (id: number, action: ItemAction) => {
      const answer = await api.post<{ unread: number }>(`/v1/notifications/${id}/${action}`);
      const at = new Date().toISOString();
      setItems((current) => applyState(current, { id, ...EFFECT[action] }, at));
      setUnread(answer.unread);
    },
    [api],
  );

  const markOneRead = useCallback((id: number) => act(id, "read"), [act]);

  const markAllRead = useCallback(async () => {
    await api.post<{ marked: number }>("/v1/notifications/read-all");
    setItems((current) => markRead(current, "all", new Date().toISOString()));
    setUnread(0);
  }, [api]);

  return {
    tab,
    items: items.filter((item) => belongsTo(item, tab)),
    loaded,
    error,
    hasOlder: cursor !== null,
    unread,
    announcement,
    selectTab,
    loadOlder,
    act,
    markOneRead,
    markAllRead,
  };
}
