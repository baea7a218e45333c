import { jsx as _jsx, jsxs as _jsxs, Fragment as _Fragment } from "react/jsx-runtime";
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
export function Workspace({ session, onSignOut }) {
    const { api, identity, manages, renewStream } = session;
    // The stream first: the others listen to it.
    const { connection, stream } = useStream(undefined, renewStream);
    const inbox = useInbox(api, identity.employeeId, stream);
    // Kept whatever page is shown, so nothing that arrived meanwhile is missing.
    const feed = useTeamFeed(stream, manages);
    const progress = useAllocationProgress(api, stream);
    const [view, go] = useView(session);
    return (_jsxs(_Fragment, { children: [_jsx("a", { className: "skip-link", href: "#main", children: "Skip to content" }), _jsx(TopBar, { session: session, view: view, onNavigate: go, unread: inbox.unread, connection: connection, onSignOut: onSignOut }), _jsx("div", { className: "announcer", "aria-live": "polite", "aria-atomic": "true", "data-testid": "announcer", children: inbox.announcement }), _jsxs("main", { id: "main", tabIndex: -1, children: [view === "allocations" && isAdmin(session) && (_jsx(AllocationConsole, { api: api, progress: progress, employeeId: identity.employeeId })), view === "inbox" && _jsx(InboxView, { inbox: inbox }), view === "team" && isManager(session) && manages !== null && (_jsx(TeamFeedView, { api: api, department: manages, feed: feed }))] })] }));
}
