import { type FormEvent, useCallback, useEffect, useId, useMemo, useRef, useState } from "react";

import { type Api, ApiError } from "../api";
import { formatCount, formatMoney, formatWhen, plural } from "../format";
import type {
  Allocation,
  AllocationPage,
  AllocationStatus,
  Criteria,
  Department,
  VoucherSpec,
} from "../types";
import type { Progress, Workspace } from "../useWorkspace";

const GRADES = ["G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9"];
const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "JPY", "CAD", "AUD"];
const STATUS_LABELS: Record<AllocationStatus, string> = {
  requested: "Requested",
  inserting: "Inserting",
  published: "Published",
  completed: "Completed",
  failed: "Failed",
};

function inDays(days: number): string {
  const date = new Date();
  date.setDate(date.getDate() + days);
  return date.toISOString().slice(0, 10);
}

interface Form {
  departments: string[];
  grades: string[];
  minYears: string;
  maxYears: string;
  name: string;
  amount: string;
  currency: string;
  expiresOn: string;
  codePrefix: string;
}

const INITIAL: Form = {
  departments: [],
  grades: [],
  minYears: "",
  maxYears: "",
  name: "Winter bonus",
  amount: "50.00",
  currency: "EUR",
  expiresOn: inDays(90),
  codePrefix: "WIN",
};

export function criteriaOf(form: Form): Criteria {
  const criteria: Criteria = {};
  if (form.departments.length > 0) criteria.departments = [...form.departments];
  if (form.grades.length > 0) criteria.grades = [...form.grades];
  if (form.minYears.trim() !== "") criteria.min_years_experience = Number(form.minYears);
  if (form.maxYears.trim() !== "") criteria.max_years_experience = Number(form.maxYears);
  return criteria;
}

function voucherOf(form: Form): VoucherSpec {
  const amount = Number(form.amount);
  return {
    name: form.name.trim(),
    amount: Number.isFinite(amount) ? amount.toFixed(2) : form.amount,
    currency: form.currency,
    expires_on: form.expiresOn,
    code_prefix: form.codePrefix.trim().toUpperCase(),
  };
}

export function describeCriteria(criteria: Criteria): string {
  const parts: string[] = [];
  parts.push(criteria.departments?.length ? criteria.departments.join(", ") : "All departments");
  if (criteria.grades?.length) parts.push(criteria.grades.join(" "));
  // Stored criteria name every field, with null for the ones not used.
  const low = criteria.min_years_experience ?? null;
  const high = criteria.max_years_experience ?? null;
  const years = (n: number) => (n === 1 ? "year" : "years");
  if (low !== null && high !== null) parts.push(`${low}–${high} ${years(high)}`);
  else if (low !== null) parts.push(`${low}+ years`);
  else if (high !== null) parts.push(`up to ${high} ${years(high)}`);
  return parts.join(" · ");
}

function toggle(list: string[], value: string, on: boolean): string[] {
  return on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value);
}

function StatusChip({ status }: { status: AllocationStatus }) {
  return <span className={`chip chip-${status}`}>{STATUS_LABELS[status]}</span>;
}

function usePreview(api: Api, criteria: Criteria) {
  const [matched, setMatched] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const key = JSON.stringify(criteria);
  const sequence = useRef(0);
  useEffect(() => {
    const mine = ++sequence.current;
    setPending(true);
    const timer = setTimeout(() => {
      api
        .post<{ matched: number }>("/v1/allocations:preview", { criteria: JSON.parse(key) })
        .then((answer) => {
          if (mine !== sequence.current) return;
          setMatched(answer.matched);
          setError(null);
        })
        .catch((failure: unknown) => {
          if (mine !== sequence.current) return;
          setMatched(null);
          setError(failure instanceof Error ? failure.message : String(failure));
        })
        .finally(() => {
          if (mine === sequence.current) setPending(false);
        });
    }, 300);
    return () => clearTimeout(timer);
  }, [api, key]);
  return { matched, error, pending };
}

export function ConsoleView({ api, workspace }: { api: Api; workspace: Workspace }) {
  const [form, setForm] = useState<Form>(INITIAL);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const [history, setHistory] = useState<Allocation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const ids = {
    minYears: useId(),
    maxYears: useId(),
    name: useId(),
    amount: useId(),
    currency: useId(),
    expires: useId(),
    prefix: useId(),
  };
  const criteria = useMemo(() => criteriaOf(form), [form]);
  const preview = usePreview(api, criteria);
  const { watch, watchAllocation } = workspace;

  useEffect(() => {
    api
      .get<{ items: Department[] }>("/v1/departments")
      .then((answer) => setDepartments(answer.items))
      .catch(() => setDepartments([]));
  }, [api]);

  const loadHistory = useCallback(async () => {
    try {
      const page = await api.get<AllocationPage>("/v1/allocations", { limit: 20 });
      setHistory(page.items);
      setCursor(page.next_cursor);
      setHistoryError(null);
    } catch (failure) {
      setHistoryError(failure instanceof Error ? failure.message : String(failure));
    }
  }, [api]);

  useEffect(() => {
    void loadHistory();
  }, [loadHistory, watch?.finishedAt]);

  const update = (change: Partial<Form>) => {
    setForm((current) => ({ ...current, ...change }));
    // A changed form is a different request: it needs a key of its own.
    setIdempotencyKey(crypto.randomUUID());
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitting(true);
    setSubmitError(null);
    try {
      const allocation = await api.post<Allocation>(
        "/v1/allocations",
        { voucher: voucherOf(form), criteria },
        { "Idempotency-Key": idempotencyKey },
      );
      watchAllocation(allocation);
      setIdempotencyKey(crypto.randomUUID());
      setHistory((current) => [allocation, ...current.filter((a) => a.id !== allocation.id)]);
    } catch (failure) {
      const message = failure instanceof Error ? failure.message : String(failure);
      setSubmitError(
        failure instanceof ApiError && failure.status === 429
          ? "Too many allocations in a short time; try again in a minute."
          : message,
      );
    } finally {
      setSubmitting(false);
    }
  };

  const matchedText =
    preview.matched === null ? "—" : plural(preview.matched, "employee", "employees");

  return (
    <div className="page console">
      <div className="page-head">
        <div>
          <h1>Allocations</h1>
          <p className="muted">
            Choose who receives a voucher, check how many people match, and follow the
            allocation live.
          </p>
        </div>
      </div>
      <div className="console-grid">
        <form className="card form" onSubmit={submit} aria-labelledby="new-allocation">
          <h2 id="new-allocation">New allocation</h2>
          <fieldset>
            <legend>Departments</legend>
            <p className="hint">None ticked means every department.</p>
            <div className="checks" data-testid="departments">
              {departments.map((department) => (
                <label key={department.name} className="check">
                  <input
                    type="checkbox"
                    checked={form.departments.includes(department.name)}
                    onChange={(event) =>
                      update({
                        departments: toggle(form.departments, department.name, event.target.checked),
                      })
                    }
                  />
                  {department.name}
                  <span className="muted"> ({formatCount(department.employees)})</span>
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>Grades</legend>
            <div className="checks checks-inline">
              {GRADES.map((grade) => (
                <label key={grade} className="check">
                  <input
                    type="checkbox"
                    checked={form.grades.includes(grade)}
                    onChange={(event) =>
                      update({ grades: toggle(form.grades, grade, event.target.checked) })
                    }
                  />
                  {grade}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>Years of experience</legend>
            <div className="row">
              <div className="field">
                <label htmlFor={ids.minYears}>At least</label>
                <input
                  id={ids.minYears}
                  type="number"
                  min={0}
                  max={70}
                  inputMode="numeric"
                  value={form.minYears}
                  onChange={(event) => update({ minYears: event.target.value })}
                />
              </div>
              <div className="field">
                <label htmlFor={ids.maxYears}>At most</label>
                <input
                  id={ids.maxYears}
                  type="number"
                  min={0}
                  max={70}
                  inputMode="numeric"
                  value={form.maxYears}
                  onChange={(event) => update({ maxYears: event.target.value })}
                />
              </div>
            </div>
          </fieldset>
          <fieldset>
            <legend>Voucher</legend>
            <div className="field">
              <label htmlFor={ids.name}>Name</label>
              <input
                id={ids.name}
                required
                maxLength={120}
                value={form.name}
                onChange={(event) => update({ name: event.target.value })}
              />
            </div>
            <div className="row">
              <div className="field">
                <label htmlFor={ids.amount}>Amount</label>
                <input
                  id={ids.amount}
                  type="number"
                  required
                  min="0.01"
                  step="0.01"
                  value={form.amount}
                  onChange={(event) => update({ amount: event.target.value })}
                />
              </div>
              <div className="field">
                <label htmlFor={ids.currency}>Currency</label>
                <select
                  id={ids.currency}
                  value={form.currency}
                  onChange={(event) => update({ currency: event.target.value })}
                >
                  {CURRENCIES.map((currency) => (
                    <option key={currency}>{currency}</option>
                  ))}
                </select>
              </div>
            </div>
            <div className="row">
              <div className="field">
                <label htmlFor={ids.expires}>Expires on</label>
                <input
                  id={ids.expires}
                  type="date"
                  required
                  min={inDays(1)}
                  value={form.expiresOn}
                  onChange={(event) => update({ expiresOn: event.target.value })}
                />
              </div>
              <div className="field">
                <label htmlFor={ids.prefix}>Code prefix</label>
                <input
                  id={ids.prefix}
                  required
                  pattern="[A-Za-z0-9]{2,12}"
                  title="2 to 12 letters or digits"
                  value={form.codePrefix}
                  onChange={(event) => update({ codePrefix: event.target.value.toUpperCase() })}
                />
              </div>
            </div>
          </fieldset>
          <div className="preview" aria-live="polite" data-testid="preview">
            <span className="preview-label">Matches today</span>
            <span className="preview-value" aria-busy={preview.pending}>
              {matchedText}
            </span>
          </div>
          {preview.error && (
            <p className="error" role="alert">
              {preview.error}
            </p>
          )}
          {submitError && (
            <p className="error" role="alert">
              Not allocated: {submitError}
            </p>
          )}
          <button
            type="submit"
            disabled={submitting || preview.matched === 0 || preview.error !== null}
          >
            {submitting
              ? "Allocating…"
              : preview.matched === null
                ? "Allocate"
                : `Allocate to ${matchedText}`}
          </button>
        </form>
        <ProgressPanel watch={watch} />
      </div>
      <section className="card table-card" aria-labelledby="history-title">
        <div className="card-head">
          <h2 id="history-title">Past allocations</h2>
          <button type="button" className="secondary" onClick={() => void loadHistory()}>
            Refresh
          </button>
        </div>
        {historyError && (
          <p className="error" role="alert">
            Could not load allocations: {historyError}
          </p>
        )}
        <table className="table" data-testid="history-table">
          <thead>
            <tr>
              <th scope="col">Voucher</th>
              <th scope="col">Who</th>
              <th scope="col">Status</th>
              <th scope="col" className="numeric">
                Matched
              </th>
              <th scope="col" className="numeric">
                Inserted
              </th>
              <th scope="col" className="numeric">
                Published
              </th>
              <th scope="col">Requested</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {history.map((allocation) => (
              <tr
                key={allocation.id}
                data-testid="history-row"
                data-id={allocation.id}
                className={watch?.id === allocation.id ? "selected" : undefined}
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
                  {allocation.failure_reason && (
                    <div className="failure" data-testid="failure-reason">
                      {allocation.failure_reason}
                    </div>
                  )}
                </td>
                <td className="numeric">{formatCount(allocation.counts.matched)}</td>
                <td className="numeric">{formatCount(allocation.counts.inserted)}</td>
                <td className="numeric">{formatCount(allocation.counts.published)}</td>
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
                    onClick={() => watchAllocation(allocation)}
                    aria-label={`Show progress of ${allocation.voucher.name}, requested ${formatWhen(allocation.timings.requested_at)}`}
                  >
                    Show progress
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {history.length === 0 && !historyError && (
          <p className="empty">No allocations yet. The first one you submit appears here.</p>
        )}
        {cursor !== null && (
          <button
            type="button"
            className="secondary"
            onClick={() =>
              void api
                .get<AllocationPage>("/v1/allocations", { limit: 20, cursor })
                .then((page) => {
                  setHistory((current) => [...current, ...page.items]);
                  setCursor(page.next_cursor);
                })
                .catch((failure: unknown) =>
                  setHistoryError(failure instanceof Error ? failure.message : String(failure)),
                )
            }
          >
            Show older allocations
          </button>
        )}
      </section>
    </div>
  );
}

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

function ProgressPanel({ watch }: { watch: Progress | null }) {
  if (watch === null) {
    return (
      <section className="card progress-card" aria-labelledby="progress-title">
        <h2 id="progress-title">Progress</h2>
        <p className="muted">
          Submit an allocation to follow it here live, or pick one from the list below.
        </p>
      </section>
    );
  }
  const { allocation, status, matched, inserted, published, delivered } = watch;
  const finished = status === "completed" || status === "failed";
  const total = matched ?? 0;
  const share = total > 0 && published !== null ? Math.round((published / total) * 100) : 0;
  return (
    <section
      className="card progress-card"
      aria-labelledby="progress-title"
      data-testid="progress"
      data-status={status}
    >
      <div className="card-head">
        <h2 id="progress-title">{allocation?.voucher.name ?? "Allocation"}</h2>
        <StatusChip status={status} />
      </div>
      {allocation && (
        <p className="muted">
          {formatMoney(allocation.voucher.amount, allocation.voucher.currency)} ·{" "}
          {describeCriteria(allocation.criteria)}
        </p>
      )}
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
        <p className="error" role="alert" data-testid="progress-failure">
          Failed: {watch.failureReason ?? "no reason was recorded"}
        </p>
      )}
      {finished && status === "completed" && allocation?.timings.duration_seconds != null && (
        <p className="muted">Completed in {allocation.timings.duration_seconds.toFixed(2)} s.</p>
      )}
      <p className="fineprint">
        Allocation <code>{watch.id}</code>
      </p>
    </section>
  );
}
