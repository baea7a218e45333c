// The page: signing in, or the workspace of whoever is signed in.

import { SignInView } from "./features/auth/SignInView";
import { useSession } from "./features/auth/useSession";
import { Workspace } from "./workspace/Workspace";

export function App() {
  const { session, restoring, notice, signedIn, expired, signOut } = useSession();

  if (restoring) {
    return (
      <main className="centered" aria-busy="true">
        <p>Signing you in…</p>
      </main>
    );
  }
  if (session === null) {
    return <SignInView notice={notice} onSignedIn={signedIn} onExpired={expired} />;
  }
  return (
    // Another person or other roles start from nothing: no inbox or stream carries over.
    <Workspace
      key={`${session.identity.employeeId}/${session.roles.join(",")}`}
      session={session}
      onSignOut={signOut}
    />
  );
}
