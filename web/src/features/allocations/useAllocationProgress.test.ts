// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { FakeApi } from "../../test/fakeApi";
import { channelsApplied, fakeStreamClient } from "../../test/fakeStream";
import { allocation } from "../../test/fixtures";
import { ALLOCATION_COMPLETED, ALLOCATION_PROGRESS } from "../stream/StreamClient";
import { StreamHub } from "../stream/StreamHub";
import { useAllocationProgress } from "./useAllocationProgress";

function setup() {
  const server = new FakeApi();
  const stream = new StreamHub();
  const client = fakeStreamClient();
  stream.attach(client);
  const hook = renderHook(() => useAllocationProgress(server.api, stream));
  const frame = (type: string, data: Record<string, unknown>) =>
    act(() => stream.clientOptions.onEvent({ type, id: null, data: { type, data } }));
  return { server, stream, client, frame, ...hook };
}

afterEach(cleanup);

describe("useAllocationProgress", () => {
  it("follows nothing at first, on no channel", () => {
    const { result, client } = setup();
    expect(result.current.watch).toBeNull();
    expect(client.setChannels).not.toHaveBeenCalled();
  });

  it("follows the allocation's frames on its channel", async () => {
    const { result, client, frame } = setup();
    act(() => result.current.watchAllocation(allocation({ id: "a1" })));
    await act(channelsApplied);
    expect(client.setChannels).toHaveBeenLastCalledWith(["private-allocation-a1"]);
    frame(ALLOCATION_PROGRESS, { allocation_id: "a1", phase: "inserted", matched: 3, inserted: 3 });
    // Another allocation's frame is not this one's.
    frame(ALLOCATION_PROGRESS, { allocation_id: "a2", phase: "published", published: 9 });
    expect(result.current.watch).toMatchObject({
      status: "inserting",
      matched: 3,
      published: null,
    });
  });

  it("moves to the newly watched allocation's channel", async () => {
    const { result, client } = setup();
    act(() => result.current.watchAllocation(allocation({ id: "a1" })));
    await act(channelsApplied);
    act(() => result.current.watchAllocation(allocation({ id: "a2" })));
    await act(channelsApplied);
    expect(client.setChannels.mock.calls).toEqual([
      [["private-allocation-a1"]],
      [["private-allocation-a2"]],
    ]);
    expect(result.current.watch?.id).toBe("a2");
  });

  it("reads the allocation again when it completes and after the stream caught up", async () => {
    const { server, stream, result, frame } = setup();
    act(() => result.current.watchAllocation(allocation({ id: "a1", status: "inserting" })));
    frame(ALLOCATION_COMPLETED, { allocation_id: "a1", status: "completed", published: 3 });
    expect(result.current.watch?.status).toBe("completed");
    expect(server.open("/v1/allocations/a1")).toHaveLength(1);
    const done = allocation({
      id: "a1",
      status: "completed",
      counts: { matched: 3, inserted: 3, published: 3 },
      timings: {
        requested_at: "2030-01-01T00:00:00Z",
        completed_at: "2030-01-01T00:00:02Z",
        duration_seconds: 2,
      },
    });
    await act(() => server.answer("/v1/allocations/a1", done));
    expect(result.current.watch?.allocation.timings.duration_seconds).toBe(2);
    act(() => stream.clientOptions.onCaughtUp?.());
    expect(server.open("/v1/allocations/a1")).toHaveLength(1);
  });

  describe("while no worker has the request", () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it("reads it every ten seconds until a worker takes it", async () => {
      const { server, result } = setup();
      act(() => result.current.watchAllocation(allocation({ id: "a1", waiting_for_worker: true })));
      act(() => {
        vi.advanceTimersByTime(10_000);
      });
      expect(server.open("/v1/allocations/a1")).toHaveLength(1);
      await act(() =>
        server.answer("/v1/allocations/a1", allocation({ id: "a1", status: "inserting" })),
      );
      expect(result.current.watch?.status).toBe("inserting");
      act(() => {
        vi.advanceTimersByTime(30_000);
      });
      expect(server.open()).toHaveLength(0);
    });
  });

  describe("while every chunk is published and the completion not yet read", () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it("reads it every second until it says completed", async () => {
      const { server, result } = setup();
      act(() => result.current.watchAllocation(allocation({ id: "a1", status: "published" })));
      act(() => {
        vi.advanceTimersByTime(1_000);
      });
      expect(server.open("/v1/allocations/a1")).toHaveLength(1);
      await act(() =>
        server.answer("/v1/allocations/a1", allocation({ id: "a1", status: "completed" })),
      );
      expect(result.current.watch?.status).toBe("completed");
      act(() => {
        vi.advanceTimersByTime(30_000);
      });
      expect(server.open()).toHaveLength(0);
    });

    it("reads it every second after a completion frame that came before the row said so", async () => {
      const { server, result, frame } = setup();
      act(() => result.current.watchAllocation(allocation({ id: "a1", status: "published" })));
      frame(ALLOCATION_COMPLETED, { allocation_id: "a1", status: "completed", published: 3 });
      // The read the frame prompts lands before the inserter marks the row completed.
      await act(() =>
        server.answer("/v1/allocations/a1", allocation({ id: "a1", status: "published" })),
      );
      expect(result.current.watch?.status).toBe("completed");
      expect(result.current.watch?.allocation.status).toBe("published");
      act(() => {
        vi.advanceTimersByTime(1_000);
      });
      expect(server.open("/v1/allocations/a1")).toHaveLength(1);
      await act(() =>
        server.answer("/v1/allocations/a1", allocation({ id: "a1", status: "completed" })),
      );
      expect(result.current.watch?.allocation.status).toBe("completed");
      act(() => {
        vi.advanceTimersByTime(30_000);
      });
      expect(server.open()).toHaveLength(0);
    });
  });
});
