// Past allocations, newest first, reloaded when the watched one finishes and, while one
// is still waiting for a worker, now and then so its status stays true.

import { useCallback, useEffect, useState } from "react";

import { type Api, errorText } from "../../api";
import type { Allocation, AllocationPage } from "../../types";

const PAGE = 20;
const WHILE_WAITING_MS = 15_000;

export interface History {
  items: Allocation[];
  // When the items were read: the waiting ages they carry were true then.
  receivedAt: number;
  error: string | null;
  hasOlder: boolean;
  reload: () => Promise<void>;
  loadOlder: () => Promise<void>;
  add: (allocation: Allocation) => void;
}

export function useHistory(api: Api, finishedAt: number | null | undefined): History {
  const [items, setItems] = useState<Allocation[]>([]);
  const [receivedAt, setReceivedAt] = useState(() => Date.now());
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  // The state changes only in the answer's callbacks, so effects may call it.
  const reload = useCallback(
    () =>
      api.get<AllocationPage>("/v1/allocations", { limit: PAGE }).then(
        (page) => {
          setItems(page.items);
          setReceivedAt(Date.now());
          setCursor(page.next_cursor);
          setError(null);
        },
        (failure: unknown) => setError(errorText(failure)),
      ),
    [api],
  );

  // Again when the watched allocation finishes: its row changed.
  useEffect(() => {
    void reload();
  }, [reload, finishedAt]);

  const waiting = items.some((allocation) => allocation.status === "requested");
  useEffect(() => {
    if (!waiting) return undefined;
    const timer = setInterval(() => void reload(), WHILE_WAITING_MS);
    return () => clearInterval(timer);
  }, [waiting, reload]);

  const loadOlder = useCallback(async () => {
    if (cursor === null) return;
    try {
      const page = await api.get<AllocationPage>("/v1/allocations", { limit: PAGE, cursor });
      setItems((current) => [...current, ...page.items]);
      setCursor(page.next_cursor);
    } catch (failure) {
      setError(errorText(failure));
    }
  }, [api, cursor]);

  const add = useCallback((allocation: Allocation) => {
    setItems((current) => [allocation, ...current.filter((a) => a.id !== allocation.id)]);
  }, []);

  return { items, receivedAt, error, hasOlder: cursor !== null, reload, loadOlder, add };
}
