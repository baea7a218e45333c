// What a signed-in person sees: the features, fed by one stream, under one header.

import type { Session } from "../features/auth/session";
import { AllocationConsole } from "../features/allocations/AllocationConsole";
import { useAllocationProgress } from "../features/allocations/useAllocationProgress";
import { InboxView } from "../features/inbox/InboxView";
import { useInbox } from "../features/inbox/useInbox";
import { useStream } from "../features/stream/useStream";
import { TeamFeedView } from "../features/team/TeamFeedView";
import { useTeamFeed } from "../features/team/useTeamFeed";
import { isAdmin, isManager } from "./navigation";
import { TopBar } from "./TopBar";
import { useView } from "./useView";

export function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const { api, identity, manages, renewStream } = session;
  // The stream first: the others listen to it.
  const { connection, stream } = useStream(undefined, renewStream);
  const inbox = useInbox(api, identity.employeeId, stream);
  // Kept whatever page is shown, so nothing that arrived meanwhile is missing.
  const feed = useTeamFeed(stream, manages);
  const progress = useAllocationProgress(api, stream);
  const [view, go] = useView(session);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar
        session={session}
        view={view}
        onNavigate={go}
        unread={inbox.unread}
        connection={connection}
        onSignOut={onSignOut}
      />
      <div className="announcer" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {inbox.announcement}
      </div>
      <main id="main" tabIndex={-1}>
        {view === "allocations" && isAdmin(session) && (
          <AllocationConsole api={api} progress={progress} employeeId={identity.employeeId} />
        )}
        {view === "inbox" && <InboxView inbox={inbox} />}
        {view === "team" && isManager(session) && manages !== null && (
          <TeamFeedView api={api} department={manages} feed={feed} />
        )}
      </main>
    </>
  );
}
