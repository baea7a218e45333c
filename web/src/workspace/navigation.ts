// The signed-in pages, their paths, and who may see which.

import type { Session } from "../features/auth/session";

export type View = "inbox" | "allocations" | "team";

export const PATHS: Record<View, string> = {
  inbox: "/inbox",
  allocations: "/allocations",
  team: "/team",
};

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
  return isAdmin(session) ? "allocations" : "inbox";
}
