import type { Api } from "../../api";
import { formatCount, formatMoney } from "../../format";
import { DeliveryFigures } from "./DeliveryFigures";
import { describeCriteria } from "./form";
import type { Progress } from "./progress";
import { waitingSeconds } from "./status";
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
      <progress
        className="bar"
        max={100}
        value={status === "completed" ? 100 : share}
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
      {status === "completed" && allocation.timings.duration_seconds != null && (
        <p className="muted">Completed in {allocation.timings.duration_seconds.toFixed(2)} s.</p>
      )}
      {(status === "published" || status === "completed") && (
        <DeliveryFigures
          key={watch.id}
          api={api}
          allocationId={watch.id}
          deliveredLive={delivered}
        />
      )}
      <p className="fineprint">
        Allocation <code>{watch.id}</code>
      </p>
    </section>
  );
}
