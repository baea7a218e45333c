import { describe, expect, it } from "vitest";
import { allocationRequest as request } from "../../test/fixtures";
import { RESUME_WITHIN_MS, draftAtLoad, draftStorageKey, editDraft, newDraft, parseDraft, resumable, serialiseDraft, withPending, } from "./draft";
import { EMPTY_FORM, chooseEveryone } from "./form";
function keys() {
    let n = 0;
    return () => `key-${++n}`;
}
const filled = {
    ...EMPTY_FORM,
    departments: ["Sales"],
    name: "Winter bonus",
    amount: "50.00",
    expiresOn: "2031-01-31",
    codePrefix: "WIN",
};
describe("the draft's key", () => {
    it("is made with the draft", () => {
        const draft = newDraft(keys());
        expect(draft).toEqual({ form: EMPTY_FORM, key: "key-1", pending: null });
    });
    it("changes when the content changes, and only then", () => {
        const make = keys();
        const draft = editDraft(newDraft(make), filled, make);
        expect(draft.key).toBe("key-2");
        // The same request, typed differently: same key.
        expect(editDraft(draft, { ...filled, amount: "50" }, make).key).toBe("key-2");
        expect(editDraft(draft, { ...filled, codePrefix: "win" }, make).key).toBe("key-2");
        expect(editDraft(draft, { ...filled }, make).key).toBe("key-2");
        // A different request: a new key.
        expect(editDraft(draft, { ...filled, amount: "60" }, make).key).toBe("key-3");
        expect(editDraft(draft, { ...filled, grades: ["G2"] }, make).key).toBe("key-4");
        expect(editDraft(draft, chooseEveryone(filled, true), make).key).toBe("key-5");
    });
    it("stays through a send, whatever its answer", () => {
        const make = keys();
        const draft = editDraft(newDraft(make), filled, make);
        const sending = withPending(draft, request, new Date("2030-01-01T10:00:00Z"));
        expect(sending.key).toBe(draft.key);
        expect(sending.pending).toEqual({
            key: draft.key,
            request,
            startedAt: "2030-01-01T10:00:00.000Z",
        });
        expect({ ...sending, pending: null }.key).toBe(draft.key);
    });
});
describe("the stored draft", () => {
    it("is kept per employee", () => {
        expect(draftStorageKey("E1")).not.toBe(draftStorageKey("E2"));
    });
    it("reads back what was written, the mark of a send included", () => {
        const draft = withPending(editDraft(newDraft(keys()), filled), request, new Date());
        expect(parseDraft(serialiseDraft(draft))).toEqual(draft);
    });
    it("starts afresh from anything it cannot trust", () => {
        const make = keys();
        const untrusted = [
            null,
            "",
            "not json",
            "{}",
            '{"version": 99, "form": {}, "key": "k"}',
            JSON.stringify({ version: 1, key: "k", form: { ...EMPTY_FORM, departments: "Sales" } }),
            JSON.stringify({ version: 1, key: "", form: filled }),
        ];
        for (const raw of untrusted) {
            expect(parseDraft(raw, make)).toEqual({
                form: EMPTY_FORM,
                key: expect.any(String),
                pending: null,
            });
        }
    });
    it("drops a malformed mark but keeps the draft", () => {
        const raw = JSON.stringify({ version: 1, key: "k", form: filled, pending: { key: "k" } });
        expect(parseDraft(raw)).toEqual({ form: filled, key: "k", pending: null });
    });
});
describe("sending again after a reload", () => {
    const pending = { key: "k", request, startedAt: "2030-01-01T10:00:00.000Z" };
    const at = (ms) => new Date(new Date(pending.startedAt).getTime() + ms);
    it("happens for a request cut off moments ago", () => {
        expect(resumable(pending, at(2_000))).toBe(true);
        expect(resumable(pending, at(RESUME_WITHIN_MS))).toBe(true);
    });
    it("does not happen for an old mark, one from the future, or none", () => {
        expect(resumable(pending, at(RESUME_WITHIN_MS + 1))).toBe(false);
        expect(resumable(pending, at(-60_000))).toBe(false);
        expect(resumable({ ...pending, startedAt: "garbage" }, at(0))).toBe(false);
        expect(resumable(null, at(0))).toBe(false);
    });
});
describe("the draft a page load finds", () => {
    const startedAt = "2030-01-01T10:00:00.000Z";
    const stored = { form: EMPTY_FORM, key: "k", pending: { key: "k", request, startedAt } };
    const after = (ms) => new Date(new Date(startedAt).getTime() + ms);
    it("resumes a recent mark and keeps it until the answer", () => {
        expect(draftAtLoad(stored, after(1_000))).toEqual({
            draft: stored,
            resume: stored.pending,
            abandoned: null,
        });
    });
    it("reports an old mark and drops it from the draft, keeping the key", () => {
        expect(draftAtLoad(stored, after(RESUME_WITHIN_MS + 1))).toEqual({
            draft: { form: EMPTY_FORM, key: "k", pending: null },
            resume: null,
            abandoned: stored.pending,
        });
    });
    it("has nothing to do without a mark", () => {
        const draft = { ...stored, pending: null };
        expect(draftAtLoad(draft, after(0))).toEqual({ draft, resume: null, abandoned: null });
    });
});
