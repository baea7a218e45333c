import { describe, expect, it, vi } from "vitest";
import { renewStreamSession } from "./session";
describe("renewing the stream's session", () => {
    it("sets a new cookie from the page's token while that is good", async () => {
        const api = { post: vi.fn().mockResolvedValue({}) };
        const expired = vi.fn();
        await renewStreamSession(api, 2000, expired, () => 1999);
        expect(api.post).toHaveBeenCalledExactlyOnceWith("/v1/session");
        expect(expired).not.toHaveBeenCalled();
    });
    it("signs the person out once the page's own token expired", async () => {
        const api = { post: vi.fn() };
        const expired = vi.fn();
        await expect(renewStreamSession(api, 2000, expired, () => 2000)).rejects.toThrow("the sign-in expired");
        expect(api.post).not.toHaveBeenCalled();
        expect(expired).toHaveBeenCalledOnce();
    });
});
