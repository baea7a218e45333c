// The signed-in admin's draft, kept in localStorage so a reload loses nothing.
import { useCallback, useEffect, useRef, useState } from "react";
import { draftAtLoad, draftStorageKey, editDraft, newDraft, parseDraft, serialiseDraft, withPending, } from "./draft";
function browserStorage() {
    try {
        return window.localStorage;
    }
    catch {
        return null; // Storage disabled: the draft lives as long as the page.
    }
}
function save(storageKey, draft) {
    try {
        browserStorage()?.setItem(storageKey, serialiseDraft(draft));
    }
    catch {
        // Quota or privacy mode: the in-memory draft still holds one key per content.
    }
}
export function useDraft(employeeId) {
    const storageKey = draftStorageKey(employeeId);
    const [atLoad] = useState(() => draftAtLoad(parseDraft(browserStorage()?.getItem(storageKey) ?? null), new Date()));
    const [draft, setDraft] = useState(atLoad.draft);
    // The latest draft for handlers called twice before React re-renders.
    const current = useRef(draft);
    // An abandoned mark leaves storage too, so the next load does not report it again.
    useEffect(() => {
        if (atLoad.abandoned !== null)
            save(storageKey, atLoad.draft);
    }, [atLoad, storageKey]);
    const commit = useCallback((next) => {
        current.current = next;
        save(storageKey, next);
        setDraft(next);
    }, [storageKey]);
    const edit = useCallback((next) => commit(editDraft(current.current, next(current.current.form))), [commit]);
    const markPending = useCallback((request) => {
        const next = withPending(current.current, request, new Date());
        commit(next);
        return next.pending;
    }, [commit]);
    const clearPending = useCallback(() => commit({ ...current.current, pending: null }), [commit]);
    const reset = useCallback(() => commit(newDraft()), [commit]);
    return {
        form: draft.form,
        idempotencyKey: draft.key,
        resumeAtLoad: atLoad.resume,
        abandonedAtLoad: atLoad.abandoned,
        edit,
        markPending,
        clearPending,
        reset,
    };
}
