// Revoke on a completed allocation: a reason, all or listed employees, then an explicit
// confirmation. Revoked vouchers stay on record as void; each employee is told.

import type { Api } from "../../api";
import { formatCount, plural } from "../../format";
import type { Allocation } from "../../types";
import { parseEmployeeIds } from "./revokeApi";
import { useRevoke } from "./useRevoke";

export function RevokePanel({ api, allocation }: { api: Api; allocation: Allocation }) {
  const revoke = useRevoke(api, allocation.id);
  const { revocation } = revoke;
  const count =
    revoke.scope === "all"
      ? "every voucher"
      : plural(parseEmployeeIds(revoke.employeeIds).length, "voucher", "vouchers");

  if (revocation !== null) {
    const done = revocation.status === "completed";
    return (
      <section className="card" aria-labelledby="revoke-title" data-testid="revoke-result">
        <h2 id="revoke-title">Revoke</h2>
        {revocation.status === "failed" ? (
          <p className="error" role="alert">
            Not revoked: {revocation.failure_reason}
          </p>
        ) : (
          <p className={done ? "success" : "notice"} role="status" data-status={revocation.status}>
            {done
              ? `Revoked ${formatCount(revocation.revoked)} ${revocation.revoked === 1 ? "voucher" : "vouchers"}; each employee was told.`
              : "Revoking… the vouchers are being voided and the employees told."}
          </p>
        )}
      </section>
    );
  }

  return (
    <section className="card" aria-labelledby="revoke-title" data-testid="revoke">
      <h2 id="revoke-title">Revoke</h2>
      <p className="muted">
        Void vouchers of “{allocation.voucher.name}”. They stay on record as revoked, their codes
        are never issued again, and each employee gets a notice with your reason.
      </p>
      <label className="field">
        <span>Reason (shown to the employees)</span>
        <textarea
          value={revoke.reason}
          maxLength={1000}
          disabled={revoke.confirming}
          onChange={(event) => revoke.setReason(event.target.value)}
        />
      </label>
      <fieldset className="field" disabled={revoke.confirming}>
        <legend>Whose vouchers</legend>
        <label className="check">
          <input
            type="radio"
            name={`revoke-scope-${allocation.id}`}
            checked={revoke.scope === "all"}
            onChange={() => revoke.setScope("all")}
          />{" "}
          Every recipient
        </label>
        <label className="check">
          <input
            type="radio"
            name={`revoke-scope-${allocation.id}`}
            checked={revoke.scope === "listed"}
            onChange={() => revoke.setScope("listed")}
          />{" "}
          Only these employees
        </label>
        {revoke.scope === "listed" && (
          <label className="field">
            <span>Employee ids (separated by commas or new lines)</span>
            <textarea
              value={revoke.employeeIds}
              onChange={(event) => revoke.setEmployeeIds(event.target.value)}
            />
          </label>
        )}
      </fieldset>
      {revoke.error && (
        <p className="error" role="alert">
          Not revoked: {revoke.error}
        </p>
      )}
      {revoke.confirming ? (
        <div className="notice" role="alertdialog" aria-labelledby="revoke-confirm">
          <p id="revoke-confirm">
            Revoke {count} of “{allocation.voucher.name}”? The employees are told at once; this
            cannot be undone.
          </p>
          <button
            type="button"
            className="danger"
            disabled={revoke.submitting}
            onClick={revoke.revoke}
          >
            {revoke.submitting ? "Revoking…" : `Yes, revoke ${count}`}
          </button>{" "}
          <button type="button" className="secondary" onClick={revoke.cancel}>
            Cancel
          </button>
        </div>
      ) : (
        <button
          type="button"
          className="secondary"
          disabled={revoke.missing !== null}
          title={revoke.missing === null ? undefined : `Give ${revoke.missing} first`}
          onClick={revoke.confirm}
        >
          Revoke…
        </button>
      )}
    </section>
  );
}
