import { describe, expect, it } from "vitest";

import { allocation } from "../../test/fixtures";
import { ALLOCATION_PROGRESS, ALLOCATION_STATUS } from "../stream/StreamClient";
import { newDraft, editDraft } from "./draft";
import { EMPTY_FORM, sendAtOf } from "./form";
import { applyProgress, later, progressFrom } from "./progress";
import { cancellable, notSent, STATUS_LABELS } from "./status";

describe("the lifecycle's statuses", () => {
  it("keeps a waiting allocation's status, with no counts yet", () => {
    const progress = progressFrom(allocation({ status: "pending_approval" }));
    expect(progress.status).toBe("pending_approval");
    expect(progress.matched).toBeNull();
    expect(progress.finishedAt).toBeNull();
  });

  it("moves forward from approval to the inserter's progress", () => {
    expect(later("pending_approval", "scheduled")).toBe("scheduled");
    expect(later("requested", "scheduled")).toBe("requested");
    expect(later("completed", "revoked")).toBe("revoked");
  });

  it("never leaves an end nobody was told of", () => {
    expect(later("cancelled", "scheduled")).toBe("cancelled");
    expect(later("requested", "rejected")).toBe("rejected");
  });

  it("takes a status frame's new status", () => {
    const waiting = progressFrom(allocation({ status: "pending_approval" }));
    const approved = applyProgress(waiting, ALLOCATION_STATUS, {
      allocation_id: "a1",
      status: "requested",
    });
    expect(approved.status).toBe("requested");
    const inserting = applyProgress(approved, ALLOCATION_PROGRESS, {
      allocation_id: "a1",
      phase: "inserted",
      matched: 3,
      inserted: 3,
    });
    expect(inserting.status).toBe("inserting");
  });

  it("counts an ended one as finished, so lists reload", () => {
    expect(progressFrom(allocation({ status: "cancelled" })).finishedAt).not.toBeNull();
  });

  it("offers cancel only before anyone is told", () => {
    expect(cancellable("pending_approval")).toBe(true);
    expect(cancellable("scheduled")).toBe(true);
    expect(cancellable("requested")).toBe(false);
    expect(cancellable("completed")).toBe(false);
  });

  it("knows which were never sent to the inserter", () => {
    expect(notSent("rejected")).toBe(true);
    expect(notSent("scheduled")).toBe(true);
    expect(notSent("failed")).toBe(false);
    expect(notSent("requested")).toBe(false);
  });

  it("labels every status", () => {
    expect(STATUS_LABELS.pending_approval).toBe("Awaiting approval");
    expect(STATUS_LABELS.partly_revoked).toBe("Partly revoked");
  });
});

describe("scheduling in the form", () => {
  it("sends at once when no time is given", () => {
    expect(sendAtOf(EMPTY_FORM)).toBeUndefined();
  });

  it("sends the local time as UTC", () => {
    const local = "2031-03-01T09:30";
    expect(sendAtOf({ ...EMPTY_FORM, sendAt: local })).toBe(new Date(local).toISOString());
  });

  it("makes another send time another request, with a new key", () => {
    let n = 0;
    const keys = () => `k${(n += 1)}`;
    const draft = newDraft(keys);
    const scheduled = editDraft(draft, { ...draft.form, sendAt: "2031-03-01T09:30" }, keys);
    expect(scheduled.key).not.toBe(draft.key);
  });
});
