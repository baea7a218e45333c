// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api";
import { FakeApi } from "../../test/fakeApi";
import { allocation, allocationRequest as request } from "../../test/fixtures";
import { RESUME_WITHIN_MS, draftStorageKey, parseDraft, serialiseDraft } from "./draft";
import { EMPTY_FORM } from "./form";
import { useDraft } from "./useDraft";
import { useSubmitOnce } from "./useSubmitOnce";
const ALLOCATIONS = "/v1/allocations";
const answered = (replayed = false) => ({
    body: allocation({ id: "a1" }),
    headers: new Headers(replayed ? { "Idempotent-Replayed": "true" } : {}),
});
const stored = () => parseDraft(localStorage.getItem(draftStorageKey("E1")));
function setup({ strict = false } = {}) {
    const server = new FakeApi();
    const outcomes = [];
    const onOutcome = vi.fn((outcome, resumed) => {
        outcomes.push([outcome, resumed]);
    });
    const hook = renderHook(() => {
        const draft = useDraft("E1");
        return { draft, sender: useSubmitOnce(server.api, draft, onOutcome) };
    }, { reactStrictMode: strict });
    return { server, outcomes, ...hook };
}
function storeMark(ageMs) {
    localStorage.setItem(draftStorageKey("E1"), serialiseDraft({
        form: { ...EMPTY_FORM, name: "Winter bonus" },
        key: "key-1",
        pending: { key: "key-1", request, startedAt: new Date(Date.now() - ageMs).toISOString() },
    }));
}
beforeEach(() => localStorage.clear());
afterEach(cleanup);
describe("useSubmitOnce", () => {
    it("sends one request per content, however many clicks, with the draft's key", async () => {
        const { server, outcomes, result } = setup();
        const key = result.current.draft.idempotencyKey;
        act(() => {
            result.current.sender.submit(request);
            result.current.sender.submit(request);
        });
        act(() => result.current.sender.submit(request));
        expect(server.calls).toHaveLength(1);
        expect(server.calls[0]).toMatchObject({
            path: ALLOCATIONS,
            body: request,
            headers: { "Idempotency-Key": key },
        });
        expect(result.current.sender.submitting).toBe(true);
        expect(stored().pending).toMatchObject({ key, request });
        await act(() => server.answer(ALLOCATIONS, answered()));
        expect(outcomes).toEqual([
            [{ kind: "allocated", allocation: allocation({ id: "a1" }), replayed: false }, false],
        ]);
        expect(result.current.sender.submitting).toBe(false);
        // Done: the next allocation is another request.
        expect(result.current.draft.idempotencyKey).not.toBe(key);
        expect(stored().pending).toBeNull();
    });
    it("sends the same content again with the same key after a failure", async () => {
        const { server, outcomes, result } = setup();
        const key = result.current.draft.idempotencyKey;
        act(() => result.current.sender.submit(request));
        await act(() => server.fail(ALLOCATIONS, new ApiError(503, "the allocation service is down", null)));
        expect(outcomes).toEqual([
            [{ kind: "failed", message: "the allocation service is down" }, false],
        ]);
        expect(stored().pending).toBeNull();
        act(() => result.current.sender.submit(request));
        expect(server.calls).toHaveLength(2);
        expect(server.calls[1]?.headers).toEqual({ "Idempotency-Key": key });
    });
    it("reports a changed match so the review can be confirmed again", async () => {
        const { server, outcomes, result } = setup();
        act(() => result.current.sender.submit(request));
        await act(() => server.fail(ALLOCATIONS, new ApiError(409, "changed", { detail: { code: "recipients_changed", matched: 4 } })));
        expect(outcomes).toEqual([[{ kind: "recipients_changed", matched: 4 }, false]]);
    });
    it("sends again, once and with the same key, what a reload cut off", async () => {
        storeMark(1_000);
        // As the page runs it: StrictMode runs effects twice.
        const { server, outcomes, result } = setup({ strict: true });
        // From the first render: the page says it is sending.
        expect(result.current.sender.resuming).toBe(true);
        expect(result.current.sender.submitting).toBe(true);
        expect(server.calls).toHaveLength(1);
        expect(server.calls[0]).toMatchObject({
            body: request,
            headers: { "Idempotency-Key": "key-1" },
        });
        // A click meanwhile sends nothing more.
        act(() => result.current.sender.submit(request));
        expect(server.calls).toHaveLength(1);
        await act(() => server.answer(ALLOCATIONS, answered(true)));
        expect(outcomes).toEqual([
            [{ kind: "allocated", allocation: allocation({ id: "a1" }), replayed: true }, true],
        ]);
        expect(result.current.sender.resuming).toBe(false);
        expect(stored().pending).toBeNull();
    });
    it("keeps the mark when the page is left: the answer was cut off, not refused", async () => {
        const { server, result } = setup();
        const key = result.current.draft.idempotencyKey;
        act(() => result.current.sender.submit(request));
        window.dispatchEvent(new Event("beforeunload"));
        try {
            await act(() => server.fail(ALLOCATIONS, new TypeError("Failed to fetch")));
            expect(stored().pending).toMatchObject({ key, request });
        }
        finally {
            window.dispatchEvent(new Event("pageshow"));
        }
    });
    it("does not send an old mark again, but says it was on its way", () => {
        storeMark(RESUME_WITHIN_MS + 60_000);
        const { server, result } = setup();
        expect(server.calls).toHaveLength(0);
        expect(result.current.sender.submitting).toBe(false);
        expect(result.current.sender.abandoned).toMatchObject({ key: "key-1", request });
    });
    it("gives the outcome to the latest callback", async () => {
        const server = new FakeApi();
        const first = vi.fn();
        const latest = vi.fn();
        const { result, rerender } = renderHook(({ onOutcome }) => useSubmitOnce(server.api, useDraft("E1"), onOutcome), { initialProps: { onOutcome: first } });
        act(() => result.current.submit(request));
        rerender({ onOutcome: latest });
        await act(() => server.answer(ALLOCATIONS, answered()));
        expect(first).not.toHaveBeenCalled();
        expect(latest).toHaveBeenCalledTimes(1);
    });
});
