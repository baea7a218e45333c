// Revoking a completed allocation's vouchers, as this feature calls the API.

import type { Api } from "../../api";

export interface RevokeRequest {
  reason: string;
  // Absent: every voucher of the allocation.
  employee_ids?: string[];
}

export interface Revocation {
  id: string;
  allocation_id: string;
  status: "requested" | "inserting" | "completed" | "failed";
  reason: string;
  employee_ids: string[] | null;
  revoked: number;
  failure_reason: string | null;
}

// Employee ids as an admin pastes them: separated by commas, spaces or new lines.
export function parseEmployeeIds(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((id) => id !== ""))];
}

// One key per allocation and content: a second click, a retry or a reload sending the same
// revocation again gets the first answer back, never a second revocation.
export function revokeKey(allocationId: string, request: RevokeRequest): string {
  const content = JSON.stringify([request.reason, request.employee_ids ?? null]);
  let hash = 0;
  for (let i = 0; i < content.length; i++) hash = (Math.imul(31, hash) + content.charCodeAt(i)) | 0;
  return `revoke-${allocationId}-${(hash >>> 0).toString(36)}-${content.length}`;
}

export async function sendRevocation(
  api: Api,
  allocationId: string,
  request: RevokeRequest,
): Promise<Revocation> {
  const answer = await api.postForResponse<Revocation>(
    `/v1/allocations/${allocationId}:revoke`,
    request,
    { "Idempotency-Key": revokeKey(allocationId, request) },
  );
  return answer.body;
}

export function fetchRevocation(api: Api, allocationId: string, id: string): Promise<Revocation> {
  return api.get<Revocation>(`/v1/allocations/${allocationId}/revocations/${id}`);
}
