// Revoking once: the form, an explicit confirmation, one request in flight at a time
// (with a key per content, so a second click has no second effect), then its outcome.

import { useCallback, useEffect, useRef, useState } from "react";

import { type Api, errorText } from "../../api";
import {
  type Revocation,
  type RevokeRequest,
  fetchRevocation,
  parseEmployeeIds,
  sendRevocation,
} from "./revokeApi";

export type Scope = "all" | "listed";

export interface Revoke {
  reason: string;
  scope: Scope;
  employeeIds: string;
  confirming: boolean;
  submitting: boolean;
  revocation: Revocation | null;
  error: string | null;
  // What the form misses before it can be confirmed; null when complete.
  missing: string | null;
  setReason: (reason: string) => void;
  setScope: (scope: Scope) => void;
  setEmployeeIds: (text: string) => void;
  confirm: () => void;
  cancel: () => void;
  revoke: () => void;
}

export function request(reason: string, scope: Scope, employeeIds: string): RevokeRequest {
  const ids = parseEmployeeIds(employeeIds);
  return scope === "all" ? { reason: reason.trim() } : { reason: reason.trim(), employee_ids: ids };
}

export function missingPart(reason: string, scope: Scope, employeeIds: string): string | null {
  if (reason.trim() === "") return "a reason";
  if (scope === "listed" && parseEmployeeIds(employeeIds).length === 0) return "employee ids";
  return null;
}

const POLL_MS = 500;

export function useRevoke(api: Api, allocationId: string): Revoke {
  const [reason, setReason] = useState("");
  const [scope, setScope] = useState<Scope>("all");
  const [employeeIds, setEmployeeIds] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [revocation, setRevocation] = useState<Revocation | null>(null);
  const [error, setError] = useState<string | null>(null);
  // State lands after the handler returns; the ref stops a second click before that.
  const inFlight = useRef(false);
  const missing = missingPart(reason, scope, employeeIds);

  const revoke = useCallback(() => {
    if (inFlight.current || missing !== null) return;
    inFlight.current = true;
    setSubmitting(true);
    setError(null);
    sendRevocation(api, allocationId, request(reason, scope, employeeIds))
      .then(
        (answer) => {
          setRevocation(answer);
          setConfirming(false);
        },
        (failure: unknown) => setError(errorText(failure)),
      )
      .finally(() => {
        inFlight.current = false;
        setSubmitting(false);
      });
  }, [api, allocationId, reason, scope, employeeIds, missing]);

  // Follow the accepted revocation until the vouchers are void.
  const pending = revocation !== null && !["completed", "failed"].includes(revocation.status);
  const revocationId = revocation?.id;
  useEffect(() => {
    if (!pending || revocationId === undefined) return;
    const timer = setInterval(() => {
      fetchRevocation(api, allocationId, revocationId).then(setRevocation, () => undefined);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [api, allocationId, revocationId, pending]);

  return {
    reason,
    scope,
    employeeIds,
    confirming,
    submitting,
    revocation,
    error,
    missing,
    setReason,
    setScope,
    setEmployeeIds,
    confirm: () => {
      if (missing === null) setConfirming(true);
    },
    cancel: () => setConfirming(false),
    revoke,
  };
}
