// Revoking a completed allocation's vouchers, as this feature calls the API.
// Employee ids as an admin pastes them: separated by commas, spaces or new lines.
export function parseEmployeeIds(text) {
    return [...new Set(text.split(/[\s,;]+/).filter((id) => id !== ""))];
}
// One key per allocation and content: a second click, a retry or a reload sending the same
// revocation again gets the first answer back, never a second revocation.
export function revokeKey(allocationId, request) {
    const content = JSON.stringify([request.reason, request.employee_ids ?? null]);
    let hash = 0;
    for (let i = 0; i < content.length; i++)
        hash = (Math.imul(31, hash) + content.charCodeAt(i)) | 0;
    return `revoke-${allocationId}-${(hash >>> 0).toString(36)}-${content.length}`;
}
export async function sendRevocation(api, allocationId, request) {
    const answer = await api.postForResponse(`/v1/allocations/${allocationId}:revoke`, request, { "Idempotency-Key": revokeKey(allocationId, request) });
    return answer.body;
}
export function fetchRevocation(api, allocationId, id) {
    return api.get(`/v1/allocations/${allocationId}/revocations/${id}`);
}
