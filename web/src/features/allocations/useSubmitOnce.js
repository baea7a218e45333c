// Sending the allocation so that it happens once, whatever the admin or the network does.
//
// One request at a time (a second click while one is out does nothing), always with the
// draft's key, and marked in the stored draft before it leaves: a reload that cut the
// answer off sends the same request with the same key again, and the server answers with
// the allocation it already made.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { ApiError } from "../../api";
import { recipientsChangedTo, sendAllocation, submitErrorText } from "./allocationsApi";
import { pageIsLeaving } from "./leaving";
export function useSubmitOnce(api, draft, onOutcome) {
    const { reset, clearPending, markPending, resumeAtLoad, abandonedAtLoad } = draft;
    // A request a reload interrupted goes out again at once: say so from the first render.
    const [submitting, setSubmitting] = useState(resumeAtLoad !== null);
    const [resuming, setResuming] = useState(resumeAtLoad !== null);
    // State updates land after the handler returns; the ref stops a second click before that.
    const inFlight = useRef(false);
    const resumed = useRef(false);
    // The answer comes renders later: it goes to the caller's latest callback.
    const report = useRef(onOutcome);
    useLayoutEffect(() => {
        report.current = onOutcome;
    });
    const send = useCallback((pending, again) => sendAllocation(api, pending)
        .then(({ allocation, replayed }) => {
        reset();
        return { kind: "allocated", allocation, replayed };
    }, (failure) => {
        // The key stays with the draft: sending the same content again is the same
        // request. A page being left keeps the mark too, for the next load.
        if (failure instanceof ApiError || !pageIsLeaving())
            clearPending();
        const matched = recipientsChangedTo(failure);
        return matched === null
            ? { kind: "failed", message: submitErrorText(failure) }
            : { kind: "recipients_changed", matched };
    })
        .then((outcome) => {
        inFlight.current = false;
        setSubmitting(false);
        setResuming(false);
        report.current(outcome, again);
    }), [api, reset, clearPending]);
    const submit = useCallback((request) => {
        if (inFlight.current)
            return;
        inFlight.current = true;
        setSubmitting(true);
        setResuming(false);
        void send(markPending(request), false);
    }, [send, markPending]);
    useEffect(() => {
        if (resumeAtLoad === null || resumed.current)
            return;
        resumed.current = true;
        if (inFlight.current)
            return;
        inFlight.current = true;
        void send(resumeAtLoad, true);
    }, [resumeAtLoad, send]);
    return { submitting, resuming, abandoned: abandonedAtLoad, submit };
}
