import { describe, expect, it } from "vitest";

import { allocation } from "../../test/fixtures";
import {
  ALLOCATION_COMPLETED,
  ALLOCATION_DELIVERED,
  ALLOCATION_PROGRESS,
} from "../stream/StreamClient";
import {
  allocationChannel,
  applyProgress,
  chunksLine,
  historyKey,
  progressFrom,
} from "./progress";

describe("progressFrom", () => {
  it("counts nothing yet for a request no worker has taken", () => {
    const progress = progressFrom(allocation());
    expect(progress).toMatchObject({
      id: "a1",
      status: "requested",
      matched: null,
      inserted: null,
      published: null,
      delivered: 0,
      finishedAt: null,
    });
  });

  it("never moves the status back, and keeps what frames counted", () => {
    const ahead = applyProgress(progressFrom(allocation()), ALLOCATION_PROGRESS, {
      allocation_id: "a1",
      phase: "published",
      matched: 3,
      inserted: 3,
      published: 2,
    });
    const read = progressFrom(allocation({ status: "requested" }), ahead);
    expect(read.status).toBe("published");
    expect(read.published).toBe(2);
    expect(read.matched).toBe(3);
  });

  it("keeps the moment it first saw the allocation finished", () => {
    const done = progressFrom(allocation({ status: "completed" }));
    expect(done.finishedAt).not.toBeNull();
    const again = progressFrom(allocation({ status: "completed" }), { ...done, finishedAt: 5 });
    expect(again.finishedAt).toBe(5);
  });
});

describe("applyProgress", () => {
  const start = progressFrom(allocation());

  it("follows the phases", () => {
    const inserted = applyProgress(start, ALLOCATION_PROGRESS, {
      phase: "inserted",
      matched: 4,
      inserted: 4,
    });
    expect(inserted).toMatchObject({ status: "inserting", matched: 4, inserted: 4, published: null });
    const done = applyProgress(inserted, ALLOCATION_COMPLETED, { status: "completed", published: 4 });
    expect(done).toMatchObject({ status: "completed", published: 4, failureReason: null });
    expect(done.finishedAt).not.toBeNull();
  });

  it("records a failure and its reason", () => {
    const failed = applyProgress(start, ALLOCATION_COMPLETED, { status: "failed", reason: "No worker" });
    expect(failed).toMatchObject({ status: "failed", failureReason: "No worker" });
  });

  it("counts live deliveries up only", () => {
    const two = applyProgress(start, ALLOCATION_DELIVERED, { delivered: 2 });
    expect(applyProgress(two, ALLOCATION_DELIVERED, { delivered: 1 }).delivered).toBe(2);
    expect(two.status).toBe("requested");
  });
});

describe("historyKey", () => {
  const published = progressFrom(allocation({ status: "published" }));
  const completedByFrame = applyProgress(published, ALLOCATION_COMPLETED, {
    status: "completed",
    published: 4,
  });

  it("changes when a frame moves the shown status", () => {
    expect(historyKey(completedByFrame)).not.toBe(historyKey(published));
  });

  it("changes again when the row's status catches up with the frame", () => {
    const read = progressFrom(allocation({ status: "completed" }), completedByFrame);
    expect(read.status).toBe(completedByFrame.status);
    expect(historyKey(read)).not.toBe(historyKey(completedByFrame));
  });
});

describe("allocationChannel", () => {
  it("is the allocation's private channel", () => {
    expect(allocationChannel("a1")).toBe("private-allocation-a1");
  });
});

describe("chunks", () => {
  const inserting = progressFrom(
    allocation({
      status: "inserting",
      counts: { matched: 25_000, inserted: 10_000, published: 10_000 },
      chunks: { done: 1, total: 3 },
    }),
  );

  it("reads the chunks delivered from the allocation, and their events as published", () => {
    expect(inserting.chunks).toEqual({ done: 1, total: 3 });
    expect(inserting.published).toBe(10_000);
  });

  it("counts a chunk's frame as delivered: published and chunks move on", () => {
    const next = applyProgress(inserting, ALLOCATION_PROGRESS, {
      allocation_id: "a1",
      phase: "chunk",
      matched: 25_000,
      inserted: 20_000,
      published: 20_000,
      chunks_done: 2,
      chunks_total: 3,
    });
    expect(next).toMatchObject({ status: "inserting", published: 20_000, chunks: { done: 2, total: 3 } });
  });

  it("never moves the chunks back when an older read arrives after a frame", () => {
    const ahead = applyProgress(inserting, ALLOCATION_PROGRESS, {
      phase: "chunk",
      published: 20_000,
      chunks_done: 2,
      chunks_total: 3,
    });
    const read = progressFrom(
      allocation({ status: "inserting", chunks: { done: 1, total: 3 } }),
      ahead,
    );
    expect(read.chunks).toEqual({ done: 2, total: 3 });
  });

  it("says how many chunks are delivered while partly delivered", () => {
    expect(chunksLine("inserting", { done: 3, total: 10 })).toBe(
      "3 of 10 chunks delivered: their employees have been told.",
    );
  });

  it("says nothing of chunks for an allocation written in one", () => {
    expect(chunksLine("inserting", { done: 0, total: 1 })).toBeNull();
    expect(chunksLine("completed", null)).toBeNull();
  });

  it("says in how many chunks a completed allocation went out", () => {
    expect(chunksLine("completed", { done: 10, total: 10 })).toBe("Delivered in 10 chunks.");
  });
});
