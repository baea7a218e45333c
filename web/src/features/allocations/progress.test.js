import { describe, expect, it } from "vitest";
import { allocation } from "../../test/fixtures";
import { ALLOCATION_COMPLETED, ALLOCATION_DELIVERED, ALLOCATION_PROGRESS, } from "../stream/StreamClient";
import { allocationChannel, applyProgress, progressFrom } from "./progress";
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
describe("allocationChannel", () => {
    it("is the allocation's private channel", () => {
        expect(allocationChannel("a1")).toBe("private-allocation-a1");
    });
});
