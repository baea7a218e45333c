// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { channelsApplied, fakeStreamClient } from "../../test/fakeStream";
import { StreamHub } from "../stream/StreamHub";
import { useTeamFeed } from "./useTeamFeed";
const arrived = (id, department) => ({
    type: "herald.voucher.allocated",
    id,
    data: { type: "herald.voucher.allocated", data: { employee_id: `E${id}`, department } },
});
function setup(department) {
    const stream = new StreamHub();
    const client = fakeStreamClient();
    stream.attach(client);
    const hook = renderHook((props) => useTeamFeed(stream, props.department), {
        initialProps: { department },
    });
    return { stream, client, ...hook };
}
afterEach(cleanup);
describe("useTeamFeed", () => {
    it("listens on the department's channel and keeps its items, newest first", async () => {
        const { stream, client, result } = setup("Sales");
        await act(channelsApplied);
        expect(client.setChannels).toHaveBeenLastCalledWith(["private-department-Sales"]);
        act(() => {
            stream.clientOptions.onEvent(arrived(1, "Sales"));
            stream.clientOptions.onEvent(arrived(2, "IT"));
            stream.clientOptions.onEvent(arrived(3, "Sales"));
            stream.clientOptions.onEvent({ type: "unread-count", id: null, data: { unread: 1 } });
        });
        expect(result.current.map((item) => item.id)).toEqual([3, 1]);
    });
    it("has no feed and no channel for someone who manages nothing", async () => {
        const { stream, client, result } = setup(null);
        await act(channelsApplied);
        act(() => stream.clientOptions.onEvent(arrived(1, "Sales")));
        expect(result.current).toEqual([]);
        expect(client.setChannels).not.toHaveBeenCalled();
    });
    it("leaves the channel when it goes", async () => {
        const { client, unmount } = setup("Sales");
        await act(channelsApplied);
        unmount();
        await channelsApplied();
        expect(client.setChannels).toHaveBeenLastCalledWith([]);
    });
});
