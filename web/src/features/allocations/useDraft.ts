// The signed-in admin's draft, kept in localStorage so a reload loses nothing.

import { useCallback, useRef, useState } from "react";

import type { AllocationRequest } from "../../types";
import type { FormFields } from "./form";
import {
  type Draft,
  type PendingSubmit,
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

export interface DraftStore {
  form: FormFields;
  idempotencyKey: string;
  // What was on its way when the page loaded (null when nothing was).
  pendingAtLoad: PendingSubmit | null;
  edit: (next: (form: FormFields) => FormFields) => void;
  // Written synchronously, so the mark is stored before the request leaves.
  markPending: (request: AllocationRequest) => PendingSubmit;
  clearPending: () => void;
  // After a success: an empty form and a new key, so the next allocation starts afresh.
  reset: () => void;
}

export function useDraft(employeeId: string): DraftStore {
  const storageKey = draftStorageKey(employeeId);
  const [draft, setDraft] = useState<Draft>(() =>
    parseDraft(browserStorage()?.getItem(storageKey) ?? null),
  );
  const [pendingAtLoad] = useState(() => draft.pending);
  // The latest draft for handlers called twice before React re-renders.
  const current = useRef(draft);

  const commit = useCallback(
    (next: Draft) => {
      current.current = next;
      try {
        browserStorage()?.setItem(storageKey, serialiseDraft(next));
      } catch {
        // Quota or privacy mode: the in-memory draft still holds one key per content.
      }
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
    pendingAtLoad,
    edit,
    markPending,
    clearPending,
    reset,
  };
}
