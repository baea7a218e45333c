// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api";
import { FakeApi } from "../../test/fakeApi";
import { allocation } from "../../test/fixtures";
import { usePendingApprovals } from "./usePendingApprovals";

const LIST = "/v1/allocations";

function setup() {
  const server = new FakeApi();
  const decided = vi.fn();
  const hook = renderHook(() => usePendingApprovals(server.api, "k", decided));
  return { server, decided, ...hook };
}

afterEach(cleanup);

describe("usePendingApprovals", () => {
  it("lists the allocations pending approval", async () => {
    const { server, result } = setup();
    expect(server.calls[0]?.query).toMatchObject({ status: "pending_approval" });
    await act(() => server.answer(LIST, { items: [allocation({ status: "pending_approval" })] }));
    expect(result.current.items.map((a) => a.id)).toEqual(["a1"]);
  });

  it("approves once, tells the page, and reads the list again", async () => {
    const { server, result, decided } = setup();
    await act(() => server.answer(LIST, { items: [allocation({ status: "pending_approval" })] }));
    act(() => void result.current.approve("a1"));
    expect(result.current.busy).toBe("a1");
    expect(server.open("/v1/allocations/a1:approve")).toHaveLength(1);
    await act(() => server.answer("/v1/allocations/a1:approve", allocation()));
    expect(decided).toHaveBeenCalledWith(allocation());
    await act(() => server.answer(LIST, { items: [] }));
    expect(result.current).toMatchObject({ busy: null, items: [], error: null });
  });

  it("rejects with the reason", async () => {
    const { server, result } = setup();
    await act(() => server.answer(LIST, { items: [allocation({ status: "pending_approval" })] }));
    act(() => void result.current.reject("a1", "wrong department"));
    expect(server.open("/v1/allocations/a1:reject")[0]?.body).toEqual({
      reason: "wrong department",
    });
  });

  it("says why an approval was refused", async () => {
    const { server, result } = setup();
    await act(() => server.answer(LIST, { items: [allocation({ status: "pending_approval" })] }));
    act(() => void result.current.approve("a1"));
    const refusal = new ApiError(403, "you requested allocation a1: another hr-admin must approve it", {});
    await act(() => server.fail("/v1/allocations/a1:approve", refusal));
    await act(() => server.answer(LIST, { items: [allocation({ status: "pending_approval" })] }));
    expect(result.current.error).toBe(
      "you requested allocation a1: another hr-admin must approve it",
    );
  });
});
