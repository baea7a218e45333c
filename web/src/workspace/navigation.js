// The signed-in pages, their paths, and who may see which.
export const PATHS = {
    inbox: "/inbox",
    allocations: "/allocations",
    team: "/team",
};
export function isAdmin(session) {
    return session.roles.includes("hr-admin");
}
export function isManager(session) {
    return session.roles.includes("manager") && session.manages !== null;
}
export function roleLabel(session) {
    if (isAdmin(session))
        return "HR admin";
    return isManager(session) ? `Manager, ${session.manages}` : "Employee";
}
// A path the person may not see falls back to their home page.
export function viewFor(path, session) {
    if (path === PATHS.allocations && isAdmin(session))
        return "allocations";
    if (path === PATHS.team && isManager(session))
        return "team";
    if (path === PATHS.inbox)
        return "inbox";
    return isAdmin(session) ? "allocations" : "inbox";
}
