// What an allocation's status means to the admin, including the one the status alone
// cannot tell: a request no worker has picked up.

import { formatAge } from "../../format";
import type { Allocation, AllocationStatus } from "../../types";

export const STATUS_LABELS: Record<AllocationStatus, string> = {
  pending_approval: "Awaiting approval",
  scheduled: "Scheduled",
  requested: "Requested",
  inserting: "Inserting",
  published: "Published",
  completed: "Completed",
  failed: "Failed",
  rejected: "Rejected",
  expired: "Expired",
  cancelled: "Cancelled",
  revoked: "Revoked",
  partly_revoked: "Partly revoked",
};

// Nobody has been told yet, so it can still be cancelled.
export function cancellable(status: AllocationStatus): boolean {
  return status === "pending_approval" || status === "scheduled";
}

// Completed, whatever was revoked of it since.
export function hasCompleted(status: AllocationStatus): boolean {
  return status === "completed" || status === "partly_revoked" || status === "revoked";
}

type Waiting = Pick<Allocation, "status" | "waiting_for_worker" | "waiting_seconds">;

// The server's age was true when the view was read (`receivedAt`); it keeps growing since.
export function waitingSeconds(allocation: Waiting, receivedAt: number, now: number): number | null {
  if (allocation.status !== "requested" || !allocation.waiting_for_worker) return null;
  return (allocation.waiting_seconds ?? 0) + Math.max(0, now - receivedAt) / 1000;
}

export function waitingText(seconds: number): string {
  return `Waiting for a worker · ${formatAge(seconds)}`;
}

// Never sent to the inserter: waiting for approval or its time, or stopped before.
export function notSent(status: AllocationStatus): boolean {
  return ["pending_approval", "scheduled", "rejected", "expired", "cancelled"].includes(status);
}
