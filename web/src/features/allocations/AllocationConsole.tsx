// The HR admin's allocations page: draft, review, send once, follow.

import { useState } from "react";

import type { Api } from "../../api";
import { formatTime, plural } from "../../format";
import { AllocationForm } from "./AllocationForm";
import { AllocationHistory } from "./AllocationHistory";
import { ProgressPanel } from "./ProgressPanel";
import { ReviewStep } from "./ReviewStep";
import type { AllocationProgress } from "./useAllocationProgress";
import { useDepartments } from "./useDepartments";
import { useDraft } from "./useDraft";
import { useHistory } from "./useHistory";
import { type SubmitOutcome, useSubmitOnce } from "./useSubmitOnce";

type Stage = "edit" | "review";

function sentText(name: string, resumed: boolean, replayed: boolean): string {
  if (resumed && replayed) return `“${name}” was received before the reload; it is allocated once.`;
  if (resumed) return `“${name}” was sent again after the reload and is on its way.`;
  // Sent before, by a click whose answer was lost (a dropped connection, say).
  if (replayed) return `Herald already had “${name}”; it is allocated once.`;
  return `“${name}” is on its way; follow it on the right.`;
}

export function AllocationConsole({
  api,
  progress,
  employeeId,
}: {
  api: Api;
  progress: AllocationProgress;
  employeeId: string;
}) {
  const draft = useDraft(employeeId);
  const departments = useDepartments(api);
  const { watch, watchAllocation } = progress;
  const history = useHistory(api, watch?.finishedAt);
  const [stage, setStage] = useState<Stage>("edit");
  // Bumped to open a fresh review: new figures, nothing ticked or typed yet.
  const [reviewRound, setReviewRound] = useState(0);
  const [reviewNotice, setReviewNotice] = useState<string | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);

  const onOutcome = (outcome: SubmitOutcome, resumed: boolean) => {
    if (outcome.kind === "allocated") {
      const { allocation, replayed } = outcome;
      watchAllocation(allocation);
      history.add(allocation);
      setStage("edit");
      setSubmitError(null);
      setSent(sentText(allocation.voucher.name, resumed, replayed));
    } else if (outcome.kind === "recipients_changed") {
      const now = plural(outcome.matched, "employee", "employees");
      setReviewNotice(
        `The rule now matches ${now}, not the number you reviewed. Check the new figures and confirm again.`,
      );
      setSubmitError(null);
      setReviewRound((n) => n + 1);
      setStage("review");
    } else {
      setSubmitError(outcome.message);
      // After a reload the review is gone; the draft is back on the form with the error.
      if (resumed) setStage("edit");
    }
  };
  const sender = useSubmitOnce(api, draft, onOutcome);

  const openReview = () => {
    setReviewNotice(null);
    setSubmitError(null);
    setSent(null);
    setReviewRound((n) => n + 1);
    setStage("review");
  };

  let left;
  if (sender.resuming) {
    left = (
      <section className="card" data-testid="resuming" aria-labelledby="resuming-title">
        <h2 id="resuming-title">Sending your allocation</h2>
        <p aria-busy="true">
          The page was reloaded while your allocation was on its way. Sending it again with the
          same key, so Herald allocates it once…
        </p>
      </section>
    );
  } else if (stage === "review") {
    left = (
      <ReviewStep
        key={reviewRound}
        api={api}
        form={draft.form}
        submitting={sender.submitting}
        notice={reviewNotice}
        error={submitError}
        onBack={() => {
          setSubmitError(null);
          setStage("edit");
        }}
        onAllocate={(request) => {
          setSubmitError(null);
          sender.submit(request);
        }}
      />
    );
  } else {
    left = (
      <AllocationForm
        api={api}
        form={draft.form}
        edit={draft.edit}
        departments={departments}
        onReview={openReview}
        notice={
          <>
            {sent && (
              <p className="success" role="status" data-testid="sent-notice">
                {sent}
              </p>
            )}
            {sender.abandoned && (
              <p className="notice" data-testid="abandoned-notice">
                This draft was being sent at {formatTime(sender.abandoned.startedAt)} when the
                page closed, and Herald's answer never arrived. Check the past allocations below;
                sending the same draft again cannot allocate it twice.
              </p>
            )}
            {submitError && (
              <p className="error" role="alert">
                Not allocated: {submitError}
              </p>
            )}
          </>
        }
      />
    );
  }

  return (
    <div className="page console">
      <div className="page-head">
        <div>
          <h1>Allocations</h1>
          <p className="muted">
            Choose who receives a voucher, review the recipients and the cost, and follow the
            allocation live.
          </p>
        </div>
      </div>
      <div className="console-grid">
        {left}
        <ProgressPanel api={api} watch={watch} />
      </div>
      <AllocationHistory
        history={history}
        watchedId={watch?.id ?? null}
        onWatch={watchAllocation}
      />
    </div>
  );
}
