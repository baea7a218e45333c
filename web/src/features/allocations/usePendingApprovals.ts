// Allocations waiting for a second HR admin, and the two answers one can give.

import { useCallback, useEffect, useState } from "react";

import { type Api, errorText } from "../../api";
import type { Allocation, AllocationPage } from "../../types";
import { approveAllocation, rejectAllocation } from "./allocationsApi";

const PAGE = 50;
// Others request allocations too: the list is read again now and then.
const REFRESH_MS = 15_000;

export interface PendingApprovals {
  items: Allocation[];
  error: string | null;
  // The allocation an answer is on its way for: its buttons wait, so one click acts once.
  busy: string | null;
  reload: () => Promise<void>;
  approve: (id: string) => Promise<void>;
  reject: (id: string, reason: string) => Promise<void>;
}

export function usePendingApprovals(
  api: Api,
  refreshKey: unknown,
  onDecided: (allocation: Allocation) => void,
): PendingApprovals {
  const [items, setItems] = useState<Allocation[]>([]);
  // Reading the list and answering fail apart: a fresh list keeps why an answer failed.
  const [listError, setListError] = useState<string | null>(null);
  const [answerError, setAnswerError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const reload = useCallback(
    () =>
      api.get<AllocationPage>("/v1/allocations", { status: "pending_approval", limit: PAGE }).then(
        (page) => {
          setItems(page.items);
          setListError(null);
        },
        (failure: unknown) => setListError(errorText(failure)),
      ),
    [api],
  );

  useEffect(() => {
    void reload();
    const timer = setInterval(() => void reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload, refreshKey]);

  const decide = useCallback(
    async (id: string, answer: () => Promise<Allocation>) => {
      setBusy(id);
      try {
        onDecided(await answer());
        setAnswerError(null);
      } catch (failure) {
        setAnswerError(errorText(failure));
      } finally {
        setBusy(null);
        await reload();
      }
    },
    [onDecided, reload],
  );

  const approve = useCallback(
    (id: string) => decide(id, () => approveAllocation(api, id)),
    [api, decide],
  );
  const reject = useCallback(
    (id: string, reason: string) => decide(id, () => rejectAllocation(api, id, reason)),
    [api, decide],
  );

  return { items, error: answerError ?? listError, busy, reload, approve, reject };
}
