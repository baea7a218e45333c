// The signed-in person's inbox and unread count: the first page over REST, then what the
// stream brings; read marks go to the server and come back from other tabs.

import { useCallback, useEffect, useEffectEvent, useState } from "react";

import { type Api, errorText } from "../../api";
import { formatMoney } from "../../format";
import { type Item, VOUCHER_REVOKED, fromEvent, fromRest, markRead, merge } from "../../items";
import type { InboxPage } from "../../types";
import { type StreamEvent, UNREAD_COUNT } from "../stream/StreamClient";
import type { StreamHub } from "../stream/StreamHub";

const PAGE = 50;

export interface Inbox {
  items: Item[];
  loaded: boolean;
  error: string | null;
  hasOlder: boolean;
  unread: number;
  // For the live region: what just arrived.
  announcement: string;
  loadOlder: () => Promise<void>;
  markOneRead: (id: number) => Promise<void>;
  markAllRead: () => Promise<void>;
}

function describe(item: Item): string {
  if (item.kind === VOUCHER_REVOKED) return `Voucher revoked: ${item.voucher?.name ?? item.title}`;
  if (item.voucher) {
    return `New voucher: ${item.voucher.name}, ${formatMoney(item.voucher.amount, item.voucher.currency)}`;
  }
  return `New notification: ${item.title}`;
}

export function useInbox(api: Api, employeeId: string, stream: StreamHub): Inbox {
  const [items, setItems] = useState<Item[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [unread, setUnread] = useState(0);
  const [announcement, setAnnouncement] = useState("");

  // The newest page again; resolves to the newest id on it (0 for an empty inbox).
  const reload = useCallback(
    () =>
      api.get<InboxPage>("/v1/notifications", { limit: PAGE }).then((page) => {
        const loadedItems = page.items.map(fromRest);
        for (const item of loadedItems) stream.remember(item.id);
        setItems((current) => merge(current, loadedItems, true));
        setCursor((current) => current ?? page.next_cursor);
        setLoaded(true);
        setError(null);
        return loadedItems[0]?.id ?? 0;
      }),
    [api, stream],
  );

  // The stream opens after the first page, from its newest id: nothing in between is lost.
  useEffect(() => {
    let cancelled = false;
    let newest = 0;
    reload()
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

  const onEvent = useEffectEvent((event: StreamEvent) => {
    if (event.type === UNREAD_COUNT) {
      const count = (event.data as { unread?: number }).unread ?? 0;
      setUnread(count);
      const unreadHere = items.filter((item) => item.readAt === null).length;
      // Read elsewhere (another tab, another device): bring the read marks up to date.
      if (count < unreadHere) reload().catch(() => undefined);
      return;
    }
    if (event.id === null) return;
    const item = fromEvent(event.id, event.data);
    if (item === null || (item.employeeId !== employeeId && item.employeeId !== null)) return;
    setItems((current) => merge(current, [item], false));
    setAnnouncement(describe(item));
  });
  const onReset = useEffectEvent(() => {
    reload().catch(() => undefined);
  });
  useEffect(() => stream.listen({ onEvent, onReset }), [stream]);

  const loadOlder = useCallback(async () => {
    if (!cursor) return;
    const page = await api.get<InboxPage>("/v1/notifications", { limit: PAGE, cursor });
    const older = page.items.map(fromRest);
    for (const item of older) stream.remember(item.id);
    setItems((current) => merge(current, older, true));
    setCursor(page.next_cursor);
  }, [api, stream, cursor]);

  const markOneRead = useCallback(
    async (id: number) => {
      const answer = await api.post<{ unread: number }>(`/v1/notifications/${id}/read`);
      setItems((current) => markRead(current, new Set([id]), new Date().toISOString()));
      setUnread(answer.unread);
    },
    [api],
  );

  const markAllRead = useCallback(async () => {
    await api.post<{ marked: number }>("/v1/notifications/read-all");
    setItems((current) => markRead(current, "all", new Date().toISOString()));
    setUnread(0);
  }, [api]);

  return {
    items,
    loaded,
    error,
    hasOlder: cursor !== null,
    unread,
    announcement,
    loadOlder,
    markOneRead,
    markAllRead,
  };
}
