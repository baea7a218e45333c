// The draft allocation kept in localStorage: the form, its Idempotency-Key, and the mark
// of a request on its way.
//
// The key belongs to the form's content, not to a click: every send of the same content
// carries the same key, so the server makes one allocation whatever happens in between
// (double clicks, errors, a reload mid-request). Only a different request gets a new key.

import type { AllocationRequest } from "../../types";
import { EMPTY_FORM, type FormFields, criteriaOf, voucherOf } from "./form";

export interface PendingSubmit {
  key: string;
  request: AllocationRequest;
  startedAt: string;
}

export interface Draft {
  form: FormFields;
  key: string;
  // Written before the POST goes out; still there after a reload means the answer was
  // never read, so the page sends the same request again.
  pending: PendingSubmit | null;
}

export type KeyMaker = () => string;

export const randomKey: KeyMaker = () => crypto.randomUUID();

// A reload re-sends what was on its way; a mark older than this is from a page closed long
// ago, and sending it now would surprise whoever opens the console next.
export const RESUME_WITHIN_MS = 10 * 60 * 1000;

const VERSION = 1;

export function draftStorageKey(employeeId: string): string {
  return `herald.allocation-draft.${employeeId}`;
}

export function newDraft(makeKey: KeyMaker = randomKey): Draft {
  return { form: { ...EMPTY_FORM }, key: makeKey(), pending: null };
}

// What the server compares under one key: the voucher and the criteria as sent.
export function contentOf(form: FormFields): string {
  // Another send time is another request (the same key would be refused).
  const when = form.sendAt ? { send_at: form.sendAt } : {};
  return JSON.stringify({ criteria: criteriaOf(form), voucher: voucherOf(form), ...when });
}

export function editDraft(draft: Draft, form: FormFields, makeKey: KeyMaker = randomKey): Draft {
  const changed = contentOf(form) !== contentOf(draft.form);
  return { ...draft, form, key: changed ? makeKey() : draft.key };
}

export function withPending(draft: Draft, request: AllocationRequest, now: Date): Draft {
  return { ...draft, pending: { key: draft.key, request, startedAt: now.toISOString() } };
}

export function resumable(pending: PendingSubmit | null, now: Date): boolean {
  if (pending === null) return false;
  const age = now.getTime() - new Date(pending.startedAt).getTime();
  return Number.isFinite(age) && age >= 0 && age <= RESUME_WITHIN_MS;
}

// The draft as a page load finds it. A mark recent enough goes out again at once; an older
// one is only reported, and leaves the draft so the next load does not report it again.
export interface DraftAtLoad {
  draft: Draft;
  resume: PendingSubmit | null;
  abandoned: PendingSubmit | null;
}

export function draftAtLoad(stored: Draft, now: Date): DraftAtLoad {
  const { pending } = stored;
  if (pending === null) return { draft: stored, resume: null, abandoned: null };
  if (resumable(pending, now)) return { draft: stored, resume: pending, abandoned: null };
  return { draft: { ...stored, pending: null }, resume: null, abandoned: pending };
}

export function serialiseDraft(draft: Draft): string {
  return JSON.stringify({ version: VERSION, ...draft });
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function formFrom(value: unknown): FormFields | null {
  if (value === null || typeof value !== "object") return null;
  const raw = value as Record<string, unknown>;
  const texts = ["minYears", "maxYears", "name", "amount", "currency", "expiresOn", "codePrefix"] as const;
  if (!texts.every((field) => typeof raw[field] === "string")) return null;
  if (!isStrings(raw.departments) || !isStrings(raw.grades)) return null;
  if (typeof raw.everyone !== "boolean") return null;
  return {
    everyone: raw.everyone,
    departments: raw.departments,
    grades: raw.grades,
    minYears: raw.minYears as string,
    maxYears: raw.maxYears as string,
    name: raw.name as string,
    amount: raw.amount as string,
    currency: raw.currency as string,
    expiresOn: raw.expiresOn as string,
    codePrefix: raw.codePrefix as string,
    // Drafts saved before scheduling existed send at once.
    sendAt: typeof raw.sendAt === "string" ? raw.sendAt : "",
  };
}

function pendingFrom(value: unknown): PendingSubmit | null {
  if (value === null || typeof value !== "object") return null;
  const raw = value as Record<string, unknown>;
  const request = raw.request as Record<string, unknown> | null | undefined;
  if (typeof raw.key !== "string" || typeof raw.startedAt !== "string") return null;
  if (!request || typeof request.voucher !== "object" || typeof request.criteria !== "object") {
    return null;
  }
  return { key: raw.key, startedAt: raw.startedAt, request: request as unknown as AllocationRequest };
}

// Anything unreadable (another version, a hand edit) starts a new draft rather than
// sending something the admin never saw.
export function parseDraft(raw: string | null, makeKey: KeyMaker = randomKey): Draft {
  if (!raw) return newDraft(makeKey);
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const form = formFrom(parsed.form);
    if (parsed.version !== VERSION || form === null || typeof parsed.key !== "string" || !parsed.key) {
      return newDraft(makeKey);
    }
    return { form, key: parsed.key, pending: pendingFrom(parsed.pending) };
  } catch {
    return newDraft(makeKey);
  }
}
