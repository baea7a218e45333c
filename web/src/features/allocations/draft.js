// The draft allocation kept in localStorage: the form, its Idempotency-Key, and the mark
// of a request on its way.
//
// The key belongs to the form's content, not to a click: every send of the same content
// carries the same key, so the server makes one allocation whatever happens in between
// (double clicks, errors, a reload mid-request). Only a different request gets a new key.
import { EMPTY_FORM, criteriaOf, voucherOf } from "./form";
export const randomKey = () => crypto.randomUUID();
// A reload re-sends what was on its way; a mark older than this is from a page closed long
// ago, and sending it now would surprise whoever opens the console next.
export const RESUME_WITHIN_MS = 10 * 60 * 1000;
const VERSION = 1;
export function draftStorageKey(employeeId) {
    return `herald.allocation-draft.${employeeId}`;
}
export function newDraft(makeKey = randomKey) {
    return { form: { ...EMPTY_FORM }, key: makeKey(), pending: null };
}
// What the server compares under one key: the voucher and the criteria as sent.
export function contentOf(form) {
    return JSON.stringify({ criteria: criteriaOf(form), voucher: voucherOf(form) });
}
export function editDraft(draft, form, makeKey = randomKey) {
    const changed = contentOf(form) !== contentOf(draft.form);
    return { ...draft, form, key: changed ? makeKey() : draft.key };
}
export function withPending(draft, request, now) {
    return { ...draft, pending: { key: draft.key, request, startedAt: now.toISOString() } };
}
export function resumable(pending, now) {
    if (pending === null)
        return false;
    const age = now.getTime() - new Date(pending.startedAt).getTime();
    return Number.isFinite(age) && age >= 0 && age <= RESUME_WITHIN_MS;
}
export function draftAtLoad(stored, now) {
    const { pending } = stored;
    if (pending === null)
        return { draft: stored, resume: null, abandoned: null };
    if (resumable(pending, now))
        return { draft: stored, resume: pending, abandoned: null };
    return { draft: { ...stored, pending: null }, resume: null, abandoned: pending };
}
export function serialiseDraft(draft) {
    return JSON.stringify({ version: VERSION, ...draft });
}
function isStrings(value) {
    return Array.isArray(value) && value.every((v) => typeof v === "string");
}
function formFrom(value) {
    if (value === null || typeof value !== "object")
        return null;
    const raw = value;
    const texts = ["minYears", "maxYears", "name", "amount", "currency", "expiresOn", "codePrefix"];
    if (!texts.every((field) => typeof raw[field] === "string"))
        return null;
    if (!isStrings(raw.departments) || !isStrings(raw.grades))
        return null;
    if (typeof raw.everyone !== "boolean")
        return null;
    return {
        everyone: raw.everyone,
        departments: raw.departments,
        grades: raw.grades,
        minYears: raw.minYears,
        maxYears: raw.maxYears,
        name: raw.name,
        amount: raw.amount,
        currency: raw.currency,
        expiresOn: raw.expiresOn,
        codePrefix: raw.codePrefix,
    };
}
function pendingFrom(value) {
    if (value === null || typeof value !== "object")
        return null;
    const raw = value;
    const request = raw.request;
    if (typeof raw.key !== "string" || typeof raw.startedAt !== "string")
        return null;
    if (!request || typeof request.voucher !== "object" || typeof request.criteria !== "object") {
        return null;
    }
    return { key: raw.key, startedAt: raw.startedAt, request: request };
}
// Anything unreadable (another version, a hand edit) starts a new draft rather than
// sending something the admin never saw.
export function parseDraft(raw, makeKey = randomKey) {
    if (!raw)
        return newDraft(makeKey);
    try {
        const parsed = JSON.parse(raw);
        const form = formFrom(parsed.form);
        if (parsed.version !== VERSION || form === null || typeof parsed.key !== "string" || !parsed.key) {
            return newDraft(makeKey);
        }
        return { form, key: parsed.key, pending: pendingFrom(parsed.pending) };
    }
    catch {
        return newDraft(makeKey);
    }
}
