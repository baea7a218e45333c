import { jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
const LABELS = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    "caught-up": "Caught up",
    closed: "Offline",
};
const HINTS = {
    connecting: "Opening the live connection",
    live: "New items appear as they arrive",
    reconnecting: "Connection lost; retrying. Nothing will be missed.",
    "caught-up": "Reconnected; everything you missed is shown",
    closed: "Not connected",
};
export function ConnectionStatus({ state }) {
    return (_jsxs("div", { className: `connection connection-${state}`, role: "status", "data-testid": "connection-state", "data-state": state, title: HINTS[state], children: [_jsx("span", { className: "dot", "aria-hidden": "true" }), LABELS[state]] }));
}
