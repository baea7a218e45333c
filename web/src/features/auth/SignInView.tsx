// Dev sign-in: pick a demo person (decision 0022).

import { type FormEvent, useId, useMemo, useState } from "react";

import { errorText } from "../../api";
import { Brand } from "../../components/Brand";
import type { DemoPerson, Role } from "../../types";
import { type Session, signIn } from "./session";
import { usePeopleSearch } from "./usePeopleSearch";

const GROUPS: { role: Role; label: string }[] = [
  { role: "hr-admin", label: "HR admins" },
  { role: "manager", label: "Managers" },
  { role: "employee", label: "Employees" },
];

const roleOf = (person: DemoPerson): Role =>
  person.roles.includes("hr-admin") ? "hr-admin" : person.roles.includes("manager") ? "manager" : "employee";

const valueOf = (person: DemoPerson): string => `${person.employee_id}|${roleOf(person)}`;

export function SignInView({
  notice,
  onSignedIn,
  onExpired,
}: {
  notice: string | null;
  onSignedIn: (session: Session) => void;
  onExpired: () => void;
}) {
  const searchId = useId();
  const personId = useId();
  const [query, setQuery] = useState("");
  const { people, loading, error: searchError } = usePeopleSearch(query);
  const [chosen, setChosen] = useState("");
  const [busy, setBusy] = useState(false);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const error = submitError ?? searchError;

  const groups = useMemo(
    () =>
      GROUPS.map((group) => ({
        ...group,
        people: people.filter((person) => roleOf(person) === group.role),
      })).filter((group) => group.people.length > 0),
    [people],
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const person = people.find((p) => valueOf(p) === chosen);
    if (!person) {
      setSubmitError("Pick a person to sign in as.");
      return;
    }
    setBusy(true);
    setSubmitError(null);
    try {
      onSignedIn(await signIn({ employeeId: person.employee_id, roles: person.roles }, onExpired));
    } catch (failure) {
      setSubmitError(errorText(failure));
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <Brand large />
        <h1>Sign in</h1>
        <p className="muted">
          Development sign-in: pick a demo employee, a manager or an HR admin. Their inbox, team
          feed or allocation console opens with live updates.
        </p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={(event) => void submit(event)}>
          <label htmlFor={searchId}>Find a person</label>
          <input
            id={searchId}
            type="search"
            placeholder="Name or employee id"
            value={query}
            autoComplete="off"
            onChange={(event) => {
              setQuery(event.target.value);
              // A new search answers afresh: the last refusal no longer applies.
              setSubmitError(null);
            }}
          />
          <label htmlFor={personId}>Sign in as</label>
          <select
            id={personId}
            data-testid="person"
            size={12}
            required
            value={chosen}
            aria-busy={loading}
            onChange={(event) => setChosen(event.target.value)}
            onDoubleClick={(event) => (event.currentTarget.form as HTMLFormElement).requestSubmit()}
          >
            {groups.map((group) => (
              <optgroup key={group.role} label={group.label}>
                {group.people.map((person) => (
                  <option key={valueOf(person)} value={valueOf(person)}>
                    {person.name} — {person.department}
                    {group.role === "manager" ? " (manager)" : ""}, {person.grade}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
          {!loading && groups.length === 0 && <p className="muted">Nobody matches “{query}”.</p>}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy || chosen === ""}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </div>
    </main>
  );
}
