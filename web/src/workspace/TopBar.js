import { jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
import { Brand } from "../components/Brand";
import { ConnectionStatus } from "../features/stream/ConnectionStatus";
import { PATHS, isAdmin, isManager, roleLabel } from "./navigation";
function NavLink({ to, current, onNavigate, children, }) {
    // A click with a modifier (new tab, new window) is the browser's to handle.
    const onClick = (event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0)
            return;
        event.preventDefault();
        onNavigate(to);
        document.getElementById("main")?.focus();
    };
    return (_jsx("a", { href: PATHS[to], "aria-current": current === to ? "page" : undefined, onClick: onClick, children: children }));
}
export function TopBar({ session, view, onNavigate, unread, connection, onSignOut, }) {
    return (_jsxs("header", { className: "topbar", children: [_jsx(Brand, {}), _jsx("nav", { "aria-label": "Main", children: _jsxs("ul", { children: [isAdmin(session) && (_jsx("li", { children: _jsx(NavLink, { to: "allocations", current: view, onNavigate: onNavigate, children: "Allocations" }) })), _jsx("li", { children: _jsxs(NavLink, { to: "inbox", current: view, onNavigate: onNavigate, children: ["Inbox", " ", _jsx("span", { className: unread > 0 ? "badge" : "badge badge-zero", "data-testid": "unread-badge", "aria-label": `${unread} unread`, children: unread })] }) }), isManager(session) && (_jsx("li", { children: _jsx(NavLink, { to: "team", current: view, onNavigate: onNavigate, children: "Team feed" }) }))] }) }), _jsx(ConnectionStatus, { state: connection }), _jsxs("div", { className: "who", children: [_jsx("span", { className: "who-name", children: session.name }), _jsxs("span", { className: "who-role", children: [roleLabel(session), " \u00B7 ", session.department] })] }), _jsx("button", { type: "button", className: "secondary", onClick: onSignOut, children: "Sign out" })] }));
}
