import { describe, expect, it } from "vitest";
import { waitingSeconds, waitingText } from "./status";
describe("waiting for a worker", () => {
    const waiting = { status: "requested", waiting_for_worker: true, waiting_seconds: 90 };
    it("ages from the server's figure by the time since it was read", () => {
        expect(waitingSeconds(waiting, 1_000, 31_000)).toBe(120);
        expect(waitingText(120)).toBe("Waiting for a worker · 2 min");
    });
    it("is nothing once a worker has it, or when the server does not say so", () => {
        expect(waitingSeconds({ ...waiting, status: "inserting" }, 0, 0)).toBeNull();
        expect(waitingSeconds({ ...waiting, waiting_for_worker: false }, 0, 0)).toBeNull();
    });
});
