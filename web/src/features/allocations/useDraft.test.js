// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { allocationRequest as request } from "../../test/fixtures";
import { RESUME_WITHIN_MS, draftStorageKey, parseDraft, serialiseDraft, } from "./draft";
import { EMPTY_FORM } from "./form";
import { useDraft } from "./useDraft";
const stored = () => parseDraft(localStorage.getItem(draftStorageKey("E1")));
const storeMark = (startedAt) => localStorage.setItem(draftStorageKey("E1"), serialiseDraft({
    form: { ...EMPTY_FORM, name: "Winter bonus" },
    key: "key-1",
    pending: { key: "key-1", request, startedAt: startedAt.toISOString() },
}));
const named = (name) => (form) => ({ ...form, name });
beforeEach(() => localStorage.clear());
afterEach(cleanup);
describe("useDraft", () => {
    it("starts empty, with a key", () => {
        const { result } = renderHook(() => useDraft("E1"));
        expect(result.current.form).toEqual(EMPTY_FORM);
        expect(result.current.idempotencyKey).not.toBe("");
        expect(result.current.resumeAtLoad).toBeNull();
        expect(result.current.abandonedAtLoad).toBeNull();
    });
    it("keeps one key per content: the same content keeps it, another gets a new one", () => {
        const { result } = renderHook(() => useDraft("E1"));
        act(() => result.current.edit((form) => ({ ...form, departments: ["Sales", "IT"] })));
        const key = result.current.idempotencyKey;
        // The same choice in another order is the same request.
        act(() => result.current.edit((form) => ({ ...form, departments: ["IT", "Sales"] })));
        expect(result.current.idempotencyKey).toBe(key);
        act(() => result.current.edit(named("Spring bonus")));
        expect(result.current.idempotencyKey).not.toBe(key);
    });
    it("takes two edits before a re-render as two edits", () => {
        const { result } = renderHook(() => useDraft("E1"));
        act(() => {
            result.current.edit((form) => ({ ...form, departments: ["Sales"] }));
            result.current.edit((form) => ({ ...form, grades: ["G1"] }));
        });
        expect(result.current.form.departments).toEqual(["Sales"]);
        expect(result.current.form.grades).toEqual(["G1"]);
    });
    it("survives a reload with its form and key, per employee", () => {
        const first = renderHook(() => useDraft("E1"));
        act(() => first.result.current.edit(named("Winter bonus")));
        const key = first.result.current.idempotencyKey;
        first.unmount();
        const again = renderHook(() => useDraft("E1"));
        expect(again.result.current.form.name).toBe("Winter bonus");
        expect(again.result.current.idempotencyKey).toBe(key);
        const other = renderHook(() => useDraft("E2"));
        expect(other.result.current.form).toEqual(EMPTY_FORM);
    });
    it("stores the mark of a request before it leaves, with the draft's key", () => {
        const { result } = renderHook(() => useDraft("E1"));
        let mark = null;
        act(() => {
            mark = result.current.markPending(request);
            // Before React re-renders: the mark is in storage already.
            expect(stored().pending).toEqual(mark);
        });
        expect(mark).toMatchObject({ key: result.current.idempotencyKey, request });
        act(() => result.current.clearPending());
        expect(stored().pending).toBeNull();
    });
    it("starts afresh after a success: an empty form and a new key", () => {
        const { result } = renderHook(() => useDraft("E1"));
        act(() => result.current.edit(named("Winter bonus")));
        const key = result.current.idempotencyKey;
        act(() => result.current.reset());
        expect(result.current.form).toEqual(EMPTY_FORM);
        expect(result.current.idempotencyKey).not.toBe(key);
        expect(stored().key).toBe(result.current.idempotencyKey);
    });
    it("finds a request a reload cut off moments ago, to send again", () => {
        storeMark(new Date(Date.now() - 1_000));
        const { result } = renderHook(() => useDraft("E1"));
        expect(result.current.resumeAtLoad).toMatchObject({ key: "key-1", request });
        expect(result.current.abandonedAtLoad).toBeNull();
        expect(result.current.idempotencyKey).toBe("key-1");
        // The mark stays until the answer comes.
        expect(stored().pending).not.toBeNull();
    });
    it("reports an old mark without sending it, and clears it from storage", () => {
        storeMark(new Date(Date.now() - RESUME_WITHIN_MS - 60_000));
        const { result } = renderHook(() => useDraft("E1"));
        expect(result.current.resumeAtLoad).toBeNull();
        expect(result.current.abandonedAtLoad).toMatchObject({ key: "key-1" });
        expect(stored()).toMatchObject({ key: "key-1", pending: null });
        expect(result.current.form.name).toBe("Winter bonus");
    });
});
