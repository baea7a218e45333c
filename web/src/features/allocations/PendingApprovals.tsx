// Allocations over the approval rule, waiting for a second HR admin: approve or reject.
// The requester sees their own here too, without the buttons.

import { useId, useState } from "react";

import { TableHead } from "../../components/TableHead";
import { formatMoney, formatWhen } from "../../format";
import type { Allocation } from "../../types";
import { describeCriteria } from "./form";
import type { PendingApprovals as Pending } from "./usePendingApprovals";

export function PendingApprovals({
  pending,
  employeeId,
}: {
  pending: Pending;
  employeeId: string;
}) {
  if (pending.items.length === 0 && !pending.error) return null;
  return (
    <section className="card table-card" aria-labelledby="approvals-title" data-testid="approvals">
      <div className="card-head">
        <h2 id="approvals-title">Waiting for approval</h2>
      </div>
      <p className="muted">
        Nothing is written and nobody is told until a second HR admin approves. The requester
        cannot approve their own.
      </p>
      {pending.error && (
        <p className="error" role="alert">
          {pending.error}
        </p>
      )}
      <table className="table cards" data-testid="approvals-table">
        <TableHead
          columns={[
            { label: "Voucher" },
            { label: "Who" },
            { label: "Requested by" },
            { label: "Expires" },
            { label: "Actions", hidden: true },
          ]}
        />
        <tbody>
          {pending.items.map((allocation) => (
            <Row
              key={allocation.id}
              allocation={allocation}
              own={allocation.requested_by === employeeId}
              pending={pending}
            />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Row({
  allocation,
  own,
  pending,
}: {
  allocation: Allocation;
  own: boolean;
  pending: Pending;
}) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const reasonId = useId();
  const busy = pending.busy === allocation.id;
  const name = allocation.voucher.name;
  return (
    <tr data-testid="approval-row" data-id={allocation.id}>
      <td>
        <div className="item-name">{name}</div>
        <div className="item-detail">
          {formatMoney(allocation.voucher.amount, allocation.voucher.currency)} each
          {allocation.send_at && <> · scheduled for {formatWhen(allocation.send_at)}</>}
        </div>
      </td>
      <td>{describeCriteria(allocation.criteria)}</td>
      <td>
        {allocation.requested_by ?? "another system"}
        <div className="item-detail">{formatWhen(allocation.timings.requested_at)}</div>
      </td>
      <td>{allocation.approval.expires_at ? formatWhen(allocation.approval.expires_at) : "—"}</td>
      <td className="actions">
        {own ? (
          <span className="muted" data-testid="approval-own">
            Needs another HR admin
          </span>
        ) : rejecting ? (
          <form
            className="inline-form"
            onSubmit={(event) => {
              event.preventDefault();
              if (reason.trim()) void pending.reject(allocation.id, reason.trim());
            }}
          >
            <label htmlFor={reasonId} className="visually-hidden">
              Why reject {name}
            </label>
            <input
              id={reasonId}
              placeholder="Reason"
              required
              maxLength={500}
              value={reason}
              disabled={busy}
              onChange={(event) => setReason(event.target.value)}
            />
            <button type="submit" disabled={busy || !reason.trim()}>
              Reject
            </button>
            <button type="button" className="secondary" onClick={() => setRejecting(false)}>
              Keep
            </button>
          </form>
        ) : (
          <>
            <button
              type="button"
              disabled={busy}
              onClick={() => void pending.approve(allocation.id)}
              aria-label={`Approve ${name}`}
            >
              {busy ? "Approving…" : "Approve"}
            </button>{" "}
            <button
              type="button"
              className="secondary"
              disabled={busy}
              onClick={() => setRejecting(true)}
              aria-label={`Reject ${name}`}
            >
              Reject…
            </button>
          </>
        )}
      </td>
    </tr>
  );
}
