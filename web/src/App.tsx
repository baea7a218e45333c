import { useCallback, useEffect, useState } from "react";

import { AllocationConsole } from "./features/allocations/AllocationConsole";
import { type Session, savedIdentity, signIn, signOut, watchOtherTabs } from "./session";
import { ConnectionStatus } from "./views/ConnectionStatus";
import { InboxView } from "./views/InboxView";
import { SignInView } from "./views/SignInView";
import { TeamFeedView } from "./views/TeamFeedView";
import { useWorkspace } from "./useWorkspace";

type View = "inbox" | "allocations" | "team";

const PATHS: Record<View, string> = {
  inbox: "/inbox",
  allocations: "/allocations",
  team: "/team",
};

function viewFor(path: string, session: Session): View {
  const isAdmin = session.roles.includes("hr-admin");
  const isManager = session.roles.includes("manager") && session.manages !== null;
  if (path === PATHS.allocations && isAdmin) return "allocations";
  if (path === PATHS.team && isManager) return "team";
  if (path === PATHS.inbox) return "inbox";
  return isAdmin ? "allocations" : "inbox";
}

export function App() {
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
    signIn(identity, () => end("Your sign-in expired. Please sign in again."))
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

  if (restoring) {
    return (
      <main className="centered" aria-busy="true">
        <p>Signing you in…</p>
      </main>
    );
  }
  if (session === null) {
    return (
      <SignInView
        notice={notice}
        onSignedIn={(signedIn) => {
          setNotice(null);
          setSession(signedIn);
        }}
        onExpired={() => end("Your sign-in expired. Please sign in again.")}
      />
    );
  }
  return (
    <Workspace
      key={`${session.identity.employeeId}/${session.roles.join(",")}`}
      session={session}
      onSignOut={() => {
        void signOut().finally(() => end(null));
      }}
    />
  );
}

function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const workspace = useWorkspace(session);
  const [view, setView] = useState<View>(() => viewFor(window.location.pathname, session));

  useEffect(() => {
    const path = PATHS[view];
    if (window.location.pathname !== path) window.history.replaceState(null, "", path);
    const onPop = () => setView(viewFor(window.location.pathname, session));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, [view, session]);

  const go = (next: View) => (event: React.MouseEvent<HTMLAnchorElement>) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    window.history.pushState(null, "", PATHS[next]);
    setView(next);
    document.getElementById("main")?.focus();
  };

  const isAdmin = session.roles.includes("hr-admin");
  const isManager = session.roles.includes("manager") && session.manages !== null;
  const roleLabel = isAdmin ? "HR admin" : isManager ? `Manager, ${session.manages}` : "Employee";

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            H
          </span>
          Herald
        </div>
        <nav aria-label="Main">
          <ul>
            {isAdmin && (
              <li>
                <a
                  href={PATHS.allocations}
                  aria-current={view === "allocations" ? "page" : undefined}
                  onClick={go("allocations")}
                >
                  Allocations
                </a>
              </li>
            )}
            <li>
              <a
                href={PATHS.inbox}
                aria-current={view === "inbox" ? "page" : undefined}
                onClick={go("inbox")}
              >
                Inbox{" "}
                <span
                  className={workspace.unread > 0 ? "badge" : "badge badge-zero"}
                  data-testid="unread-badge"
                  aria-label={`${workspace.unread} unread`}
                >
                  {workspace.unread}
                </span>
              </a>
            </li>
            {isManager && (
              <li>
                <a
                  href={PATHS.team}
                  aria-current={view === "team" ? "page" : undefined}
                  onClick={go("team")}
                >
                  Team feed
                </a>
              </li>
            )}
          </ul>
        </nav>
        <ConnectionStatus state={workspace.connection} />
        <div className="who">
          <span className="who-name">{session.name}</span>
          <span className="who-role">
            {roleLabel} · {session.department}
          </span>
        </div>
        <button type="button" className="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div className="announcer" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {workspace.announcement}
      </div>
      <main id="main" tabIndex={-1}>
        {view === "allocations" && isAdmin && (
          <AllocationConsole
            api={session.api}
            workspace={workspace}
            employeeId={session.identity.employeeId}
          />
        )}
        {view === "inbox" && <InboxView workspace={workspace} />}
        {view === "team" && isManager && session.manages !== null && (
          <TeamFeedView api={session.api} department={session.manages} workspace={workspace} />
        )}
      </main>
    </>
  );
}
