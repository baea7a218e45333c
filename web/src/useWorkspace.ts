// Everything a signed-in tab keeps live: the inbox, the unread count, the team feed, the
// watched allocation's progress, and the one stream that feeds them all.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { errorText } from "./api";
import { formatMoney } from "./format";
import { type Item, fromEvent, fromRest, markRead, merge } from "./items";
import type { Session } from "./session";
import {
  ALLOCATION_COMPLETED,
  ALLOCATION_DELIVERED,
  ALLOCATION_PROGRESS,
  type ConnectionState,
  type StreamEvent,
  StreamClient,
  UNREAD_COUNT,
} from "./stream/StreamClient";
import type { Allocation, AllocationStatus, InboxPage } from "./types";

const PAGE = 50;

export interface Progress {
  id: string;
  allocation: Allocation | null;
  status: AllocationStatus;
  matched: number | null;
  inserted: number | null;
  published: number | null;
  delivered: number;
  failureReason: string | null;
  failureDetail: string | null;
  // When `allocation` was read: its waiting age was true then.
  receivedAt: number;
  // Bumped when the allocation finished, so lists showing it reload.
  finishedAt: number | null;
}

// A request no worker has picked up sends no frames; reading it now and then keeps its
// "waiting for a worker" note true and shows the moment a worker takes it.
const WHILE_REQUESTED_MS = 10_000;

const STATUS_ORDER: AllocationStatus[] = ["requested", "inserting", "published", "completed"];

function later(a: AllocationStatus, b: AllocationStatus): AllocationStatus {
  if (a === "failed" || b === "failed") return "failed";
  return STATUS_ORDER.indexOf(a) >= STATUS_ORDER.indexOf(b) ? a : b;
}

export function progressFrom(allocation: Allocation, previous?: Progress): Progress {
  const final = allocation.status === "completed" || allocation.status === "failed";
  const counted = allocation.status !== "requested";
  return {
    id: allocation.id,
    allocation,
    status: later(allocation.status, previous?.status ?? "requested"),
    matched: counted ? allocation.counts.matched : (previous?.matched ?? null),
    inserted: counted ? allocation.counts.inserted : (previous?.inserted ?? null),
    published:
      allocation.status === "published" || allocation.status === "completed"
        ? allocation.counts.published
        : (previous?.published ?? null),
    delivered: previous?.delivered ?? 0,
    failureReason: allocation.failure_reason,
    failureDetail: allocation.failure_detail ?? null,
    receivedAt: Date.now(),
    finishedAt: final ? (previous?.finishedAt ?? Date.now()) : null,
  };
}

function emptyProgress(id: string): Progress {
  return {
    id,
    allocation: null,
    status: "requested",
    matched: null,
    inserted: null,
    published: null,
    delivered: 0,
    failureReason: null,
    failureDetail: null,
    receivedAt: Date.now(),
    finishedAt: null,
  };
}

interface AllocationData {
  allocation_id?: string;
  phase?: "inserted" | "published";
  status?: "completed" | "failed";
  matched?: number;
  inserted?: number;
  published?: number;
  delivered?: number;
  reason?: string | null;
}

export function applyProgress(current: Progress, type: string, data: AllocationData): Progress {
  const next = { ...current };
  if (type === ALLOCATION_DELIVERED) {
    next.delivered = Math.max(current.delivered, data.delivered ?? 0);
    return next;
  }
  if (data.matched !== undefined) next.matched = data.matched;
  if (data.inserted !== undefined) next.inserted = data.inserted;
  if (type === ALLOCATION_PROGRESS) {
    next.status = later(current.status, data.phase === "published" ? "published" : "inserting");
    if (data.phase === "published" && data.published !== undefined) next.published = data.published;
  } else if (type === ALLOCATION_COMPLETED) {
    next.status = data.status === "failed" ? "failed" : later(current.status, "completed");
    if (data.published !== undefined) next.published = data.published;
    next.failureReason = data.reason ?? null;
    next.finishedAt = Date.now();
  }
  return next;
}

function describe(item: Item): string {
  if (item.voucher) {
    return `New voucher: ${item.voucher.name}, ${formatMoney(item.voucher.amount, item.voucher.currency)}`;
  }
  return `New notification: ${item.title}`;
}

export interface Workspace {
  connection: ConnectionState;
  inbox: Item[];
  inboxLoaded: boolean;
  inboxError: string | null;
  hasOlder: boolean;
  unread: number;
  announcement: string;
  feed: Item[];
  watch: Progress | null;
  loadOlder: () => Promise<void>;
  markOneRead: (id: number) => Promise<void>;
  markAllRead: () => Promise<void>;
  watchAllocation: (allocation: Allocation | string | null) => void;
}

export function useWorkspace(session: Session): Workspace {
  const { api, identity, manages } = session;
  const me = identity.employeeId;
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [inbox, setInbox] = useState<Item[]>([]);
  const [inboxLoaded, setInboxLoaded] = useState(false);
  const [inboxError, setInboxError] = useState<string | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [unread, setUnread] = useState(0);
  const [announcement, setAnnouncement] = useState("");
  const [feed, setFeed] = useState<Item[]>([]);
  const [watch, setWatch] = useState<Progress | null>(null);
  const client = useRef<StreamClient | null>(null);
  const inboxRef = useRef<Item[]>([]);
  const watchRef = useRef<Progress | null>(null);
  inboxRef.current = inbox;
  watchRef.current = watch;

  const channels = useMemo(() => {
    const wanted: string[] = [];
    if (manages) wanted.push(`private-department-${manages}`);
    if (watch) wanted.push(`private-allocation-${watch.id}`);
    return wanted;
  }, [manages, watch?.id]);

  const reloadInbox = useCallback(async (): Promise<number> => {
    const page = await api.get<InboxPage>("/v1/notifications", { limit: PAGE });
    const items = page.items.map(fromRest);
    for (const item of items) client.current?.remember(item.id);
    setInbox((current) => merge(current, items, true));
    setCursor((current) => current ?? page.next_cursor);
    setInboxLoaded(true);
    setInboxError(null);
    return items[0]?.id ?? 0;
  }, [api]);

  const refreshWatched = useCallback(async () => {
    const watched = watchRef.current;
    if (!watched) return;
    try {
      const allocation = await api.get<Allocation>(`/v1/allocations/${watched.id}`);
      setWatch((current) =>
        current?.id === allocation.id ? progressFrom(allocation, current) : current,
      );
    } catch {
      // Not recorded yet (the inserter records requests from other producers): the
      // progress frames fill in meanwhile.
    }
  }, [api]);

  const onEvent = useCallback(
    (event: StreamEvent) => {
      const { type, id, data } = event;
      if (type === UNREAD_COUNT) {
        const count = (data as { unread?: number }).unread ?? 0;
        setUnread(count);
        const unreadHere = inboxRef.current.filter((i) => i.readAt === null).length;
        // Read elsewhere (another tab, another device): bring the read marks up to date.
        if (count < unreadHere) void reloadInbox().catch(() => undefined);
        return;
      }
      if (type === ALLOCATION_PROGRESS || type === ALLOCATION_COMPLETED || type === ALLOCATION_DELIVERED) {
        const payload = ((data as { data?: AllocationData }).data ?? {}) as AllocationData;
        setWatch((current) =>
          current && current.id === payload.allocation_id
            ? applyProgress(current, type, payload)
            : current,
        );
        if (type === ALLOCATION_COMPLETED) void refreshWatched();
        return;
      }
      if (id === null) return;
      const item = fromEvent(id, data);
      if (item === null) return;
      if (item.employeeId === me || item.employeeId === null) {
        setInbox((current) => merge(current, [item], false));
        setAnnouncement(describe(item));
      }
      if (manages && item.department === manages) {
        setFeed((current) => merge(current, [item], false));
      }
    },
    [me, manages, reloadInbox, refreshWatched],
  );

  useEffect(() => {
    const stream = new StreamClient({
      onEvent,
      onState: setConnection,
      onReset: () => void reloadInbox().catch(() => undefined),
      onCaughtUp: () => void refreshWatched(),
    });
    client.current = stream;
    let cancelled = false;
    const online = () => stream.retryNow();
    window.addEventListener("online", online);
    (async () => {
      let newest = 0;
      try {
        newest = await reloadInbox();
        const count = await api.get<{ unread: number }>("/v1/notifications/unread-count");
        if (!cancelled) setUnread(count.unread);
      } catch (error) {
        if (!cancelled) setInboxError(errorText(error));
      }
      if (!cancelled) stream.start(newest, channels);
    })();
    return () => {
      cancelled = true;
      window.removeEventListener("online", online);
      stream.stop();
      client.current = null;
    };
    // One stream per session; channel changes go through setChannels below.
  }, [session]);

  useEffect(() => {
    client.current?.setChannels(channels);
  }, [channels]);

  const requested = watch?.status === "requested";
  useEffect(() => {
    if (!requested) return undefined;
    const timer = setInterval(() => void refreshWatched(), WHILE_REQUESTED_MS);
    return () => clearInterval(timer);
  }, [requested, watch?.id, refreshWatched]);

  const loadOlder = useCallback(async () => {
    if (!cursor) return;
    const page = await api.get<InboxPage>("/v1/notifications", { limit: PAGE, cursor });
    const items = page.items.map(fromRest);
    for (const item of items) client.current?.remember(item.id);
    setInbox((current) => merge(current, items, true));
    setCursor(page.next_cursor);
  }, [api, cursor]);

  const markOneRead = useCallback(
    async (id: number) => {
      const answer = await api.post<{ unread: number }>(`/v1/notifications/${id}/read`);
      setInbox((current) => markRead(current, new Set([id]), new Date().toISOString()));
      setUnread(answer.unread);
    },
    [api],
  );

  const markAllRead = useCallback(async () => {
    await api.post<{ marked: number }>("/v1/notifications/read-all");
    setInbox((current) => markRead(current, "all", new Date().toISOString()));
    setUnread(0);
  }, [api]);

  const watchAllocation = useCallback(
    (allocation: Allocation | string | null) => {
      if (allocation === null) {
        setWatch(null);
      } else if (typeof allocation === "string") {
        setWatch((current) => (current?.id === allocation ? current : emptyProgress(allocation)));
      } else {
        setWatch((current) =>
          progressFrom(allocation, current?.id === allocation.id ? current : undefined),
        );
      }
    },
    [],
  );

  return {
    connection,
    inbox,
    inboxLoaded,
    inboxError,
    hasOlder: cursor !== null,
    unread,
    announcement,
    feed,
    watch,
    loadOlder,
    markOneRead,
    markAllRead,
    watchAllocation,
  };
}
