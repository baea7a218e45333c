// A StreamClient stand-in that records what it was asked to do.
import { vi } from "vitest";
export function fakeStreamClient() {
    return {
        start: vi.fn(),
        setChannels: vi.fn(),
        remember: vi.fn(),
        retryNow: vi.fn(),
        stop: vi.fn(),
    };
}
// After a listener's effect ran: the hub applies channels in a microtask.
export const channelsApplied = () => new Promise((resolve) => queueMicrotask(resolve));
