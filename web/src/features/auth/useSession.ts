// Who is signed in in this tab: signed in again after a reload from the saved identity,
// signed out when the token expires or another tab signs in as someone else.

import { useCallback, useEffect, useState } from "react";

import { type Session, savedIdentity, signIn, signOut, watchOtherTabs } from "./session";

const EXPIRED = "Your sign-in expired. Please sign in again.";

export interface SessionState {
  session: Session | null;
  // Signing in again from the saved identity.
  restoring: boolean;
  // Why the person was signed out, or why signing in again failed.
  notice: string | null;
  signedIn: (session: Session) => void;
  expired: () => void;
  signOut: () => void;
}

export function useSession(): SessionState {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => savedIdentity() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  const end = useCallback((message: string | null) => {
    setSession(null);
    setNotice(message);
  }, []);

  useEffect(() => {
    const identity = savedIdentity();
    if (identity === null) return;
    signIn(identity, () => end(EXPIRED))
      .then(setSession)
      .catch(() => setNotice("Could not sign you in again. Please pick who you are."))
      .finally(() => setRestoring(false));
  }, [end]);

  useEffect(() => {
    if (session === null) return undefined;
    return watchOtherTabs(session.identity, () =>
      end("You signed in as someone else in another tab, so this tab was signed out."),
    );
  }, [session, end]);

  const signedIn = useCallback((next: Session) => {
    setNotice(null);
    setSession(next);
  }, []);
  const expired = useCallback(() => end(EXPIRED), [end]);
  const leave = useCallback(() => {
    void signOut().finally(() => end(null));
  }, [end]);

  return { session, restoring, notice, signedIn, expired, signOut: leave };
}
