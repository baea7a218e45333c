// Who is signed in in this tab: signed in again after a reload from the saved identity,
// signed out when the token expires or another tab signs in as someone else.
import { useCallback, useEffect, useState } from "react";
import { savedIdentity, signIn, signOut, watchOtherTabs } from "./session";
const EXPIRED = "Your sign-in expired. Please sign in again.";
export function useSession() {
    const [session, setSession] = useState(null);
    const [restoring, setRestoring] = useState(() => savedIdentity() !== null);
    const [notice, setNotice] = useState(null);
    const end = useCallback((message) => {
        setSession(null);
        setNotice(message);
    }, []);
    useEffect(() => {
        const identity = savedIdentity();
        if (identity === null)
            return;
        signIn(identity, () => end(EXPIRED))
            .then(setSession)
            .catch(() => setNotice("Could not sign you in again. Please pick who you are."))
            .finally(() => setRestoring(false));
    }, [end]);
    useEffect(() => {
        if (session === null)
            return undefined;
        return watchOtherTabs(session.identity, () => end("You signed in as someone else in another tab, so this tab was signed out."));
    }, [session, end]);
    const signedIn = useCallback((next) => {
        setNotice(null);
        setSession(next);
    }, []);
    const expired = useCallback(() => end(EXPIRED), [end]);
    const leave = useCallback(() => {
        void signOut().finally(() => end(null));
    }, [end]);
    return { session, restoring, notice, signedIn, expired, signOut: leave };
}
