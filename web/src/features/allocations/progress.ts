// The watched allocation's progress, from two sources: the allocation read over REST and
// the progress frames of its stream channel. Frames are not replayed, so after each
// (re)connect the allocation is read again and the frames carry on from there.

import { hasCompleted } from "./status";
import type { Allocation, AllocationStatus } from "../../types";
import {
  ALLOCATION_COMPLETED,
  ALLOCATION_DELIVERED,
  ALLOCATION_PROGRESS,
  ALLOCATION_STATUS,
} from "../stream/StreamClient";

export interface Progress {
  id: string;
  allocation: Allocation;
  status: AllocationStatus;
  matched: number | null;
  inserted: number | null;
  published: number | null;
  delivered: number;
  // Chunks committed (their employees told) of chunks expected; null until known.
  chunks: Chunks | null;
  failureReason: string | null;
  failureDetail: string | null;
  // When `allocation` was read: its waiting age was true then.
  receivedAt: number;
  // Bumped when the allocation finished, so lists showing it reload.
  finishedAt: number | null;
}

export interface Chunks {
  done: number;
  total: number;
}

// The `data` of a progress frame.
export interface ProgressData {
  allocation_id?: string;
  phase?: "chunk" | "inserted" | "published";
  chunks_done?: number | null;
  chunks_total?: number | null;
  status?: AllocationStatus;
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
  ALLOCATION_STATUS,
]);

export function allocationChannel(id: string): string {
  return `private-allocation-${id}`;
}

// Waiting for a person or a time; then the inserter's phases; then revoking.
const WAITING: AllocationStatus[] = ["pending_approval", "scheduled"];
const PHASES: AllocationStatus[] = ["requested", "inserting", "published", "completed"];
const STATUS_ORDER: AllocationStatus[] = [...WAITING, ...PHASES, "partly_revoked", "revoked"];
// Ends that no later frame undoes.
const ENDED: ReadonlySet<AllocationStatus> = new Set([
  "failed",
  "rejected",
  "expired",
  "cancelled",
]);

// A frame and a read may arrive in either order: the status only moves forward.
export function later(a: AllocationStatus, b: AllocationStatus): AllocationStatus {
  if (ENDED.has(a)) return a;
  if (ENDED.has(b)) return b;
  return STATUS_ORDER.indexOf(a) >= STATUS_ORDER.indexOf(b) ? a : b;
}

export function progressFrom(allocation: Allocation, previous?: Progress): Progress {
  const final = hasCompleted(allocation.status) || ENDED.has(allocation.status);
  // Before the inserter has it, the row's counts are zeros, not figures.
  const counted = !["pending_approval", "scheduled", "requested"].includes(allocation.status);
  return {
    id: allocation.id,
    allocation,
    status: later(allocation.status, previous?.status ?? allocation.status),
    matched: counted ? allocation.counts.matched : (previous?.matched ?? null),
    inserted: counted ? allocation.counts.inserted : (previous?.inserted ?? null),
    published:
      allocation.status === "published" || hasCompleted(allocation.status)
        ? allocation.counts.published
        : // Partly delivered: the chunks committed so far are published (0069).
          allocation.status === "inserting" && allocation.chunks
          ? Math.max(allocation.counts.published, previous?.published ?? 0)
          : (previous?.published ?? null),
    delivered: previous?.delivered ?? 0,
    chunks: laterChunks(allocation.chunks ?? null, previous?.chunks ?? null),
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
  if (type === ALLOCATION_STATUS) {
    if (data.status !== undefined) next.status = later(current.status, data.status);
    return next;
  }
  if (data.matched !== undefined) next.matched = data.matched;
  if (data.inserted !== undefined) next.inserted = data.inserted;
  if (type === ALLOCATION_PROGRESS) {
    next.status = later(current.status, data.phase === "published" ? "published" : "inserting");
    // A chunk's events are committed once its frame is sent: they count as published.
    if ((data.phase === "published" || data.phase === "chunk") && data.published !== undefined) {
      next.published = Math.max(current.published ?? 0, data.published);
    }
    if (data.chunks_done != null && data.chunks_total != null) {
      next.chunks = laterChunks({ done: data.chunks_done, total: data.chunks_total }, current.chunks);
    }
  } else if (type === ALLOCATION_COMPLETED) {
    next.status = data.status === "failed" ? "failed" : later(current.status, "completed");
    if (data.published !== undefined) next.published = data.published;
    next.failureReason = data.reason ?? null;
    next.finishedAt = Date.now();
  }
  return next;
}

// A read and a frame may arrive in either order: the further one wins.
export function laterChunks(a: Chunks | null, b: Chunks | null): Chunks | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.done >= b.done ? a : b;
}

// "3 of 10 chunks delivered" while an allocation is partly delivered (docs/decisions/0069);
// null for an allocation written in one chunk, or before the first is known.
export function chunksLine(status: AllocationStatus, chunks: Chunks | null): string | null {
  if (chunks === null || chunks.total <= 1) return null;
  if (hasCompleted(status)) return `Delivered in ${chunks.total} chunks.`;
  if (status !== "inserting" && status !== "published") return null;
  return `${chunks.done} of ${chunks.total} chunks delivered: their employees have been told.`;
}

// When the allocation's history is read again. Each step is written with the row's status,
// in one transaction, so a read after the row's status moved has that step; a frame can
// move the shown status first (the completion frame goes out before the row is marked
// completed), and the history read it prompts may not have the step yet.
export function historyKey(watch: Progress): string {
  return `${watch.status}/${watch.allocation.status}`;
}
