// The signed-in admin's draft, kept in localStorage so a reload loses nothing.

import { useCallback, useEffect, useRef, useState } from "react";

import type { AllocationRequest } from "../../types";
import type { FormFields } from "./form";
import {
  type Draft,
  type PendingSubmit,
  draftAtLoad,
  draftStorageKey,
  editDraft,
  newDraft,
  parseDraft,
  serialiseDraft,
  withPending,
} from "./draft";

type DraftStorage = Pick<Storage, "getItem" | "setItem">;

function browserStorage(): DraftStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // Storage disabled: the draft lives as long as the page.
  }
}

function save(storageKey: string, draft: Draft): void {
  try {
    browserStorage()?.setItem(storageKey, serialiseDraft(draft));
  } catch {
    // Quota or privacy mode: the in-memory draft still holds one key per content.
  }
}

export interface DraftStore {
  form: FormFields;
  idempotencyKey: string;
  // What a reload cut off moments ago, to send again at once (null when nothing was).
  resumeAtLoad: PendingSubmit | null;
  // What was on its way too long ago to send again unasked (null when nothing was).
  abandonedAtLoad: PendingSubmit | null;
  edit: (next: (form: FormFields) => FormFields) => void;
  // Written synchronously, so the mark is stored before the request leaves.
  markPending: (request: AllocationRequest) => PendingSubmit;
  clearPending: () => void;
  // After a success: an empty form and a new key, so the next allocation starts afresh.
  reset: () => void;
}

export function useDraft(employeeId: string): DraftStore {
  const storageKey = draftStorageKey(employeeId);
  const [atLoad] = useState(() =>
    draftAtLoad(parseDraft(browserStorage()?.getItem(storageKey) ?? null), new Date()),
  );
  const [draft, setDraft] = useState<Draft>(atLoad.draft);
  // The latest draft for handlers called twice before React re-renders.
  const current = useRef(draft);

  // An abandoned mark leaves storage too, so the next load does not report it again.
  useEffect(() => {
    if (atLoad.abandoned !== null) save(storageKey, atLoad.draft);
  }, [atLoad, storageKey]);

  const commit = useCallback(
    (next: Draft) => {
      current.current = next;
      save(storageKey, next);
      setDraft(next);
    },
    [storageKey],
  );

  const edit = useCallback(
    (next: (form: FormFields) => FormFields) =>
      commit(editDraft(current.current, next(current.current.form))),
    [commit],
  );

  const markPending = useCallback(
    (request: AllocationRequest) => {
      const next = withPending(current.current, request, new Date());
      commit(next);
      return next.pending as PendingSubmit;
    },
    [commit],
  );

  const clearPending = useCallback(
    () => commit({ ...current.current, pending: null }),
    [commit],
  );

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
