// The watched allocation's audit trail: read when it is chosen and after each status change.

import { useEffect, useState } from "react";

import { type Api, errorText } from "../../api";
import type { AuditEntry } from "../../types";
import { fetchAuditTrail } from "./allocationsApi";

export interface AuditTrailState {
  items: AuditEntry[];
  error: string | null;
}

export function useAuditTrail(api: Api, id: string, refreshKey: unknown): AuditTrailState {
  const [state, setState] = useState<AuditTrailState & { id: string | null }>({
    id: null,
    items: [],
    error: null,
  });
  useEffect(() => {
    let current = true;
    fetchAuditTrail(api, id).then(
      (trail) => {
        if (current) setState({ id, items: trail.items, error: null });
      },
      (failure: unknown) => {
        if (current) setState({ id, items: [], error: errorText(failure) });
      },
    );
    return () => {
      current = false;
    };
  }, [api, id, refreshKey]);
  // Another allocation's trail is never shown while this one's is on its way.
  return state.id === id ? state : { items: [], error: null };
}
