import { describe, expect, it } from "vitest";

import { focusAfter } from "./focus";

describe("focusAfter", () => {
  it("stays on a row that is still shown", () => {
    expect(focusAfter([3, 2, 1], [3, 2, 1], 2)).toBe(2);
  });

  it("moves to the next row when the row left the tab", () => {
    expect(focusAfter([3, 2, 1], [3, 1], 2)).toBe(1);
  });

  it("moves to the previous row when the last one left", () => {
    expect(focusAfter([3, 2, 1], [3, 2], 1)).toBe(2);
  });

  it("has nowhere to go when the tab is empty", () => {
    expect(focusAfter([1], [], 1)).toBeNull();
  });
});
