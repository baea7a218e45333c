// Inbox items from two sources, REST pages and stream events, in one shape, by id.
export const VOUCHER_REVOKED = "herald.voucher.revoked";
const text = (value) => (typeof value === "string" ? value : "");
const optional = (value) => (typeof value === "string" ? value : null);
function voucherOf(payload) {
    const voucher = payload.voucher;
    if (typeof voucher !== "object" || voucher === null)
        return null;
    const v = voucher;
    return {
        name: text(v.name),
        code: text(v.code),
        amount: text(v.amount),
        currency: text(v.currency),
        expiresOn: text(v.expires_on),
    };
}
function fromPayload(id, kind, payload, createdAt, readAt) {
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
        revokes: kind === VOUCHER_REVOKED && typeof payload.revoked_notification_id === "number"
            ? payload.revoked_notification_id
            : null,
    };
}
export function fromRest(item) {
    const base = fromPayload(item.id, item.kind, item.data ?? {}, item.created_at, item.read_at);
    return {
        ...base,
        title: item.title || base.title,
        body: item.body || base.body,
        revokedAt: item.revoked_at ?? null,
        revokeReason: item.revoke_reason ?? base.revokeReason,
    };
}
// A per-employee CloudEvent from the stream: its id is the notification id, its time the
// notification's creation, its data the inbox payload. New items are unread.
export function fromEvent(id, event) {
    if (typeof event !== "object" || event === null)
        return null;
    const e = event;
    const data = typeof e.data === "object" && e.data !== null ? e.data : {};
    return fromPayload(id, text(e.type), data, text(e.time) || new Date().toISOString(), null);
}
// Newest first, one item per id. REST answers are authoritative (read marks change);
// a stream event never overrides an item the page already has.
export function merge(current, incoming, authoritative) {
    const byId = new Map(current.map((item) => [item.id, item]));
    for (const item of incoming) {
        if (authoritative || !byId.has(item.id))
            byId.set(item.id, item);
    }
    return markRevoked([...byId.values()].sort((a, b) => b.id - a.id));
}
// A revocation notice marks the voucher it revokes, at once (the REST answer says the
// same on the next load): the page never shows a voided voucher as valid.
export function markRevoked(items) {
    const notices = new Map(items.filter((item) => item.revokes !== null).map((item) => [item.revokes, item]));
    if (notices.size === 0)
        return items;
    return items.map((item) => {
        const notice = notices.get(item.id);
        if (notice === undefined || item.revokedAt !== null)
            return item;
        return { ...item, revokedAt: notice.createdAt, revokeReason: notice.revokeReason };
    });
}
export function markRead(items, ids, at) {
    return items.map((item) => item.readAt === null && (ids === "all" || ids.has(item.id)) ? { ...item, readAt: at } : item);
}
