// The signed-in page's header: the pages, the unread count, the stream's state, who is
// signed in. On a phone the pages and the person fold behind a menu button.

import { type MouseEvent, type ReactNode, useState } from "react";

import { Brand } from "../components/Brand";
import type { Session } from "../features/auth/session";
import type { ConnectionState } from "../features/stream/StreamClient";
import { ConnectionStatus } from "../features/stream/ConnectionStatus";
import { PATHS, type Route, type View, isAdmin, isManager, roleLabel } from "./navigation";

function NavLink({
  to,
  current,
  onNavigate,
  children,
}: {
  to: View;
  current: Route;
  onNavigate: (next: Route) => void;
  children: ReactNode;
}) {
  // A click with a modifier (new tab, new window) is the browser's to handle.
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onNavigate({ view: to });
    document.getElementById("main")?.focus();
  };
  return (
    <a href={PATHS[to]} aria-current={current.view === to ? "page" : undefined} onClick={onClick}>
      {children}
    </a>
  );
}

export function TopBar({
  session,
  route,
  onNavigate,
  unread,
  connection,
  onSignOut,
}: {
  session: Session;
  route: Route;
  onNavigate: (next: Route) => void;
  unread: number;
  connection: ConnectionState;
  onSignOut: () => void;
}) {
  const [open, setOpen] = useState(false);
  const navigate = (next: Route) => {
    setOpen(false);
    onNavigate(next);
  };
  return (
    <header className={open ? "topbar open" : "topbar"}>
      <Brand />
      <ConnectionStatus state={connection} />
      <button
        type="button"
        className="secondary menu-button"
        aria-expanded={open}
        aria-controls="topbar-panel"
        onClick={() => setOpen((was) => !was)}
      >
        Menu
        {unread > 0 && (
          <span className="badge" aria-label={`, ${unread} unread`}>
            {unread}
          </span>
        )}
      </button>
      <div className="topbar-panel" id="topbar-panel">
        <nav aria-label="Main">
          <ul>
            {isAdmin(session) && (
              <li>
                <NavLink to="allocations" current={route} onNavigate={navigate}>
                  Allocations
                </NavLink>
              </li>
            )}
            <li>
              <NavLink to="inbox" current={route} onNavigate={navigate}>
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
                <NavLink to="team" current={route} onNavigate={navigate}>
                  Team feed
                </NavLink>
              </li>
            )}
            <li>
              <NavLink to="preferences" current={route} onNavigate={navigate}>
                Email settings
              </NavLink>
            </li>
          </ul>
        </nav>
        <div className="who">
          <span className="who-name">{session.name}</span>
          <span className="who-role">
            {roleLabel(session)} · {session.department}
          </span>
        </div>
        <button type="button" className="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
