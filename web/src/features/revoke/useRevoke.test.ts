// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { ApiError } from "../../api";
import { FakeApi } from "../../test/fakeApi";
import { parseEmployeeIds, revokeKey } from "./revokeApi";
import { missingPart, useRevoke } from "./useRevoke";

const REVOKE = "/v1/allocations/a1:revoke";

const accepted = (status = "requested") => ({
  body: {
    id: "r1",
    allocation_id: "a1",
    status,
    reason: "Wrong team",
    employee_ids: null,
    revoked: status === "completed" ? 3 : 0,
    failure_reason: null,
  },
  headers: new Headers(),
});

function setup() {
  const server = new FakeApi();
  const hook = renderHook(() => useRevoke(server.api, "a1"));
  return { server, ...hook };
}

afterEach(cleanup);

describe("revoke requests", () => {
  it("reads pasted employee ids, once each", () => {
    expect(parseEmployeeIds("E1, E2\nE3;E1  ")).toEqual(["E1", "E2", "E3"]);
  });

  it("keys the same content the same way, and other content otherwise", () => {
    const one = revokeKey("a1", { reason: "x", employee_ids: ["E1"] });
    expect(revokeKey("a1", { reason: "x", employee_ids: ["E1"] })).toBe(one);
    expect(revokeKey("a1", { reason: "x" })).not.toBe(one);
    expect(revokeKey("a2", { reason: "x", employee_ids: ["E1"] })).not.toBe(one);
  });

  it("needs a reason, and ids when only some employees are meant", () => {
    expect(missingPart(" ", "all", "")).toBe("a reason");
    expect(missingPart("Wrong team", "listed", " ")).toBe("employee ids");
    expect(missingPart("Wrong team", "all", "")).toBeNull();
  });
});

describe("useRevoke", () => {
  it("asks for confirmation before anything is sent", () => {
    const { server, result } = setup();
    act(() => result.current.setReason("Wrong team"));
    act(() => result.current.confirm());
    expect(result.current.confirming).toBe(true);
    expect(server.calls).toEqual([]);
  });

  it("sends one request however many clicks, with a key for its content", async () => {
    const { server, result } = setup();
    act(() => result.current.setReason("Wrong team"));
    act(() => result.current.confirm());
    act(() => {
      result.current.revoke();
      result.current.revoke();
    });
    act(() => result.current.revoke());
    expect(server.open(REVOKE)).toHaveLength(1);
    const [call] = server.calls;
    expect(call?.body).toEqual({ reason: "Wrong team" });
    expect(call?.headers["Idempotency-Key"]).toBe(revokeKey("a1", { reason: "Wrong team" }));
    await act(() => server.answer(REVOKE, accepted("completed")));
    expect(result.current.revocation?.revoked).toBe(3);
    expect(result.current.confirming).toBe(false);
  });

  it("sends only the listed employees when asked to", () => {
    const { server, result } = setup();
    act(() => {
      result.current.setReason("Left the company");
      result.current.setScope("listed");
      result.current.setEmployeeIds("E7, E9");
    });
    act(() => result.current.confirm());
    act(() => result.current.revoke());
    expect(server.calls[0]?.body).toEqual({ reason: "Left the company", employee_ids: ["E7", "E9"] });
  });

  it("says why a refused revocation was refused, and allows another try", async () => {
    const { server, result } = setup();
    act(() => result.current.setReason("Again"));
    act(() => result.current.confirm());
    act(() => result.current.revoke());
    const refusal = new ApiError(409, "every voucher named is revoked already", null);
    await act(() => server.fail(REVOKE, refusal));
    expect(result.current.error).toBe("every voucher named is revoked already");
    expect(result.current.submitting).toBe(false);
    act(() => result.current.revoke());
    expect(server.open(REVOKE)).toHaveLength(1);
  });
});
