import type { AllocationStatus } from "../../types";
import { STATUS_LABELS, waitingText } from "./status";

export function StatusChip({ status }: { status: AllocationStatus }) {
  return <span className={`chip chip-${status}`}>{STATUS_LABELS[status]}</span>;
}

export function WaitingNote({ seconds, testId }: { seconds: number | null; testId: string }) {
  if (seconds === null) return null;
  return (
    <div className="waiting" data-testid={testId}>
      {waitingText(seconds)}
    </div>
  );
}

// The reason is for the admin; the technical cause is for whoever they ask for help, so it
// is there but folded away.
export function FailureDetail({ detail }: { detail: string | null | undefined }) {
  if (!detail) return null;
  return (
    <details className="failure-detail" data-testid="failure-detail">
      <summary>Technical detail</summary>
      <pre>{detail}</pre>
    </details>
  );
}
