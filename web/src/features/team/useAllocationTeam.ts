// One allocation's part for the signed-in manager's team (the summary's link): who got
// what, delivered live or waiting in the inbox, and read. Read marks change, so it is
// refreshed while shown.

import { useCallback } from "react";

import type { Api } from "../../api";
import type { AllocationTeam } from "../../types";
import { type Polled, usePolled } from "../../usePolled";

export const TEAM_REFRESH_MS = 15_000;

export function useAllocationTeam(api: Api, allocationId: string): Polled<AllocationTeam> {
  const load = useCallback(
    () => api.get<AllocationTeam>(`/v1/allocations/${encodeURIComponent(allocationId)}/team`),
    [api, allocationId],
  );
  return usePolled(load, TEAM_REFRESH_MS);
}
