// Answers of the API as tests need them, each field overridable.
export function allocation(change = {}) {
    return {
        id: "a1",
        status: "requested",
        voucher: {
            name: "Winter bonus",
            amount: "50.00",
            currency: "EUR",
            expires_on: "2030-01-31",
            code_prefix: "WIN",
        },
        criteria: { departments: ["Sales"] },
        counts: { matched: 0, inserted: 0, published: 0 },
        timings: { requested_at: "2030-01-01T00:00:00Z", completed_at: null, duration_seconds: null },
        failure_reason: null,
        failure_detail: null,
        waiting_for_worker: false,
        waiting_seconds: null,
        requested_by: "E1",
        ...change,
    };
}
export const allocationRequest = {
    voucher: {
        name: "Winter bonus",
        amount: "50.00",
        currency: "EUR",
        expires_on: "2031-01-31",
        code_prefix: "WIN",
    },
    criteria: { departments: ["Sales"] },
    confirmed_recipients: 3,
};
