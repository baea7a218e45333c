// The watched allocation's progress, from two sources: the allocation read over REST and
// the progress frames of its stream channel. Frames are not replayed, so after each
// (re)connect the allocation is read again and the frames carry on from there.

import { hasCompleted } from "./status";
import type { Allocation, AllocationStatus } from "../../types";
import {
  ALLOCATION_COMPLETED,
  ALLOCATION_DELIVERED,
  ALLOCATION_PROGRESS,
} from "../stream/StreamClient";

export interface Progress {
  id: string;
  allocation: Allocation;
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

// The `data` of a progress frame.
export interface ProgressData {
  allocation_id?: string;
  phase?: "inserted" | "published";
  status?: "completed" | "failed";
  matched?: number;
  inserted?: number;
  published?: number;
  delivered?: number;
  reason?: string | null;
}

export const PROGRESS_TYPES: ReadonlySet<string> = new Set([
  ALLOCATION_PROGRESS,
  ALLOCATION_COMPLETED,
  ALLOCATION_DELIVERED,
]);

export function allocationChannel(id: string): string {
  return `private-allocation-${id}`;
}

const STATUS_ORDER: AllocationStatus[] = [
  "requested",
  "inserting",
  "published",
  "completed",
  "partly_revoked",
  "revoked",
];

// A frame and a read may arrive in either order: the status only moves forward.
function later(a: AllocationStatus, b: AllocationStatus): AllocationStatus {
  if (a === "failed" || b === "failed") return "failed";
  return STATUS_ORDER.indexOf(a) >= STATUS_ORDER.indexOf(b) ? a : b;
}

export function progressFrom(allocation: Allocation, previous?: Progress): Progress {
  const final = hasCompleted(allocation.status) || allocation.status === "failed";
  const counted = allocation.status !== "requested";
  return {
    id: allocation.id,
    allocation,
    status: later(allocation.status, previous?.status ?? "requested"),
    matched: counted ? allocation.counts.matched : (previous?.matched ?? null),
    inserted: counted ? allocation.counts.inserted : (previous?.inserted ?? null),
    published:
      allocation.status === "published" || hasCompleted(allocation.status)
        ? allocation.counts.published
        : (previous?.published ?? null),
    delivered: previous?.delivered ?? 0,
    failureReason: allocation.failure_reason,
    failureDetail: allocation.failure_detail ?? null,
    receivedAt: Date.now(),
    finishedAt: final ? (previous?.finishedAt ?? Date.now()) : null,
  };
}

export function applyProgress(current: Progress, type: string, data: ProgressData): Progress {
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
