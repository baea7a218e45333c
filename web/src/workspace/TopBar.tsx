// The signed-in page's header: the pages, the unread count, the stream's state, who is
// signed in.

import type { MouseEvent, ReactNode } from "react";

import { Brand } from "../components/Brand";
import type { Session } from "../features/auth/session";
import type { ConnectionState } from "../features/stream/StreamClient";
import { ConnectionStatus } from "../features/stream/ConnectionStatus";
import { PATHS, type View, isAdmin, isManager, roleLabel } from "./navigation";

function NavLink({
  to,
  current,
  onNavigate,
  children,
}: {
  to: View;
  current: View;
  onNavigate: (next: View) => void;
  children: ReactNode;
}) {
  // A click with a modifier (new tab, new window) is the browser's to handle.
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onNavigate(to);
    document.getElementById("main")?.focus();
  };
  return (
    <a href={PATHS[to]} aria-current={current === to ? "page" : undefined} onClick={onClick}>
      {children}
    </a>
  );
}

export function TopBar({
  session,
  view,
  onNavigate,
  unread,
  connection,
  onSignOut,
}: {
  session: Session;
  view: View;
  onNavigate: (next: View) => void;
  unread: number;
  connection: ConnectionState;
  onSignOut: () => void;
}) {
  return (
    <header className="topbar">
      <Brand />
      <nav aria-label="Main">
        <ul>
          {isAdmin(session) && (
            <li>
              <NavLink to="allocations" current={view} onNavigate={onNavigate}>
                Allocations
              </NavLink>
            </li>
          )}
          <li>
            <NavLink to="inbox" current={view} onNavigate={onNavigate}>
              Inbox{" "}
              <span
                className={unread > 0 ? "badge" : "badge badge-zero"}
                data-testid="unread-badge"
                aria-label={`${unread} unread`}
              >
                {unread}
              </span>
            </NavLink>
          </li>
          {isManager(session) && (
            <li>
              <NavLink to="team" current={view} onNavigate={onNavigate}>
                Team feed
              </NavLink>
            </li>
          )}
        </ul>
      </nav>
      <ConnectionStatus state={connection} />
      <div className="who">
        <span className="who-name">{session.name}</span>
        <span className="who-role">
          {roleLabel(session)} · {session.department}
        </span>
      </div>
      <button type="button" className="secondary" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
