// Inbox items from two sources, REST pages and stream events, in one shape, by id.

import type { InboxItemBody } from "./types";

export interface Voucher {
  name: string;
  code: string;
  amount: string;
  currency: string;
  expiresOn: string;
}

export interface Item {
  id: number;
  kind: string;
  title: string;
  body: string;
  voucher: Voucher | null;
  employeeId: string | null;
  department: string | null;
  allocationId: string | null;
  createdAt: string;
  readAt: string | null;
  // A voucher revoked since it was issued: when, and why (on a revocation notice: why).
  revokedAt: string | null;
  revokeReason: string | null;
  // On a revocation notice: the id of the voucher's own notification.
  revokes: number | null;
  archived: boolean;
  // Where the item's action leads (a page of this console), or null.
  actionUrl: string | null;
}

export const VOUCHER_REVOKED = "herald.voucher.revoked";

const text = (value: unknown): string => (typeof value === "string" ? value : "");
const optional = (value: unknown): string | null => (typeof value === "string" ? value : null);

function voucherOf(payload: Record<string, unknown>): Voucher | null {
  const voucher = payload.voucher;
  if (typeof voucher !== "object" || voucher === null) return null;
  const v = voucher as Record<string, unknown>;
  return {
    name: text(v.name),
    code: text(v.code),
    amount: text(v.amount),
    currency: text(v.currency),
    expiresOn: text(v.expires_on),
  };
}

// Only links into this console or to http(s) pages: never `javascript:` or other schemes
// a notification's sender could slip in.
export function safeActionUrl(value: unknown): string | null {
  if (typeof value !== "string" || value === "") return null;
  if (value.startsWith("/") && !value.startsWith("//")) return value;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function fromPayload(
  id: number,
  kind: string,
  payload: Record<string, unknown>,
  createdAt: string,
  readAt: string | null,
): Item {
  return {
    id,
    kind,
    title: text(payload.title),
    body: text(payload.body),
    voucher: voucherOf(payload),
    employeeId: optional(payload.employee_id),
    department: optional(payload.department),
    allocationId: optional(payload.allocation_id),
    createdAt,
    readAt,
    revokedAt: null,
    revokeReason: kind === VOUCHER_REVOKED ? optional(payload.reason) : null,
    revokes:
      kind === VOUCHER_REVOKED && typeof payload.revoked_notification_id === "number"
        ? payload.revoked_notification_id
        : null,
    archived: false,
    actionUrl: safeActionUrl(payload.action_url),
  };
}

export function fromRest(item: InboxItemBody): Item {
  const base = fromPayload(item.id, item.kind, item.data ?? {}, item.created_at, item.read_at);
  return {
    ...base,
    title: item.title || base.title,
    body: item.body || base.body,
    revokedAt: item.revoked_at ?? null,
    revokeReason: item.revoke_reason ?? base.revokeReason,
    archived: item.archived === true,
    actionUrl: safeActionUrl(item.action_url) ?? base.actionUrl,
  };
}

// A per-employee CloudEvent from the stream: its id is the notification id, its time the
// notification's creation, its data the inbox payload. New items are unread.
export function fromEvent(id: number, event: unknown): Item | null {
  if (typeof event !== "object" || event === null) return null;
  const e = event as Record<string, unknown>;
  const data = typeof e.data === "object" && e.data !== null ? e.data : {};
  return fromPayload(
    id,
    text(e.type),
    data as Record<string, unknown>,
    text(e.time) || new Date().toISOString(),
    null,
  );
}

// Newest first, one item per id. REST answers are authoritative (read marks change);
// a stream event never overrides an item the page already has.
export function merge(current: Item[], incoming: Item[], authoritative: boolean): Item[] {
  const byId = new Map(current.map((item) => [item.id, item]));
  for (const item of incoming) {
    if (authoritative || !byId.has(item.id)) byId.set(item.id, item);
  }
  return markRevoked([...byId.values()].sort((a, b) => b.id - a.id));
}

// A revocation notice marks the voucher it revokes, at once (the REST answer says the
// same on the next load): the page never shows a voided voucher as valid.
export function markRevoked(items: Item[]): Item[] {
  const notices = new Map(
    items.filter((item) => item.revokes !== null).map((item) => [item.revokes, item]),
  );
  if (notices.size === 0) return items;
  return items.map((item) => {
    const notice = notices.get(item.id);
    if (notice === undefined || item.revokedAt !== null) return item;
    return { ...item, revokedAt: notice.createdAt, revokeReason: notice.revokeReason };
  });
}

// `ids`: the items, every item ("all"), or every item up to an id ({upTo}).
export function markRead(
  items: Item[],
  ids: Set<number> | "all" | { upTo: number },
  at: string,
): Item[] {
  const chosen = (id: number) =>
    ids === "all" || (ids instanceof Set ? ids.has(id) : id <= ids.upTo);
  return items.map((item) =>
    item.readAt === null && chosen(item.id) ? { ...item, readAt: at } : item,
  );
}

// What another tab or device did to an item (the stream's `notification-state`), or what
// this page did once the server agreed.
export interface ItemState {
  id: number;
  read?: boolean;
  archived?: boolean;
}

export function applyState(items: Item[], change: ItemState, at: string): Item[] {
  return items.map((item) => {
    if (item.id !== change.id) return item;
    let readAt = item.readAt;
    if (change.read === true) readAt = item.readAt ?? at;
    if (change.read === false) readAt = null;
    return { ...item, readAt, archived: change.archived ?? item.archived };
  });
}
