import { type FormEvent, type ReactNode, useId } from "react";

import type { Api } from "../../api";
import { formatCount, plural } from "../../format";
import type { Department } from "../../types";
import {
  CURRENCIES,
  type FormFields,
  GRADES,
  NO_AUDIENCE,
  audienceOf,
  chooseEveryone,
  criteriaOf,
  toggle,
} from "./form";
import { useMatchCount } from "./useMatchCount";

function inDays(days: number): string {
  const date = new Date();
  date.setDate(date.getDate() + days);
  return date.toISOString().slice(0, 10);
}

export function AllocationForm({
  api,
  form,
  edit,
  departments,
  onReview,
  notice,
}: {
  api: Api;
  form: FormFields;
  edit: (next: (form: FormFields) => FormFields) => void;
  departments: Department[];
  onReview: () => void;
  notice?: ReactNode;
}) {
  const ids = {
    minYears: useId(),
    maxYears: useId(),
    name: useId(),
    amount: useId(),
    currency: useId(),
    expires: useId(),
    prefix: useId(),
    sendAt: useId(),
    sendAtHint: useId(),
  };
  const audience = audienceOf(form);
  const count = useMatchCount(api, audience === "none" ? null : criteriaOf(form));
  const update = (change: Partial<FormFields>) => edit((current) => ({ ...current, ...change }));

  const review = (event: FormEvent) => {
    event.preventDefault();
    if (audience !== "none") onReview();
  };

  const matchedText = count.matched === null ? "—" : plural(count.matched, "employee", "employees");

  return (
    <form className="card form" onSubmit={review} aria-labelledby="new-allocation">
      <h2 id="new-allocation">New allocation</h2>
      {notice}
      <fieldset>
        <legend>Who receives it</legend>
        <label className="check check-everyone">
          <input
            type="checkbox"
            checked={form.everyone}
            onChange={(event) => edit((current) => chooseEveryone(current, event.target.checked))}
          />
          Everyone (all employees)
        </label>
        <p className="hint">
          {form.everyone
            ? "Every employee receives it; untick to choose by department, grade or experience."
            : "Or choose by department, grade and years of experience: an employee must match all you set."}
        </p>
      </fieldset>
      <fieldset disabled={form.everyone}>
        <legend>Departments</legend>
        <div className="checks" data-testid="departments">
          {departments.map((department) => (
            <label key={department.name} className="check">
              <input
                type="checkbox"
                checked={form.departments.includes(department.name)}
                onChange={(event) =>
                  edit((current) => ({
                    ...current,
                    departments: toggle(current.departments, department.name, event.target.checked),
                  }))
                }
              />
              {department.name}
              <span className="muted"> ({formatCount(department.employees)})</span>
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset disabled={form.everyone}>
        <legend>Grades</legend>
        <div className="checks checks-inline">
          {GRADES.map((grade) => (
            <label key={grade} className="check">
              <input
                type="checkbox"
                checked={form.grades.includes(grade)}
                onChange={(event) =>
                  edit((current) => ({
                    ...current,
                    grades: toggle(current.grades, grade, event.target.checked),
                  }))
                }
              />
              {grade}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset disabled={form.everyone}>
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
        <div className="row">
          <div className="field">
            <label htmlFor={ids.sendAt}>Send at (optional)</label>
            <input
              id={ids.sendAt}
              type="datetime-local"
              data-testid="send-at"
              aria-describedby={ids.sendAtHint}
              value={form.sendAt}
              onChange={(event) => update({ sendAt: event.target.value })}
            />
            <p className="hint" id={ids.sendAtHint}>
              Empty: sent as soon as it is allocated. A scheduled allocation evaluates the rule
              when it is sent: whoever matches then receives the voucher.
            </p>
          </div>
        </div>
      </fieldset>
      <div className="preview" aria-live="polite" data-testid="preview">
        <span className="preview-label">Matches today</span>
        <span className="preview-value" aria-busy={count.pending}>
          {matchedText}
        </span>
      </div>
      {audience === "none" && (
        <p className="notice" data-testid="audience-required">
          {NO_AUDIENCE}
        </p>
      )}
      {count.error && (
        <p className="error" role="alert">
          {count.error}
        </p>
      )}
      {count.matched === 0 && !count.pending && (
        <p className="notice">No employee matches this rule today: there is nobody to allocate to.</p>
      )}
      <button
        type="submit"
        disabled={audience === "none" || count.matched === 0 || count.error !== null}
      >
        Review
      </button>
    </form>
  );
}
