// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { FakeApi, flush } from "./test/fakeApi";
import { usePolled } from "./usePolled";
import { useAllocationTeam } from "./features/team/useAllocationTeam";
import { deliveriesPath, useDeliveries } from "./features/allocations/useDeliveries";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const FIGURES = { total: 3, delivered_live: 2, waiting_in_inbox: 1, read: 1 };

describe("usePolled", () => {
  it("loads at once, then again after each answer", async () => {
    const server = new FakeApi();
    const { result } = renderHook(() => useDeliveries(server.api, "a1"));
    expect(server.open(deliveriesPath("a1"))).toHaveLength(1);
    await act(() => server.answer("/v1/allocations/a1/deliveries", FIGURES));
    expect(result.current.value).toEqual(FIGURES);
    // One request at a time: the next only after the interval.
    expect(server.open()).toHaveLength(0);
    await act(async () => {
      vi.advanceTimersByTime(10_000);
      await flush();
    });
    await act(() => server.answer("/v1/allocations/a1/deliveries", { ...FIGURES, read: 2 }));
    expect(result.current.value?.read).toBe(2);
  });

  it("shows a failure, keeps the last figures, and tries again", async () => {
    const server = new FakeApi();
    const { result } = renderHook(() => useDeliveries(server.api, "a1"));
    await act(() => server.answer("/v1/allocations/a1/deliveries", FIGURES));
    await act(async () => {
      vi.advanceTimersByTime(10_000);
      await flush();
    });
    await act(() => server.fail("/v1/allocations/a1/deliveries", new Error("the server answered 503")));
    expect(result.current).toMatchObject({ value: FIGURES, error: "the server answered 503" });
    await act(async () => {
      vi.advanceTimersByTime(10_000);
      await flush();
    });
    expect(server.open("/v1/allocations/a1/deliveries")).toHaveLength(1);
  });

  it("asks nothing without an allocation, and stops when unmounted", async () => {
    const server = new FakeApi();
    const { unmount } = renderHook(() => useDeliveries(server.api, null));
    expect(server.calls).toHaveLength(0);
    unmount();
    const load = vi.fn(() => Promise.resolve(1));
    const polled = renderHook(() => usePolled(load, 1000));
    await act(flush);
    polled.unmount();
    vi.advanceTimersByTime(10_000);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("reads an allocation's team part from its own path", async () => {
    const server = new FakeApi();
    const { result } = renderHook(() => useAllocationTeam(server.api, "a1"));
    const team = { allocation: {}, team: { department: "Sales", size: 3 }, recipients: [] };
    await act(() => server.answer("/v1/allocations/a1/team", team));
    expect(result.current.value).toEqual(team);
  });

  it("asks again soon after a delivered frame, at most once per two seconds", async () => {
    const server = new FakeApi();
    const path = "/v1/allocations/a1/deliveries";
    let delivered = 0;
    const { rerender } = renderHook(() => useDeliveries(server.api, "a1", delivered));
    await act(() => server.answer(path, FIGURES));
    delivered = 1;
    rerender();
    expect(server.open(path)).toHaveLength(0);
    await act(async () => {
      vi.advanceTimersByTime(1_999);
      await flush();
    });
    expect(server.open(path)).toHaveLength(0);
    await act(async () => {
      vi.advanceTimersByTime(1);
      await flush();
    });
    expect(server.open(path)).toHaveLength(1);
    // Frames during that request make one more round, not one each.
    delivered = 2;
    rerender();
    delivered = 3;
    rerender();
    await act(() => server.answer(path, FIGURES));
    await act(async () => {
      vi.advanceTimersByTime(2_000);
      await flush();
    });
    expect(server.open(path)).toHaveLength(1);
    await act(() => server.answer(path, FIGURES));
    expect(server.open(path)).toHaveLength(0);
  });
});
