// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { FakeApi } from "../../test/fakeApi";
import { usePreview } from "./usePreview";
const PREVIEW = "/v1/allocations:preview";
const voucher = {
    name: "Winter bonus",
    amount: "50.00",
    currency: "EUR",
    expires_on: "2031-01-31",
    code_prefix: "WIN",
};
const figures = (matched) => ({
    matched,
    by_department: [{ department: "Sales", count: matched }],
    total_cost: [{ currency: "EUR", amount: (matched * 50).toFixed(2) }],
    sample: [],
    confirmation: "review",
    typed_confirmation_above: 1000,
});
function setup(criteria = { departments: ["Sales"] }) {
    const server = new FakeApi();
    const hook = renderHook((props) => usePreview(server.api, props.criteria, voucher), {
        initialProps: { criteria },
    });
    return { server, ...hook };
}
afterEach(cleanup);
describe("usePreview", () => {
    it("asks for the criteria and the voucher, and shows the figures when they come", async () => {
        const { server, result } = setup();
        expect(result.current).toMatchObject({ preview: null, error: null, loading: true });
        expect(server.calls[0]?.body).toEqual({ criteria: { departments: ["Sales"] }, voucher });
        await act(() => server.answer(PREVIEW, figures(3)));
        expect(result.current).toMatchObject({ preview: figures(3), error: null, loading: false });
    });
    it("drops the figures at once when asked again, and a late older answer", async () => {
        const { server, result } = setup();
        await act(() => server.answer(PREVIEW, figures(3)));
        act(() => result.current.reload());
        // What is shown is what is confirmed: no old figures while the new ones come.
        expect(result.current).toMatchObject({ preview: null, loading: true });
        act(() => result.current.reload());
        expect(server.open(PREVIEW)).toHaveLength(2);
        // The newest question is answered first; the older answer arrives late.
        await act(() => server.answer(PREVIEW, figures(5), 1));
        await act(() => server.answer(PREVIEW, figures(4)));
        expect(result.current.preview?.matched).toBe(5);
        expect(result.current.loading).toBe(false);
    });
    it("follows new criteria, dropping what was asked before", async () => {
        const { server, result, rerender } = setup();
        rerender({ criteria: { departments: ["IT"] } });
        expect(server.calls[1]?.body).toMatchObject({ criteria: { departments: ["IT"] } });
        await act(() => server.answer(PREVIEW, figures(3)));
        expect(result.current).toMatchObject({ preview: null, loading: true });
        await act(() => server.answer(PREVIEW, figures(7)));
        expect(result.current.preview?.matched).toBe(7);
    });
    it("says why it could not count, and tries again on reload", async () => {
        const { server, result } = setup();
        await act(() => server.fail(PREVIEW, new Error("the server answered 502")));
        expect(result.current).toMatchObject({
            preview: null,
            error: "the server answered 502",
            loading: false,
        });
        act(() => result.current.reload());
        expect(result.current).toMatchObject({ error: null, loading: true });
        await act(() => server.answer(PREVIEW, figures(2)));
        expect(result.current).toMatchObject({ preview: figures(2), error: null });
    });
});
