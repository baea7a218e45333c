import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeEventSource } from "../../test/fakeEventSource";
import { StreamClient, backoffDelay, notificationId, } from "./StreamClient";
function harness(options = {}) {
    const sources = [];
    const events = [];
    const states = [];
    const resets = [];
    const caughtUp = [];
    const client = new StreamClient({
        createEventSource: (url) => {
            const source = new FakeEventSource(url);
            sources.push(source);
            return source;
        },
        onEvent: (event) => events.push(event),
        onState: (state) => states.push(state),
        onReset: () => resets.push(client.lastEventId),
        onCaughtUp: () => caughtUp.push(sources.length),
        backoff: { initialMs: 1000, maxMs: 8000, factor: 2 },
        random: options.random ?? (() => 1),
        caughtUpMs: 3000,
        renewCredentials: options.renewCredentials,
    });
    const latest = () => {
        const source = sources.at(-1);
        if (source === undefined)
            throw new Error("no EventSource yet");
        return source;
    };
    return { client, sources, events, states, resets, caughtUp, latest };
}
const ids = (events) => events.filter((e) => e.id !== null).map((e) => e.id);
beforeEach(() => {
    vi.useFakeTimers();
});
afterEach(() => {
    vi.useRealTimers();
});
describe("last event id", () => {
    it("starts from the newest item loaded over REST", () => {
        const { client, latest } = harness();
        client.start(41, ["private-department-Sales"]);
        expect(latest().url).toBe("/v1/stream?channels=private-department-Sales&last_event_id=41");
    });
    it("starts from 0 for an empty inbox, so nothing between load and connect is missed", () => {
        const { client, latest } = harness();
        client.start(0);
        expect(latest().url).toBe("/v1/stream?last_event_id=0");
    });
    it("follows the newest notification received and resumes from it", () => {
        const { client, latest } = harness();
        client.start(10);
        latest().notification(11);
        latest().notification(12);
        latest().unread(2);
        latest().refuse();
        vi.advanceTimersByTime(1000);
        expect(client.lastEventId).toBe(12);
        expect(latest().url).toBe("/v1/stream?last_event_id=12");
    });
    it("takes the id of a reset frame and asks the page to reload", () => {
        const { client, latest, resets, events } = harness();
        client.start(5);
        latest().emit("reset", { reason: "too many missed events", limit: 2000 }, "9000");
        expect(resets).toEqual([9000]);
        expect(events).toEqual([]);
        expect(client.lastEventId).toBe(9000);
    });
    it("never goes backwards", () => {
        const { client, latest } = harness();
        client.start(50);
        latest().notification(7);
        expect(client.lastEventId).toBe(50);
    });
});
describe("dedup by id", () => {
    it("drops a notification that arrives twice (live, then replayed)", () => {
        const { client, latest, events, sources } = harness();
        client.start(0);
        latest().notification(1);
        latest().notification(2);
        latest().refuse();
        vi.advanceTimersByTime(1000);
        expect(sources).toHaveLength(2);
        latest().notification(2);
        latest().notification(3);
        expect(ids(events)).toEqual([1, 2, 3]);
    });
    it("drops what the page already loaded over REST", () => {
        const { client, latest, events } = harness();
        client.remember(8);
        client.remember(9);
        client.start(client.lastEventId);
        latest().notification(9);
        latest().notification(10);
        expect(ids(events)).toEqual([10]);
    });
    it("passes control frames through every time", () => {
        const { client, latest, events } = harness();
        client.start(0);
        latest().unread(1);
        latest().unread(1);
        latest().emit("herald.allocation.progress", { id: "a:progress:inserted", data: {} });
        expect(events.map((e) => [e.type, e.id])).toEqual([
            ["unread-count", null],
            ["unread-count", null],
            ["herald.allocation.progress", null],
        ]);
    });
    it("forgets the oldest ids beyond its memory", () => {
        const client = new StreamClient({
            onEvent: () => undefined,
            createEventSource: (url) => new FakeEventSource(url),
            rememberIds: 2,
        });
        expect([client.remember(1), client.remember(2), client.remember(3)]).toEqual([
            true,
            true,
            true,
        ]);
        expect(client.remember(3)).toBe(false);
        expect(client.remember(1)).toBe(true);
    });
    it("ignores frames whose data is not JSON", () => {
        const { client, latest, events } = harness();
        client.start(0);
        const bad = { data: "<b>not json</b>", lastEventId: "" };
        latest()
            .listeners.get("herald.voucher.allocated")
            ?.forEach((listener) => listener(bad));
        expect(events).toEqual([]);
    });
});
describe("reconnect with backoff", () => {
    it("recreates a refused EventSource after growing, capped delays", () => {
        const { client, sources, latest } = harness();
        client.start(0);
        const waits = [];
        for (let i = 0; i < 6; i += 1) {
            const before = sources.length;
            latest().refuse();
            let waited = 0;
            while (sources.length === before) {
                vi.advanceTimersByTime(100);
                waited += 100;
            }
            waits.push(waited);
        }
        expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
        expect(sources.slice(0, -1).every((s) => s.closed)).toBe(true);
    });
    it("adds jitter: between half and all of the delay", () => {
        const backoff = { initialMs: 1000, maxMs: 8000, factor: 2 };
        expect(backoffDelay(0, backoff, () => 0)).toBe(500);
        expect(backoffDelay(0, backoff, () => 1)).toBe(1000);
        expect(backoffDelay(2, backoff, () => 0.5)).toBe(3000);
        expect(backoffDelay(10, backoff, () => 1)).toBe(8000);
    });
    it("starts the backoff over once a stream works again", () => {
        const { client, sources, latest } = harness();
        client.start(0);
        latest().refuse();
        vi.advanceTimersByTime(1000);
        latest().refuse();
        vi.advanceTimersByTime(2000);
        expect(sources).toHaveLength(3);
        latest().unread(0);
        latest().refuse();
        vi.advanceTimersByTime(999);
        expect(sources).toHaveLength(3);
        vi.advanceTimersByTime(1);
        expect(sources).toHaveLength(4);
    });
    it("leaves a dropped connection to the browser's own reconnect", () => {
        const { client, sources, latest, states } = harness();
        client.start(0);
        latest().unread(0);
        latest().drop();
        vi.advanceTimersByTime(60_000);
        expect(sources).toHaveLength(1);
        expect(states.at(-1)).toBe("reconnecting");
        latest().unread(0); // the browser reconnected and the replay is done
        expect(states.at(-1)).toBe("caught-up");
    });
    it("can retry at once, e.g. when the browser goes back online", () => {
        const { client, sources, latest } = harness();
        client.start(0);
        latest().refuse();
        client.retryNow();
        expect(sources).toHaveLength(2);
    });
    it("stops for good", () => {
        const { client, sources, latest, states } = harness();
        client.start(0);
        latest().refuse();
        client.stop();
        vi.advanceTimersByTime(60_000);
        expect(sources).toHaveLength(1);
        expect(states.at(-1)).toBe("closed");
    });
    it("ignores a late error from a stream it already replaced", () => {
        const { client, sources } = harness();
        client.start(0, ["private-allocation-a"]);
        const first = sources[0];
        client.setChannels(["private-allocation-b"]);
        first?.refuse();
        vi.advanceTimersByTime(60_000);
        expect(sources).toHaveLength(2);
    });
});
describe("an expired token", () => {
    it("renews the credentials, then reconnects from where it was", async () => {
        let renewed = () => undefined;
        const renewals = [];
        const { client, sources, latest, states, events } = harness({
            renewCredentials: () => new Promise((resolve) => {
                renewals.push(sources.length);
                renewed = resolve;
            }),
        });
        client.start(3);
        latest().notification(4);
        latest().unread(1);
        latest().emit("token-expired", { reason: "the token expired" });
        expect(sources[0]?.closed).toBe(true); // not left to the browser's reconnect
        expect(renewals).toEqual([1]);
        expect(states.at(-1)).toBe("reconnecting");
        await vi.advanceTimersByTimeAsync(5000);
        expect(sources).toHaveLength(1); // no stream before the credentials are new
        renewed();
        await vi.advanceTimersByTimeAsync(0);
        expect(sources).toHaveLength(2);
        expect(latest().url).toBe("/v1/stream?last_event_id=4");
        expect(events.map((e) => e.type)).toEqual(["herald.voucher.allocated", "unread-count"]);
    });
    it("retries with the backoff when no credentials could be had", async () => {
        const { client, sources, latest } = harness({
            renewCredentials: () => Promise.reject(new Error("the sign-in expired")),
        });
        client.start(0);
        latest().emit("token-expired", { reason: "the token expired" });
        await vi.advanceTimersByTimeAsync(999);
        expect(sources).toHaveLength(1);
        await vi.advanceTimersByTimeAsync(1);
        expect(sources).toHaveLength(2);
    });
    it("stays stopped when stopped during the renewal", async () => {
        const { client, sources, latest } = harness({ renewCredentials: () => Promise.resolve() });
        client.start(0);
        latest().emit("token-expired", { reason: "the token expired" });
        client.stop();
        await vi.advanceTimersByTimeAsync(10_000);
        expect(sources).toHaveLength(1);
    });
});
describe("connection state", () => {
    it("goes connecting, live, reconnecting, caught up, live", () => {
        const { client, latest, states, caughtUp } = harness();
        client.start(0);
        latest().unread(0);
        latest().refuse();
        vi.advanceTimersByTime(1000);
        latest().notification(1);
        latest().unread(1);
        expect(states).toEqual(["connecting", "live", "reconnecting", "caught-up"]);
        vi.advanceTimersByTime(3000);
        expect(states.at(-1)).toBe("live");
        expect(caughtUp).toEqual([1, 2]);
    });
    it("reconnects with the new channels, from the same place", () => {
        const { client, latest, sources } = harness();
        client.start(3);
        client.setChannels([]);
        expect(sources).toHaveLength(1);
        client.setChannels(["private-allocation-x"]);
        expect(sources).toHaveLength(2);
        expect(sources[0]?.closed).toBe(true);
        expect(latest().url).toBe("/v1/stream?channels=private-allocation-x&last_event_id=3");
    });
});
describe("notification ids", () => {
    it("come from the CloudEvent id of inbox items only", () => {
        expect(notificationId("herald.voucher.allocated", { id: "42" })).toBe(42);
        expect(notificationId("herald.notification.pushed", { id: "7" })).toBe(7);
        expect(notificationId("herald.allocation.completed", { id: "42" })).toBeNull();
        expect(notificationId("herald.voucher.allocated", { id: "a:b" })).toBeNull();
        expect(notificationId("herald.voucher.allocated", { id: 42 })).toBeNull();
        expect(notificationId("herald.voucher.allocated", null)).toBeNull();
    });
});
