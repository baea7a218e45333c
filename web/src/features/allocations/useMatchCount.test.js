// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeApi } from "../../test/fakeApi";
import { useMatchCount } from "./useMatchCount";
const PREVIEW = "/v1/allocations:preview";
const TYPING_MS = 300;
const count = (matched) => ({ matched });
function setup(criteria) {
    const server = new FakeApi();
    const hook = renderHook((props) => useMatchCount(server.api, props.criteria), { initialProps: { criteria } });
    return { server, ...hook };
}
const typed = () => act(() => {
    vi.advanceTimersByTime(TYPING_MS);
});
beforeEach(() => vi.useFakeTimers());
afterEach(() => {
    cleanup();
    vi.useRealTimers();
});
describe("useMatchCount", () => {
    it("asks nothing while there is no audience", () => {
        const { server, result } = setup(null);
        typed();
        expect(server.calls).toHaveLength(0);
        expect(result.current).toEqual({ matched: null, error: null, pending: false });
    });
    it("asks once the typing pauses, for the criteria only, and for the latest ones", async () => {
        const { server, result, rerender } = setup({ min_years_experience: 1 });
        expect(result.current.pending).toBe(true);
        act(() => {
            vi.advanceTimersByTime(TYPING_MS - 1);
        });
        rerender({ criteria: { min_years_experience: 12 } });
        act(() => {
            vi.advanceTimersByTime(TYPING_MS - 1);
        });
        expect(server.calls).toHaveLength(0);
        typed();
        expect(server.calls).toHaveLength(1);
        expect(server.calls[0]?.body).toEqual({ criteria: { min_years_experience: 12 } });
        await act(() => server.answer(PREVIEW, count(40)));
        expect(result.current).toEqual({ matched: 40, error: null, pending: false });
    });
    it("asks nothing again for the same criteria in a new object", () => {
        const { server, rerender } = setup({ grades: ["G1"] });
        typed();
        rerender({ criteria: { grades: ["G1"] } });
        typed();
        expect(server.calls).toHaveLength(1);
    });
    it("keeps the last figure while the next comes, and drops a late older answer", async () => {
        const { server, result, rerender } = setup({ grades: ["G1"] });
        typed();
        await act(() => server.answer(PREVIEW, count(3)));
        rerender({ criteria: { grades: ["G2"] } });
        typed();
        rerender({ criteria: { grades: ["G3"] } });
        expect(result.current).toEqual({ matched: 3, error: null, pending: true });
        typed();
        expect(server.open(PREVIEW)).toHaveLength(2);
        await act(() => server.answer(PREVIEW, count(9), 1));
        await act(() => server.answer(PREVIEW, count(5)));
        expect(result.current).toEqual({ matched: 9, error: null, pending: false });
    });
    it("shows no old figure after the audience was emptied", async () => {
        const { server, result, rerender } = setup({ grades: ["G1"] });
        typed();
        await act(() => server.answer(PREVIEW, count(3)));
        rerender({ criteria: null });
        expect(result.current).toEqual({ matched: null, error: null, pending: false });
        rerender({ criteria: { grades: ["G1"] } });
        expect(result.current).toEqual({ matched: null, error: null, pending: true });
    });
    it("says why it could not count", async () => {
        const { server, result } = setup({ grades: ["G1"] });
        typed();
        await act(() => server.fail(PREVIEW, new Error("the server answered 429")));
        expect(result.current).toEqual({
            matched: null,
            error: "the server answered 429",
            pending: false,
        });
    });
});
