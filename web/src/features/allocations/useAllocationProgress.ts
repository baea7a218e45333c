// The allocation the admin follows: read over REST, then kept up to date by the frames of
// its stream channel, and read again after each (re)connect and when it completes.

import { useCallback, useEffect, useState } from "react";

import type { Api } from "../../api";
import type { Allocation } from "../../types";
import { ALLOCATION_COMPLETED, ALLOCATION_STATUS } from "../stream/StreamClient";
import type { StreamHub } from "../stream/StreamHub";
import {
  PROGRESS_TYPES,
  type Progress,
  type ProgressData,
  allocationChannel,
  applyProgress,
  progressFrom,
} from "./progress";

// A request no worker has picked up sends no frames; reading it now and then keeps its
// "waiting for a worker" note true and shows the moment a worker takes it.
const WHILE_REQUESTED_MS = 10_000;
// The row reads "published" from the last chunk's Kafka commit until the inserter marks it
// completed, a moment later. The completion frame goes out with that commit, so the frame
// can arrive first and the read it prompts still find "published"; and a page that began
// listening after the frame went by has only the read. Either way the row is read again
// until it says completed: its completion time and its history's last step come with it.
const WHILE_PUBLISHED_MS = 1_000;

function pollEvery(watch: Progress | null): number | null {
  if (watch === null) return null;
  if (watch.status === "requested") return WHILE_REQUESTED_MS;
  if (watch.allocation.status === "published") return WHILE_PUBLISHED_MS;
  return null;
}

export interface AllocationProgress {
  watch: Progress | null;
  watchAllocation: (allocation: Allocation) => void;
}

export function useAllocationProgress(api: Api, stream: StreamHub): AllocationProgress {
  const [watch, setWatch] = useState<Progress | null>(null);
  const id = watch?.id ?? null;

  const refresh = useCallback(
    (watched: string) =>
      api.get<Allocation>(`/v1/allocations/${watched}`).then(
        (allocation) =>
          setWatch((current) =>
            current?.id === allocation.id ? progressFrom(allocation, current) : current,
          ),
        () => {
          // Not recorded yet (the inserter records requests from other producers): the
          // progress frames fill in meanwhile.
        },
      ),
    [api],
  );

  useEffect(() => {
    if (id === null) return undefined;
    return stream.listen({
      channel: allocationChannel(id),
      onEvent: ({ type, data }) => {
        if (!PROGRESS_TYPES.has(type)) return;
        const payload = (data as { data?: ProgressData }).data ?? {};
        setWatch((current) =>
          current && current.id === payload.allocation_id
            ? applyProgress(current, type, payload)
            : current,
        );
        if (type === ALLOCATION_COMPLETED || type === ALLOCATION_STATUS) void refresh(id);
      },
      onCaughtUp: () => void refresh(id),
    });
  }, [stream, id, refresh]);

  const every = pollEvery(watch);
  useEffect(() => {
    if (every === null || id === null) return undefined;
    const timer = setInterval(() => void refresh(id), every);
    return () => clearInterval(timer);
  }, [every, id, refresh]);

  const watchAllocation = useCallback((allocation: Allocation) => {
    setWatch((current) =>
      progressFrom(allocation, current?.id === allocation.id ? current : undefined),
    );
  }, []);

  return { watch, watchAllocation };
}
