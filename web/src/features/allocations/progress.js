// The watched allocation's progress, from two sources: the allocation read over REST and
// the progress frames of its stream channel. Frames are not replayed, so after each
// (re)connect the allocation is read again and the frames carry on from there.
import { hasCompleted } from "./status";
import { ALLOCATION_COMPLETED, ALLOCATION_DELIVERED, ALLOCATION_PROGRESS, } from "../stream/StreamClient";
export const PROGRESS_TYPES = new Set([
    ALLOCATION_PROGRESS,
    ALLOCATION_COMPLETED,
    ALLOCATION_DELIVERED,
]);
export function allocationChannel(id) {
    return `private-allocation-${id}`;
}
const STATUS_ORDER = [
    "requested",
    "inserting",
    "published",
    "completed",
    "partly_revoked",
    "revoked",
];
// A frame and a read may arrive in either order: the status only moves forward.
function later(a, b) {
    if (a === "failed" || b === "failed")
        return "failed";
    return STATUS_ORDER.indexOf(a) >= STATUS_ORDER.indexOf(b) ? a : b;
}
export function progressFrom(allocation, previous) {
    const final = hasCompleted(allocation.status) || allocation.status === "failed";
    const counted = allocation.status !== "requested";
    return {
        id: allocation.id,
        allocation,
        status: later(allocation.status, previous?.status ?? "requested"),
        matched: counted ? allocation.counts.matched : (previous?.matched ?? null),
        inserted: counted ? allocation.counts.inserted : (previous?.inserted ?? null),
        published: allocation.status === "published" || hasCompleted(allocation.status)
            ? allocation.counts.published
            : (previous?.published ?? null),
        delivered: previous?.delivered ?? 0,
        failureReason: allocation.failure_reason,
        failureDetail: allocation.failure_detail ?? null,
        receivedAt: Date.now(),
        finishedAt: final ? (previous?.finishedAt ?? Date.now()) : null,
    };
}
export function applyProgress(current, type, data) {
    const next = { ...current };
    if (type === ALLOCATION_DELIVERED) {
        next.delivered = Math.max(current.delivered, data.delivered ?? 0);
        return next;
    }
    if (data.matched !== undefined)
        next.matched = data.matched;
    if (data.inserted !== undefined)
        next.inserted = data.inserted;
    if (type === ALLOCATION_PROGRESS) {
        next.status = later(current.status, data.phase === "published" ? "published" : "inserting");
        if (data.phase === "published" && data.published !== undefined)
            next.published = data.published;
    }
    else if (type === ALLOCATION_COMPLETED) {
        next.status = data.status === "failed" ? "failed" : later(current.status, "completed");
        if (data.published !== undefined)
            next.published = data.published;
        next.failureReason = data.reason ?? null;
        next.finishedAt = Date.now();
    }
    return next;
}
