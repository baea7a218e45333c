// Revoking once: the form, an explicit confirmation, one request in flight at a time
// (with a key per content, so a second click has no second effect), then its outcome.
import { useCallback, useEffect, useRef, useState } from "react";
import { errorText } from "../../api";
import { fetchRevocation, parseEmployeeIds, sendRevocation, } from "./revokeApi";
export function request(reason, scope, employeeIds) {
    const ids = parseEmployeeIds(employeeIds);
    return scope === "all" ? { reason: reason.trim() } : { reason: reason.trim(), employee_ids: ids };
}
export function missingPart(reason, scope, employeeIds) {
    if (reason.trim() === "")
        return "a reason";
    if (scope === "listed" && parseEmployeeIds(employeeIds).length === 0)
        return "employee ids";
    return null;
}
const POLL_MS = 500;
export function useRevoke(api, allocationId) {
    const [reason, setReason] = useState("");
    const [scope, setScope] = useState("all");
    const [employeeIds, setEmployeeIds] = useState("");
    const [confirming, setConfirming] = useState(false);
    const [submitting, setSubmitting] = useState(false);
    const [revocation, setRevocation] = useState(null);
    const [error, setError] = useState(null);
    // State lands after the handler returns; the ref stops a second click before that.
    const inFlight = useRef(false);
    const missing = missingPart(reason, scope, employeeIds);
    const revoke = useCallback(() => {
        if (inFlight.current || missing !== null)
            return;
        inFlight.current = true;
        setSubmitting(true);
        setError(null);
        sendRevocation(api, allocationId, request(reason, scope, employeeIds))
            .then((answer) => {
            setRevocation(answer);
            setConfirming(false);
        }, (failure) => setError(errorText(failure)))
            .finally(() => {
            inFlight.current = false;
            setSubmitting(false);
        });
    }, [api, allocationId, reason, scope, employeeIds, missing]);
    // Follow the accepted revocation until the vouchers are void.
    const pending = revocation !== null && !["completed", "failed"].includes(revocation.status);
    const revocationId = revocation?.id;
    useEffect(() => {
        if (!pending || revocationId === undefined)
            return;
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
            if (missing === null)
                setConfirming(true);
        },
        cancel: () => setConfirming(false),
        revoke,
    };
}
