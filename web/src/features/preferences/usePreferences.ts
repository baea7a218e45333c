// The signed-in person's email settings (the mailer's /v1/preferences): which
// notifications also come by email. In-app delivery is always on.

import { useCallback, useEffect, useState } from "react";

import { type Api, errorText } from "../../api";
import type { Preferences } from "../../types";

export interface PreferencesState {
  email: Record<string, boolean> | null;
  error: string | null;
  // The kind being saved, if any.
  saving: string | null;
  saved: string | null;
  setEmail: (kind: string, enabled: boolean) => Promise<void>;
}

export function usePreferences(api: Api): PreferencesState {
  const [email, setEmailState] = useState<Record<string, boolean> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  useEffect(() => {
    let stale = false;
    api
      .get<Preferences>("/v1/preferences")
      .then((answer) => {
        if (!stale) setEmailState(answer.email);
      })
      .catch((failure: unknown) => {
        if (!stale) setError(errorText(failure));
      });
    return () => {
      stale = true;
    };
  }, [api]);

  const setEmail = useCallback(
    async (kind: string, enabled: boolean) => {
      setSaving(kind);
      setSaved(null);
      setError(null);
      try {
        const answer = await api.put<Preferences>(
          `/v1/preferences/email/${encodeURIComponent(kind)}`,
          { enabled },
        );
        setEmailState(answer.email);
        setSaved(kind);
      } catch (failure) {
        setError(errorText(failure));
      } finally {
        setSaving(null);
      }
    },
    [api],
  );

  return { email, error, saving, saved, setEmail };
}
