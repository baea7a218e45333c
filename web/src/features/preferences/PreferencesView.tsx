// Which notifications also come by email. Every notification is in the inbox anyway.

import type { Api } from "../../api";
import { usePreferences } from "./usePreferences";

// What each email is, for people; a kind the console does not know yet shows its name.
const EMAILS: Record<string, { label: string; hint: string }> = {
  "herald.allocation.summary": {
    label: "Team summary after an allocation",
    hint: "For managers: who in your team received a voucher, with a link to your team's part.",
  },
  "herald.revocation.summary": {
    label: "Team summary after a revocation",
    hint: "For managers: whose voucher in your team was revoked, and why.",
  },
};

export function PreferencesView({ api }: { api: Api }) {
  const { email, error, saving, saved, setEmail } = usePreferences(api);
  return (
    <section aria-labelledby="preferences-title" className="page">
      <div className="page-head">
        <div>
          <h1 id="preferences-title">Email settings</h1>
          <p className="muted">
            Everything reaches your Herald inbox. Choose what also comes by email.
          </p>
        </div>
      </div>
      {error && (
        <p className="error" role="alert">
          {email === null ? `Could not load your settings: ${error}` : `Not saved: ${error}`}
        </p>
      )}
      <form className="card form" data-testid="preferences" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>Emails</legend>
          {email === null && !error && <p aria-busy="true">Loading your settings…</p>}
          {email !== null &&
            Object.entries(email).map(([kind, enabled]) => {
              const about = EMAILS[kind] ?? { label: kind, hint: "" };
              return (
                <div className="setting" key={kind}>
                  <label className="check">
                    <input
                      type="checkbox"
                      checked={enabled}
                      disabled={saving !== null}
                      aria-describedby={`hint-${kind}`}
                      onChange={(event) => void setEmail(kind, event.target.checked)}
                    />
                    {about.label}
                  </label>
                  <p className="hint setting-hint" id={`hint-${kind}`}>
                    {about.hint}
                  </p>
                </div>
              );
            })}
        </fieldset>
        <p className="muted" role="status" data-testid="preferences-status">
          {saving ? "Saving…" : saved ? "Saved." : ""}
        </p>
      </form>
    </section>
  );
}
