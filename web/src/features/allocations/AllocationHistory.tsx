import { TableHead } from "../../components/TableHead";
import { formatCount, formatMoney, formatWhen } from "../../format";
import type { Allocation } from "../../types";
import { describeCriteria } from "./form";
import { cancellable, notSent, waitingSeconds } from "./status";
import { FailureDetail, StatusChip, WaitingNote } from "./StatusParts";
import type { History } from "./useHistory";
import { useNow } from "../../useNow";

export function AllocationHistory({
  history,
  watchedId,
  onWatch,
  onCancel,
  cancelling,
}: {
  history: History;
  watchedId: string | null;
  onWatch: (allocation: Allocation) => void;
  onCancel: (allocation: Allocation) => void;
  // The allocation a cancel is on its way for.
  cancelling: string | null;
}) {
  const anyWaiting = history.items.some((a) => a.waiting_for_worker && a.status === "requested");
  const now = useNow(15_000, anyWaiting);
  return (
    <section className="card table-card" aria-labelledby="history-title">
      <div className="card-head">
        <h2 id="history-title">Past allocations</h2>
        <button type="button" className="secondary" onClick={() => void history.reload()}>
          Refresh
        </button>
      </div>
      {history.error && (
        <p className="error" role="alert">
          Could not load allocations: {history.error}
        </p>
      )}
      <table className="table cards" data-testid="history-table">
        <TableHead
          columns={[
            { label: "Voucher" },
            { label: "Who" },
            { label: "Status" },
            { label: "Matched", numeric: true },
            { label: "Inserted", numeric: true },
            { label: "Published", numeric: true },
            { label: "Requested" },
            { label: "Actions", hidden: true },
          ]}
        />
        <tbody>
          {history.items.map((allocation) => (
            <tr
              key={allocation.id}
              data-testid="history-row"
              data-id={allocation.id}
              className={watchedId === allocation.id ? "selected" : undefined}
            >
              <td>
                <div className="item-name">{allocation.voucher.name}</div>
                <div className="item-detail">
                  {formatMoney(allocation.voucher.amount, allocation.voucher.currency)} ·{" "}
                  {allocation.voucher.code_prefix}
                </div>
              </td>
              <td>{describeCriteria(allocation.criteria)}</td>
              <td>
                <StatusChip status={allocation.status} />
                {allocation.status === "scheduled" && allocation.send_at && (
                  <div className="item-detail" data-testid="history-send-at">
                    for {formatWhen(allocation.send_at)}
                  </div>
                )}
                <WaitingNote
                  seconds={waitingSeconds(allocation, history.receivedAt, now)}
                  testId="history-waiting"
                />
                {allocation.failure_reason && (
                  <div className="failure" data-testid="failure-reason">
                    {allocation.failure_reason}
                  </div>
                )}
                {allocation.status === "failed" && (
                  <FailureDetail detail={allocation.failure_detail} />
                )}
              </td>
              <td className="numeric" data-label="Matched">
                {counted(allocation, allocation.counts.matched)}
              </td>
              <td className="numeric" data-label="Inserted">
                {counted(allocation, allocation.counts.inserted)}
              </td>
              <td className="numeric" data-label="Published">
                {counted(allocation, allocation.counts.published)}
              </td>
              <td>
                <time dateTime={allocation.timings.requested_at}>
                  {formatWhen(allocation.timings.requested_at)}
                </time>
                {allocation.timings.duration_seconds !== null && (
                  <div className="item-detail">
                    in {allocation.timings.duration_seconds.toFixed(2)} s
                  </div>
                )}
              </td>
              <td className="actions">
                <button
                  type="button"
                  className="link"
                  onClick={() => onWatch(allocation)}
                  aria-label={`Show progress of ${allocation.voucher.name}, requested ${formatWhen(allocation.timings.requested_at)}`}
                >
                  Show progress
                </button>
                {cancellable(allocation.status) && (
                  <button
                    type="button"
                    className="link danger"
                    disabled={cancelling === allocation.id}
                    onClick={() => onCancel(allocation)}
                    aria-label={`Cancel ${allocation.voucher.name}, requested ${formatWhen(allocation.timings.requested_at)}`}
                  >
                    {cancelling === allocation.id ? "Cancelling…" : "Cancel"}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {history.items.length === 0 && !history.error && (
        <p className="empty">No allocations yet. The first one you send appears here.</p>
      )}
      {history.hasOlder && (
        <button type="button" className="secondary" onClick={() => void history.loadOlder()}>
          Show older allocations
        </button>
      )}
    </section>
  );
}

// Before the inserter has it (waiting, or stopped before), there are no figures yet.
function counted(allocation: Allocation, value: number): string {
  return notSent(allocation.status) ? "—" : formatCount(value);
}
