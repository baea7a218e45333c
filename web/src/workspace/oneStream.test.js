// @vitest-environment jsdom
// The features of a signed-in tab share one EventSource, as the workspace wires them.
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { useAllocationProgress } from "../features/allocations/useAllocationProgress";
import { useInbox } from "../features/inbox/useInbox";
import { StreamClient } from "../features/stream/StreamClient";
import { useStream } from "../features/stream/useStream";
import { useTeamFeed } from "../features/team/useTeamFeed";
import { FakeApi } from "../test/fakeApi";
import { FakeEventSource } from "../test/fakeEventSource";
import { channelsApplied } from "../test/fakeStream";
import { allocation } from "../test/fixtures";
function setup() {
    const sources = [];
    const create = (options) => new StreamClient({
        ...options,
        createEventSource: (url) => {
            const source = new FakeEventSource(url);
            sources.push(source);
            return source;
        },
    });
    const server = new FakeApi();
    const hook = renderHook(() => {
        const { connection, stream } = useStream(create);
        const inbox = useInbox(server.api, "E1", stream);
        const feed = useTeamFeed(stream, "Sales");
        const progress = useAllocationProgress(server.api, stream);
        return { connection, inbox, feed, progress };
    });
    const open = () => sources.filter((source) => !source.closed);
    const channels = (source) => new URL(source?.url ?? "", "http://herald").searchParams.get("channels");
    return { server, sources, open, channels, ...hook };
}
afterEach(cleanup);
describe("one stream per tab", () => {
    it("opens after the inbox, on every feature's channel, and feeds them all", async () => {
        const { server, sources, open, channels, result } = setup();
        await act(() => server.answer("/v1/notifications", { items: [], next_cursor: null }));
        expect(sources).toHaveLength(0);
        await act(() => server.answer("/v1/notifications/unread-count", { unread: 0 }));
        expect(open()).toHaveLength(1);
        expect(channels(open()[0])).toBe("private-department-Sales");
        expect(open()[0]?.url).toContain("last_event_id=0");
        act(() => {
            open()[0]?.emit("unread-count", { unread: 1 });
            open()[0]?.emit("herald.voucher.allocated", {
                id: "5",
                type: "herald.voucher.allocated",
                data: { employee_id: "E1", department: "Sales", title: "Winter bonus" },
            }, "5");
        });
        expect(result.current.connection).toBe("live");
        expect(result.current.inbox.items.map((item) => item.id)).toEqual([5]);
        expect(result.current.feed.map((item) => item.id)).toEqual([5]);
    });
    it("reopens once, on the new channels, when another allocation is watched", async () => {
        const { server, sources, open, channels, result } = setup();
        await act(() => server.answer("/v1/notifications", { items: [], next_cursor: null }));
        await act(() => server.answer("/v1/notifications/unread-count", { unread: 0 }));
        act(() => result.current.progress.watchAllocation(allocation({ id: "a1" })));
        await act(channelsApplied);
        act(() => result.current.progress.watchAllocation(allocation({ id: "a2" })));
        await act(channelsApplied);
        expect(sources).toHaveLength(3);
        expect(open()).toHaveLength(1);
        expect(channels(open()[0])).toBe("private-allocation-a2,private-department-Sales");
    });
});
