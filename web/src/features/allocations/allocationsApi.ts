// The allocation API as this feature calls it.

import { type Api, ApiError, errorText } from "../../api";
import type {
  Allocation,
  AllocationPreview,
  AuditTrail,
  Criteria,
  VoucherSpec,
} from "../../types";
import type { PendingSubmit } from "./draft";

export function fetchPreview(
  api: Api,
  criteria: Criteria,
  voucher?: VoucherSpec,
): Promise<AllocationPreview> {
  return api.post<AllocationPreview>(
    "/v1/allocations:preview",
    voucher === undefined ? { criteria } : { criteria, voucher },
  );
}

export async function sendAllocation(
  api: Api,
  pending: PendingSubmit,
): Promise<{ allocation: Allocation; replayed: boolean }> {
  const answer = await api.postForResponse<Allocation>("/v1/allocations", pending.request, {
    "Idempotency-Key": pending.key,
  });
  return {
    allocation: answer.body,
    replayed: answer.headers.get("Idempotent-Replayed") === "true",
  };
}

// 409 {"detail": {"code": "recipients_changed", "matched": N}}: the rule reaches N people
// now, not the number the admin confirmed.
export function recipientsChangedTo(failure: unknown): number | null {
  if (!(failure instanceof ApiError) || failure.status !== 409) return null;
  const detail = (failure.body as { detail?: { code?: unknown; matched?: unknown } } | null)?.detail;
  return detail?.code === "recipients_changed" && typeof detail.matched === "number"
    ? detail.matched
    : null;
}

export function submitErrorText(failure: unknown): string {
  if (failure instanceof ApiError && failure.status === 429) {
    return "Too many allocations in a short time; try again in a minute.";
  }
  if (failure instanceof TypeError) {
    // fetch() itself failed: the request may or may not have arrived.
    return "The connection failed before Herald answered. Allocating again is safe: it cannot allocate twice.";
  }
  return errorText(failure);
}

// The server streams the CSV; the Bearer header rules out a plain link, so the file is
// fetched and then handed to the browser as a download.
export async function downloadRecipients(api: Api, criteria: Criteria): Promise<void> {
  const { blob, filename } = await api.download(
    "/v1/allocations:recipients",
    { criteria },
    "text/csv",
  );
  saveFile(blob, filename ?? "recipients.csv");
}

// The allocation's audit trail as CSV (each step with its hash and its predecessor's).
export async function downloadAuditTrail(api: Api, id: string): Promise<void> {
  const { blob, filename } = await api.download(
    `/v1/allocations/${id}/history.csv`,
    undefined,
    "text/csv",
    "GET",
  );
  saveFile(blob, filename ?? `allocation-${id}-history.csv`);
}

// Hands a file fetched with the token to the browser as a download.
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once started; a later revoke frees the memory.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// The lifecycle steps: each answers the allocation as it is afterwards.
export function approveAllocation(api: Api, id: string): Promise<Allocation> {
  return api.post<Allocation>(`/v1/allocations/${id}:approve`);
}

export function rejectAllocation(api: Api, id: string, reason: string): Promise<Allocation> {
  return api.post<Allocation>(`/v1/allocations/${id}:reject`, { reason });
}

export function cancelAllocation(api: Api, id: string): Promise<Allocation> {
  return api.post<Allocation>(`/v1/allocations/${id}:cancel`, {});
}

export function fetchAuditTrail(api: Api, id: string): Promise<AuditTrail> {
  return api.get<AuditTrail>(`/v1/allocations/${id}/history`);
}
