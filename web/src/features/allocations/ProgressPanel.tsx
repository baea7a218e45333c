import type { Api } from "../../api";
import { formatCount, formatMoney, formatWhen } from "../../format";
import { AuditTrailList } from "./AuditTrailList";
import { DeliveryFigures } from "./DeliveryFigures";
import { describeCriteria } from "./form";
import { type Progress, chunksLine, historyKey } from "./progress";
import { hasCompleted, waitingSeconds } from "./status";
import { FailureDetail, StatusChip, WaitingNote } from "./StatusParts";
import { useNow } from "../../useNow";

function Step({
  label,
  value,
  done,
  detail,
  testId,
}: {
  label: string;
  value: number | null;
  done: boolean;
  detail: string;
  testId: string;
}) {
  return (
    <li className={done ? "step done" : "step"} data-testid={testId}>
      <span className="step-mark" aria-hidden="true">
        {done ? "✓" : ""}
      </span>
      <span className="step-label">{label}</span>
      <span className="step-value" data-testid={`${testId}-value`}>
        {value === null ? "…" : formatCount(value)}
      </span>
      <span className="step-detail">{detail}</span>
    </li>
  );
}

export function ProgressPanel({ api, watch }: { api: Api; watch: Progress | null }) {
  const requested = watch?.status === "requested";
  const now = useNow(15_000, requested);
  if (watch === null) {
    return (
      <section className="card progress-card" aria-labelledby="progress-title">
        <h2 id="progress-title">Progress</h2>
        <p className="muted">
          Allocations you send appear here live; you can also pick one from the list below.
        </p>
      </section>
    );
  }
  const { allocation, status, matched, inserted, published, delivered } = watch;
  const total = matched ?? 0;
  const share = total > 0 && published !== null ? Math.round((published / total) * 100) : 0;
  // Frames may have moved the status on since the allocation was read.
  const waiting = requested ? waitingSeconds(allocation, watch.receivedAt, now) : null;
  return (
    <section
      className="card progress-card"
      aria-labelledby="progress-title"
      data-testid="progress"
      data-status={status}
    >
      <div className="card-head">
        <h2 id="progress-title">{allocation.voucher.name}</h2>
        <StatusChip status={status} />
      </div>
      <p className="muted">
        {formatMoney(allocation.voucher.amount, allocation.voucher.currency)} ·{" "}
        {describeCriteria(allocation.criteria)}
      </p>
      <WaitingNote seconds={waiting} testId="progress-waiting" />
      <LifecycleNote watch={watch} />
      <ChunksNote watch={watch} />
      <progress
        className="bar"
        max={100}
        value={hasCompleted(status) ? 100 : share}
        aria-label="Share of matched employees notified"
      />
      <ol className="steps" aria-live="polite">
        <Step
          label="Matched"
          value={matched}
          done={matched !== null}
          detail="employees meet the criteria"
          testId="step-matched"
        />
        <Step
          label="Inserted"
          value={inserted}
          done={inserted !== null}
          detail="vouchers and inbox items written"
          testId="step-inserted"
        />
        <Step
          label="Published"
          value={published}
          done={published !== null}
          detail="notifications sent"
          testId="step-published"
        />
        <Step
          label="Delivered live"
          value={delivered}
          done={delivered > 0}
          detail="to people with Herald open now; the others find it in their inbox"
          testId="step-delivered"
        />
      </ol>
      {status === "failed" && (
        <>
          <p className="error" role="alert" data-testid="progress-failure">
            Failed: {watch.failureReason ?? "no reason was recorded"}
          </p>
          <FailureDetail detail={watch.failureDetail} />
        </>
      )}
      {hasCompleted(status) && allocation.timings.duration_seconds != null && (
        <p className="muted">Completed in {allocation.timings.duration_seconds.toFixed(2)} s.</p>
      )}
      {(status === "published" || hasCompleted(status)) && (
        <DeliveryFigures
          key={watch.id}
          api={api}
          allocationId={watch.id}
          deliveredLive={delivered}
        />
      )}
      <AuditTrailList api={api} id={watch.id} refreshKey={historyKey(watch)} />
      <p className="fineprint">
        Allocation <code>{watch.id}</code>
      </p>
    </section>
  );
}

// A large allocation is delivered chunk by chunk: how many have gone out.
function ChunksNote({ watch }: { watch: Progress }) {
  const text = chunksLine(watch.status, watch.chunks);
  if (text === null) return null;
  return (
    <p className="muted" data-testid="progress-chunks">
      {text}
    </p>
  );
}

// Before the inserter has it: what it waits for, or why it ended without anyone told.
function LifecycleNote({ watch }: { watch: Progress }) {
  const { allocation, status } = watch;
  const sendAt = allocation.send_at;
  let text: string | null = null;
  if (status === "pending_approval") {
    text = "Waiting for a second HR admin's approval: nothing is written and nobody is told until then.";
    if (allocation.approval.expires_at) {
      text += ` Unapproved, it expires ${formatWhen(allocation.approval.expires_at)}.`;
    }
  } else if (status === "scheduled" && sendAt) {
    text = `Scheduled for ${formatWhen(sendAt)}. The rule is evaluated when it is sent: whoever matches then receives the voucher.`;
  } else if (status === "rejected") {
    text = `Rejected by ${allocation.approval.decided_by ?? "an HR admin"}${
      allocation.approval.reason ? `: ${allocation.approval.reason}` : ""
    }. Nobody was told.`;
  } else if (status === "cancelled") {
    text = `Cancelled by ${allocation.cancelled_by ?? "an HR admin"}. Nobody was told.`;
  } else if (status === "expired") {
    text = "Nobody approved it in time, so it expired. Nobody was told.";
  }
  if (text === null) return null;
  return (
    <p className="notice" data-testid="lifecycle-note">
      {text}
    </p>
  );
}
