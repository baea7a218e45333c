// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { channelsApplied, fakeStreamClient } from "../../test/fakeStream";
import { useStream } from "./useStream";
function factory() {
    const made = [];
    const create = (options) => {
        const client = fakeStreamClient();
        made.push({ client, options });
        return client;
    };
    return { made, create };
}
afterEach(cleanup);
describe("useStream", () => {
    it("keeps one client, started after the page loaded, on the listeners' channels", async () => {
        const { made, create } = factory();
        const { result } = renderHook(() => useStream(create));
        expect(made).toHaveLength(1);
        const { stream } = result.current;
        stream.listen({ channel: "private-department-Sales" });
        await act(channelsApplied);
        stream.start(12);
        expect(made[0]?.client.start).toHaveBeenCalledExactlyOnceWith(12, ["private-department-Sales"]);
    });
    it("is the same hub on every render, with the connection state the client reports", () => {
        const { made, create } = factory();
        const { result, rerender } = renderHook(() => useStream(create));
        const { stream } = result.current;
        expect(result.current.connection).toBe("connecting");
        act(() => made[0]?.options.onState?.("live"));
        rerender();
        expect(result.current.connection).toBe("live");
        expect(result.current.stream).toBe(stream);
        expect(made).toHaveLength(1);
    });
    it("hands the client what renews a stream whose token expired", () => {
        const { made, create } = factory();
        const renew = () => Promise.resolve();
        renderHook(() => useStream(create, renew));
        expect(made[0]?.options.renewCredentials).toBe(renew);
    });
    it("hands the client's frames to the listeners", () => {
        const { made, create } = factory();
        const { result } = renderHook(() => useStream(create));
        const seen = [];
        result.current.stream.listen({ onEvent: (event) => seen.push(event.id ?? -1) });
        made[0]?.options.onEvent({ type: "herald.voucher.allocated", id: 3, data: {} });
        expect(seen).toEqual([3]);
    });
    it("retries at once when the browser is back online, and stops when it goes", () => {
        const { made, create } = factory();
        const { unmount } = renderHook(() => useStream(create));
        const client = made[0]?.client;
        window.dispatchEvent(new Event("online"));
        expect(client?.retryNow).toHaveBeenCalledTimes(1);
        unmount();
        expect(client?.stop).toHaveBeenCalledTimes(1);
        window.dispatchEvent(new Event("online"));
        expect(client?.retryNow).toHaveBeenCalledTimes(1);
    });
    it("under StrictMode, starts only the client it keeps", () => {
        const { made, create } = factory();
        const { result } = renderHook(() => useStream(create), { reactStrictMode: true });
        expect(made).toHaveLength(2);
        expect(made[0]?.client.stop).toHaveBeenCalledTimes(1);
        result.current.stream.start(0);
        expect(made[0]?.client.start).not.toHaveBeenCalled();
        expect(made[1]?.client.start).toHaveBeenCalledExactlyOnceWith(0, []);
    });
});
