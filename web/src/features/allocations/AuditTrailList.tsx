// An allocation's history: every step, who took it and when, as recorded in the audit
// trail (append-only, hash-chained), with the CSV export.

import { useState } from "react";

import { type Api, errorText } from "../../api";
import { formatWhen } from "../../format";
import { downloadAuditTrail } from "./allocationsApi";
import { useAuditTrail } from "./useAuditTrail";

const STEP_LABELS: Record<string, string> = {
  requested: "Requested",
  approved: "Approved",
  rejected: "Rejected",
  expired: "Expired",
  scheduled: "Scheduled",
  cancelled: "Cancelled",
  started: "Started writing",
  completed: "Completed",
  failed: "Failed",
  revoked: "Revoked",
};

export function AuditTrailList({
  api,
  id,
  refreshKey,
}: {
  api: Api;
  id: string;
  refreshKey: unknown;
}) {
  const trail = useAuditTrail(api, id, refreshKey);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  return (
    <div className="audit-trail" data-testid="audit-trail">
      <h3 className="subhead">History</h3>
      {trail.error && (
        <p className="error" role="alert">
          Could not load the history: {trail.error}
        </p>
      )}
      <ol className="audit-steps">
        {trail.items.map((entry) => (
          <li key={entry.seq} data-testid="audit-step" data-step={entry.step}>
            <span className="item-name">{STEP_LABELS[entry.step] ?? entry.step}</span>{" "}
            <span className="muted">
              by {entry.actor} ·{" "}
              <time dateTime={entry.recorded_at}>{formatWhen(entry.recorded_at)}</time>
            </span>
            {typeof entry.detail.reason === "string" && (
              <div className="item-detail">“{entry.detail.reason}”</div>
            )}
          </li>
        ))}
      </ol>
      <button
        type="button"
        className="link"
        onClick={() => {
          setDownloadError(null);
          downloadAuditTrail(api, id).catch((failure: unknown) =>
            setDownloadError(errorText(failure)),
          );
        }}
      >
        Download the history (CSV)
      </button>
      {downloadError && (
        <p className="error" role="alert">
          {downloadError}
        </p>
      )}
    </div>
  );
}
