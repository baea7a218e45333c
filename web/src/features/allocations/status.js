// What an allocation's status means to the admin, including the one the status alone
// cannot tell: a request no worker has picked up.
import { formatAge } from "../../format";
export const STATUS_LABELS = {
    requested: "Requested",
    inserting: "Inserting",
    published: "Published",
    completed: "Completed",
    failed: "Failed",
    partly_revoked: "Partly revoked",
    revoked: "Revoked",
};
// Completed, whatever was revoked of it since.
export function hasCompleted(status) {
    return status === "completed" || status === "partly_revoked" || status === "revoked";
}
// The server's age was true when the view was read (`receivedAt`); it keeps growing since.
export function waitingSeconds(allocation, receivedAt, now) {
    if (allocation.status !== "requested" || !allocation.waiting_for_worker)
        return null;
    return (allocation.waiting_seconds ?? 0) + Math.max(0, now - receivedAt) / 1000;
}
export function waitingText(seconds) {
    return `Waiting for a worker · ${formatAge(seconds)}`;
}
