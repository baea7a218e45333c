// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { MAX_TOASTS, useToasts } from "./useToasts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function advance(ms: number) {
  act(() => {
    vi.advanceTimersByTime(ms);
  });
}

// Still there 1 ms before `ms` have passed, gone at `ms`.
function goesAfter(result: { current: { toasts: unknown[] } }, ms: number) {
  advance(ms - 1);
  expect(result.current.toasts).toHaveLength(1);
  advance(1);
  expect(result.current.toasts).toEqual([]);
}

describe("useToasts", () => {
  it("shows a toast, then dismisses it by itself", () => {
    const { result } = renderHook(() => useToasts(1000));
    act(() => result.current.push("New voucher: Winter bonus", "/inbox"));
    expect(result.current.toasts).toEqual([{ key: 1, text: "New voucher: Winter bonus", href: "/inbox" }]);
    goesAfter(result, 1000);
  });

  it("closes at once when dismissed", () => {
    const { result } = renderHook(() => useToasts(1000));
    act(() => result.current.push("a"));
    act(() => result.current.dismiss(1));
    expect(result.current.toasts).toEqual([]);
  });

  it("stays while held, and goes a full lifetime after", () => {
    const { result } = renderHook(() => useToasts(1000));
    act(() => result.current.push("a"));
    act(() => result.current.hold(1, true));
    advance(5000);
    expect(result.current.toasts).toHaveLength(1);
    act(() => result.current.hold(1, false));
    goesAfter(result, 1000);
  });

  it("keeps only the newest few", () => {
    const { result } = renderHook(() => useToasts(1000));
    act(() => {
      for (let n = 0; n < MAX_TOASTS + 2; n += 1) result.current.push(`t${n}`);
    });
    expect(result.current.toasts.map((t) => t.text)).toEqual(["t2", "t3", "t4"]);
  });
});
