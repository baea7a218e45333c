// Dev sign-in: mint a token for a demo person with the dev token helper, then trade it
// for the HttpOnly session cookie that EventSource sends to /v1/stream.
//
// The token stays in memory. What survives a reload is only who is signed in (the
// employee id and roles, in localStorage), and the page signs in again from that, as it
// would renew a token with an identity provider. A browser has one cookie per origin, so
// it has one signed-in person: a tab that signs in as someone else tells the other tabs,
// and they sign out.
import { Api, anonymous } from "../../api";
const IDENTITY_KEY = "herald.identity";
const CHANNEL = "herald.session";
export function savedIdentity() {
    try {
        const raw = localStorage.getItem(IDENTITY_KEY);
        if (!raw)
            return null;
        const parsed = JSON.parse(raw);
        if (typeof parsed.employeeId !== "string" || !Array.isArray(parsed.roles))
            return null;
        return { employeeId: parsed.employeeId, roles: parsed.roles };
    }
    catch {
        return null;
    }
}
export async function signIn(identity, onUnauthorized) {
    const token = await anonymous("POST", "/v1/dev/tokens", {
        employee_id: identity.employeeId,
        roles: identity.roles,
    });
    const api = new Api(token.token, onUnauthorized);
    const expiresAt = Date.now() + token.expires_in * 1000;
    await api.post("/v1/session");
    const previous = savedIdentity();
    localStorage.setItem(IDENTITY_KEY, JSON.stringify(identity));
    if (previous?.employeeId !== identity.employeeId || !sameRoles(previous.roles, identity.roles)) {
        announce(identity);
    }
    const [person] = (await anonymous("GET", `/v1/dev/people?q=${encodeURIComponent(identity.employeeId)}`)).people.filter((p) => p.employee_id === identity.employeeId);
    return {
        identity,
        name: person?.name ?? identity.employeeId,
        department: token.department,
        roles: token.roles,
        manages: token.manages,
        api,
        renewStream: () => renewStreamSession(api, expiresAt, onUnauthorized),
    };
}
// A stream ends when the token of its cookie expires. While the page's own token is still
// good, a new cookie from it lets the stream reconnect (and replay what it missed); once
// that token has expired too, the person signs in again.
export async function renewStreamSession(api, expiresAt, onExpired, now = Date.now) {
    if (now() >= expiresAt) {
        onExpired();
        throw new Error("the sign-in expired");
    }
    await api.post("/v1/session");
}
export async function signOut() {
    localStorage.removeItem(IDENTITY_KEY);
    announce(null);
    await fetch("/v1/session", { method: "DELETE" });
}
function sameRoles(a, b) {
    return [...a].sort().join(",") === [...b].sort().join(",");
}
function announce(identity) {
    if (typeof BroadcastChannel === "undefined")
        return;
    const channel = new BroadcastChannel(CHANNEL);
    channel.postMessage(identity);
    channel.close();
}
// Calls `onChange` when another tab of this browser signs in as someone else or out.
export function watchOtherTabs(current, onChange) {
    if (typeof BroadcastChannel === "undefined")
        return () => undefined;
    const channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event) => {
        const other = event.data;
        if (other === null ||
            other.employeeId !== current.employeeId ||
            !sameRoles(other.roles, current.roles)) {
            onChange();
        }
    };
    return () => channel.close();
}
