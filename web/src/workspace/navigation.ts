// The signed-in pages, their paths, and who may see which.

import type { Session } from "../features/auth/session";

// The pages of the header, one path each.
export type View = "inbox" | "allocations" | "team" | "preferences";

export const PATHS: Record<View, string> = {
  inbox: "/inbox",
  allocations: "/allocations",
  team: "/team",
  preferences: "/preferences",
};

// A page the address names: a header page, or one allocation's part for the manager's
// team (the summary's link: /allocations/{id}/team). HR sees every department's part in
// the allocation's delivery figures instead.
export type Route = { view: View } | { view: "allocation-team"; allocationId: string };

const ALLOCATION_TEAM = /^\/allocations\/([0-9A-Za-z-]{1,64})\/team\/?$/;

export function pathOf(route: Route): string {
  return route.view === "allocation-team"
    ? `/allocations/${encodeURIComponent(route.allocationId)}/team`
    : PATHS[route.view];
}

export function isAdmin(session: Pick<Session, "roles">): boolean {
  return session.roles.includes("hr-admin");
}

export function isManager(session: Pick<Session, "roles" | "manages">): boolean {
  return session.roles.includes("manager") && session.manages !== null;
}

export function roleLabel(session: Pick<Session, "roles" | "manages">): string {
  if (isAdmin(session)) return "HR admin";
  return isManager(session) ? `Manager, ${session.manages}` : "Employee";
}

// A path the person may not see falls back to their home page.
export function viewFor(path: string, session: Pick<Session, "roles" | "manages">): View {
  if (path === PATHS.allocations && isAdmin(session)) return "allocations";
  if (path === PATHS.team && isManager(session)) return "team";
  if (path === PATHS.inbox) return "inbox";
  if (path === PATHS.preferences) return "preferences";
  return isAdmin(session) ? "allocations" : "inbox";
}

export function routeFor(path: string, session: Pick<Session, "roles" | "manages">): Route {
  const team = ALLOCATION_TEAM.exec(path);
  if (team?.[1] && isManager(session)) {
    return { view: "allocation-team", allocationId: team[1] };
  }
  return { view: viewFor(path, session) };
}
