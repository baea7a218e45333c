import { describe, expect, it, vi } from "vitest";
import { channelsApplied, fakeStreamClient } from "../../test/fakeStream";
import { StreamHub } from "./StreamHub";
const event = { type: "herald.voucher.allocated", id: 7, data: {} };
describe("StreamHub", () => {
    it("opens the client on every listener's channel, each once, sorted", () => {
        const hub = new StreamHub();
        const client = fakeStreamClient();
        hub.attach(client);
        hub.listen({ channel: "private-department-Sales" });
        hub.listen({ channel: "private-allocation-a1" });
        hub.listen({ channel: "private-department-Sales" });
        hub.listen({});
        hub.start(42);
        expect(client.start).toHaveBeenCalledWith(42, [
            "private-allocation-a1",
            "private-department-Sales",
        ]);
    });
    it("hands every frame, reset and catch-up to every listener until it leaves", () => {
        const hub = new StreamHub();
        const one = { onEvent: vi.fn(), onReset: vi.fn(), onCaughtUp: vi.fn() };
        const two = { onEvent: vi.fn() };
        hub.listen(one);
        const leave = hub.listen(two);
        hub.clientOptions.onEvent(event);
        leave();
        hub.clientOptions.onEvent(event);
        hub.clientOptions.onReset?.();
        hub.clientOptions.onCaughtUp?.();
        expect(one.onEvent).toHaveBeenCalledTimes(2);
        expect(two.onEvent).toHaveBeenCalledTimes(1);
        expect(one.onReset).toHaveBeenCalledTimes(1);
        expect(one.onCaughtUp).toHaveBeenCalledTimes(1);
    });
    it("applies a channel swap (leave, then listen) to the client once", async () => {
        const hub = new StreamHub();
        const client = fakeStreamClient();
        hub.attach(client);
        const leave = hub.listen({ channel: "private-allocation-a1" });
        await channelsApplied();
        client.setChannels.mockClear();
        leave();
        hub.listen({ channel: "private-allocation-a2" });
        await channelsApplied();
        expect(client.setChannels).toHaveBeenCalledTimes(1);
        expect(client.setChannels).toHaveBeenCalledWith(["private-allocation-a2"]);
    });
    it("passes remembered ids on, and does nothing without a client", () => {
        const hub = new StreamHub();
        hub.remember(1);
        hub.start(1);
        const client = fakeStreamClient();
        hub.attach(client);
        hub.remember(2);
        expect(client.remember).toHaveBeenCalledExactlyOnceWith(2);
        hub.detach(fakeStreamClient());
        hub.remember(3);
        expect(client.remember).toHaveBeenLastCalledWith(3);
        hub.detach(client);
        hub.remember(4);
        expect(client.remember).toHaveBeenCalledTimes(2);
    });
});
