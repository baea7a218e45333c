// Sending the allocation so that it happens once, whatever the admin or the network does.
//
// One request at a time (a second click while one is out does nothing), always with the
// draft's key, and marked in the stored draft before it leaves: a reload that cut the
// answer off sends the same request with the same key again, and the server answers with
// the allocation it already made.

import { useCallback, useEffect, useRef, useState } from "react";

import { type Api, ApiError } from "../../api";
import type { Allocation, AllocationRequest } from "../../types";
import { recipientsChangedTo, sendAllocation, submitErrorText } from "./allocationsApi";
import { type PendingSubmit, resumable } from "./draft";
import { pageIsLeaving } from "./leaving";
import type { DraftStore } from "./useDraft";

export type SubmitOutcome =
  | { kind: "allocated"; allocation: Allocation; replayed: boolean }
  | { kind: "recipients_changed"; matched: number }
  | { kind: "failed"; message: string };

export interface SubmitOnce {
  submitting: boolean;
  // Sending again what a reload interrupted.
  resuming: boolean;
  // A request marked as on its way too long ago to send again unasked.
  abandoned: PendingSubmit | null;
  submit: (request: AllocationRequest) => void;
}

export function useSubmitOnce(
  api: Api,
  draft: DraftStore,
  onOutcome: (outcome: SubmitOutcome, resumed: boolean) => void,
): SubmitOnce {
  // A request a reload interrupted goes out again at once: say so from the first render.
  const [resumingAtLoad] = useState(
    () => draft.pendingAtLoad !== null && resumable(draft.pendingAtLoad, new Date()),
  );
  const [submitting, setSubmitting] = useState(resumingAtLoad);
  const [resuming, setResuming] = useState(resumingAtLoad);
  const [abandoned, setAbandoned] = useState<PendingSubmit | null>(null);
  // State updates land after the handler returns; the ref stops a second click before that.
  const inFlight = useRef(false);
  const looked = useRef(false);
  const report = useRef(onOutcome);
  report.current = onOutcome;
  const { reset, clearPending, markPending, pendingAtLoad } = draft;

  const send = useCallback(
    async (pending: PendingSubmit, resumed: boolean) => {
      setSubmitting(true);
      setResuming(resumed);
      let outcome: SubmitOutcome;
      try {
        const { allocation, replayed } = await sendAllocation(api, pending);
        reset();
        outcome = { kind: "allocated", allocation, replayed };
      } catch (failure) {
        // The key stays with the draft: sending the same content again is the same request.
        if (failure instanceof ApiError || !pageIsLeaving()) clearPending();
        const matched = recipientsChangedTo(failure);
        outcome =
          matched === null
            ? { kind: "failed", message: submitErrorText(failure) }
            : { kind: "recipients_changed", matched };
      } finally {
        inFlight.current = false;
        setSubmitting(false);
        setResuming(false);
      }
      report.current(outcome, resumed);
    },
    [api, reset, clearPending],
  );

  const submit = useCallback(
    (request: AllocationRequest) => {
      if (inFlight.current) return;
      inFlight.current = true;
      void send(markPending(request), false);
    },
    [send, markPending],
  );

  useEffect(() => {
    if (looked.current || pendingAtLoad === null) return;
    looked.current = true;
    if (inFlight.current) return;
    if (resumable(pendingAtLoad, new Date())) {
      inFlight.current = true;
      void send(pendingAtLoad, true);
    } else {
      clearPending();
      setAbandoned(pendingAtLoad);
    }
  }, [pendingAtLoad, send, clearPending]);

  return { submitting, resuming, abandoned, submit };
}
