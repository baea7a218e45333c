// A StreamClient stand-in that records what it was asked to do.

import { vi } from "vitest";

import type { StreamConnection } from "../features/stream/StreamHub";

export function fakeStreamClient() {
  return {
    start: vi.fn<StreamConnection["start"]>(),
    setChannels: vi.fn<StreamConnection["setChannels"]>(),
    remember: vi.fn<StreamConnection["remember"]>(),
    retryNow: vi.fn<StreamConnection["retryNow"]>(),
    stop: vi.fn<StreamConnection["stop"]>(),
  };
}

export type FakeStreamClient = ReturnType<typeof fakeStreamClient>;

// After a listener's effect ran: the hub applies channels in a microtask.
export const channelsApplied = () => new Promise<void>((resolve) => queueMicrotask(resolve));
