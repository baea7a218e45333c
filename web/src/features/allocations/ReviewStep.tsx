import { useId, useState } from "react";

import { type Api, errorText } from "../../api";
import { TableHead } from "../../components/TableHead";
import { formatCount, formatDay, formatMoney, formatWhen, plural } from "../../format";
import type { AllocationPreview, AllocationRequest } from "../../types";
import { downloadRecipients } from "./allocationsApi";
import { canAllocate, needsTypedCount } from "./confirmation";
import { type FormFields, criteriaOf, describeCriteria, sendAtOf, voucherOf } from "./form";
import { usePreview } from "./usePreview";

export function ReviewStep({
  api,
  form,
  submitting,
  notice,
  error,
  onBack,
  onAllocate,
}: {
  api: Api;
  form: FormFields;
  submitting: boolean;
  notice: string | null;
  error: string | null;
  onBack: () => void;
  onAllocate: (request: AllocationRequest) => void;
}) {
  // What is reviewed is what was asked when the step opened, whatever the draft does next.
  const [{ criteria, voucher, sendAt }] = useState(() => ({
    criteria: criteriaOf(form),
    voucher: voucherOf(form),
    sendAt: sendAtOf(form),
  }));
  const { preview, error: previewError, loading, reload } = usePreview(api, criteria, voucher);
  const [reviewed, setReviewed] = useState(false);
  const [typed, setTyped] = useState("");
  const [download, setDownload] = useState<{ busy: boolean; error: string | null }>({
    busy: false,
    error: null,
  });
  const ids = { typed: useId(), typedHint: useId() };

  const save = () => {
    setDownload({ busy: true, error: null });
    downloadRecipients(api, criteria)
      .then(() => setDownload({ busy: false, error: null }))
      .catch((failure: unknown) => setDownload({ busy: false, error: errorText(failure) }));
  };

  const ready = preview !== null && canAllocate(preview, { reviewed, typed });

  return (
    <section className="card review" data-testid="review" aria-labelledby="review-title">
      <h2 id="review-title">Review the allocation</h2>
      {notice && (
        <p className="notice" role="status" data-testid="review-notice">
          {notice}
        </p>
      )}
      <dl className="summary">
        <dt>Voucher</dt>
        <dd>
          {voucher.name} · {formatMoney(voucher.amount, voucher.currency)} each · code{" "}
          {voucher.code_prefix}-… · expires {formatDay(voucher.expires_on)}
        </dd>
        <dt>Who</dt>
        <dd data-testid="review-audience">{describeCriteria(criteria)}</dd>
        <dt>When</dt>
        <dd data-testid="review-when">{sendAt ? formatWhen(sendAt) : "As soon as it is allocated"}</dd>
      </dl>
      {sendAt && (
        <p className="notice" data-testid="review-scheduled">
          Scheduled for {formatWhen(sendAt)}. The rule is evaluated when the allocation is sent:
          whoever matches then receives the voucher. The figures below are today&apos;s.
        </p>
      )}
      {preview?.approval_required && (
        <p className="notice" data-testid="review-approval">
          A second HR admin must approve this allocation before anything is sent or anyone is
          told: {preview.approval_reason}
        </p>
      )}
      {loading && (
        <p className="muted" aria-busy="true">
          Counting the recipients…
        </p>
      )}
      {previewError && (
        <div className="error" role="alert">
          Could not review: {previewError}{" "}
          <button type="button" className="link" onClick={reload}>
            Try again
          </button>
        </div>
      )}
      {preview && (
        <Figures preview={preview} onDownload={save} downloading={download.busy} />
      )}
      {download.error && (
        <p className="error" role="alert">
          Could not download the list: {download.error}
        </p>
      )}
      {preview && preview.matched > 0 && (
        <div className="confirm">
          <label className="check">
            <input
              type="checkbox"
              checked={reviewed}
              disabled={submitting}
              onChange={(event) => setReviewed(event.target.checked)}
            />
            I have reviewed the recipients and the amount
          </label>
          {needsTypedCount(preview) && (
            <div className="field">
              <label htmlFor={ids.typed}>Type the number of recipients to confirm</label>
              <input
                id={ids.typed}
                inputMode="numeric"
                autoComplete="off"
                spellCheck={false}
                aria-describedby={ids.typedHint}
                value={typed}
                disabled={submitting}
                onChange={(event) => setTyped(event.target.value)}
              />
              <p className="hint" id={ids.typedHint}>
                {criteria.all_employees
                  ? "This allocation reaches every employee"
                  : `This allocation reaches more than ${formatCount(preview.typed_confirmation_above)} people`}
                : type {formatCount(preview.matched)} to confirm.
              </p>
            </div>
          )}
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          Not allocated: {error}
        </p>
      )}
      <div className="review-actions">
        <button type="button" className="secondary" onClick={onBack} disabled={submitting}>
          Back to edit
        </button>
        <button
          type="button"
          disabled={!ready || submitting}
          onClick={() => {
            if (preview !== null && ready) {
              onAllocate({
                voucher,
                criteria,
                confirmed_recipients: preview.matched,
                ...(sendAt ? { send_at: sendAt } : {}),
              });
            }
          }}
        >
          {submitting
            ? "Allocating…"
            : preview === null
              ? "Allocate"
              : allocateLabel(preview, sendAt)}
        </button>
      </div>
    </section>
  );
}

function Figures({
  preview,
  onDownload,
  downloading,
}: {
  preview: AllocationPreview;
  onDownload: () => void;
  downloading: boolean;
}) {
  if (preview.matched === 0) {
    return (
      <p className="notice" data-testid="review-empty">
        No employee matches this rule today: there is nobody to allocate to.
      </p>
    );
  }
  const rest = preview.matched - preview.sample.length;
  return (
    <>
      <div className="figures">
        <div className="figure">
          <span className="figure-label">Recipients</span>
          <span className="figure-value" data-testid="review-count">
            {formatCount(preview.matched)}
          </span>
        </div>
        <div className="figure">
          <span className="figure-label">Total cost</span>
          <span className="figure-value" data-testid="review-total">
            {preview.total_cost.map((cost) => formatMoney(cost.amount, cost.currency)).join(" + ") ||
              "—"}
          </span>
        </div>
      </div>
      <table className="table compact" data-testid="review-departments">
        <caption className="visually-hidden">Recipients per department</caption>
        <TableHead
          columns={[
            { label: "Department" },
            { label: "Recipients", numeric: true },
          ]}
        />
        <tbody>
          {preview.by_department.map((row) => (
            <tr key={row.department} data-testid="review-department">
              <td>{row.department}</td>
              <td className="numeric">{formatCount(row.count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div>
        <h3 className="subhead">Some of the recipients</h3>
        <ul className="sample" data-testid="review-sample">
          {preview.sample.map((person) => (
            <li key={person.employee_id}>
              {person.name} <span className="muted">· {person.department}</span>
            </li>
          ))}
        </ul>
        {rest > 0 && <p className="muted">and {plural(rest, "other", "others")}.</p>}
      </div>
      <div>
        <button type="button" className="secondary" onClick={onDownload} disabled={downloading}>
          {downloading ? "Downloading…" : "Download the full list (CSV)"}
        </button>
      </div>
    </>
  );
}

function allocateLabel(preview: AllocationPreview, sendAt: string | undefined): string {
  const who = plural(preview.matched, "employee", "employees");
  if (preview.approval_required) return `Request approval for ${who}`;
  if (sendAt) return `Schedule for ${who}`;
  return `Allocate to ${who}`;
}
