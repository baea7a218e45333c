// What a signed-in person sees: the features, fed by one stream, under one header.

import type { Session } from "../features/auth/session";
import { AllocationConsole } from "../features/allocations/AllocationConsole";
import { useAllocationProgress } from "../features/allocations/useAllocationProgress";
import { InboxView } from "../features/inbox/InboxView";
import { Toasts } from "../features/inbox/Toasts";
import { describeArrival, useInbox } from "../features/inbox/useInbox";
import { useToasts } from "../features/inbox/useToasts";
import { PreferencesView } from "../features/preferences/PreferencesView";
import { useStream } from "../features/stream/useStream";
import { AllocationTeamView } from "../features/team/AllocationTeamView";
import { TeamFeedView } from "../features/team/TeamFeedView";
import { useTeamFeed } from "../features/team/useTeamFeed";
import { isAdmin, isManager } from "./navigation";
import { TopBar } from "./TopBar";
import { useView } from "./useView";

export function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const { api, identity, manages, renewStream } = session;
  // The stream first: the others listen to it.
  const { connection, stream } = useStream(undefined, renewStream);
  const toasts = useToasts();
  const inbox = useInbox(api, identity.employeeId, stream, (item) =>
    toasts.push(describeArrival(item), item.actionUrl),
  );
  // Kept whatever page is shown, so nothing that arrived meanwhile is missing.
  const feed = useTeamFeed(stream, manages);
  const progress = useAllocationProgress(api, stream);
  const [route, go] = useView(session);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar
        session={session}
        route={route}
        onNavigate={go}
        unread={inbox.unread}
        connection={connection}
        onSignOut={onSignOut}
      />
      {/* For screen readers; the toasts show the same for a few seconds. */}
      <div
        className="visually-hidden"
        aria-live="polite"
        aria-atomic="true"
        data-testid="announcer"
      >
        {inbox.announcement}
      </div>
      <Toasts toasts={toasts} />
      <main id="main" tabIndex={-1}>
        {route.view === "allocations" && isAdmin(session) && (
          <AllocationConsole api={api} progress={progress} employeeId={identity.employeeId} />
        )}
        {route.view === "inbox" && <InboxView inbox={inbox} />}
        {route.view === "team" && isManager(session) && manages !== null && (
          <TeamFeedView api={api} department={manages} feed={feed} />
        )}
        {route.view === "preferences" && <PreferencesView api={api} />}
        {route.view === "allocation-team" && (
          <AllocationTeamView
            key={route.allocationId}
            api={api}
            allocationId={route.allocationId}
          />
        )}
      </main>
    </>
  );
}
