// An allocation's delivery figures for HR: delivered live, waiting in the inbox, read.
// They move as people open Herald and read: fetched again soon after a "delivered" frame
// (`deliveredLive`, the count the frames carry, changed) and every 10 s while shown, since
// reading sends no frame. The CSV has one row per recipient.

import { useCallback } from "react";

import type { Api } from "../../api";
import type { DeliveryFigures } from "../../types";
import { type Polled, usePolled } from "../../usePolled";
import { saveFile } from "./allocationsApi";

export const DELIVERIES_REFRESH_MS = 10_000;

export function deliveriesPath(allocationId: string): string {
  return `/v1/allocations/${encodeURIComponent(allocationId)}/deliveries`;
}

export function useDeliveries(
  api: Api,
  allocationId: string | null,
  deliveredLive: number | null = null,
): Polled<DeliveryFigures> {
  const load = useCallback(
    () => api.get<DeliveryFigures>(deliveriesPath(allocationId ?? "")),
    [api, allocationId],
  );
  return usePolled(allocationId === null ? null : load, DELIVERIES_REFRESH_MS, deliveredLive);
}

// The list behind the figures, one row per recipient, as a download.
export async function downloadDeliveries(api: Api, allocationId: string): Promise<void> {
  const path = `${deliveriesPath(allocationId)}.csv`;
  const { blob, filename } = await api.download(path, undefined, "text/csv", "GET");
  saveFile(blob, filename ?? `deliveries-${allocationId}.csv`);
}
