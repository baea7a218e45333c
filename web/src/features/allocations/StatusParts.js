import { jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
import { STATUS_LABELS, waitingText } from "./status";
export function StatusChip({ status }) {
    return _jsx("span", { className: `chip chip-${status}`, children: STATUS_LABELS[status] });
}
export function WaitingNote({ seconds, testId }) {
    if (seconds === null)
        return null;
    return (_jsx("div", { className: "waiting", "data-testid": testId, children: waitingText(seconds) }));
}
// The reason is for the admin; the technical cause is for whoever they ask for help, so it
// is there but folded away.
export function FailureDetail({ detail }) {
    if (!detail)
        return null;
    return (_jsxs("details", { className: "failure-detail", "data-testid": "failure-detail", children: [_jsx("summary", { children: "Technical detail" }), _jsx("pre", { children: detail })] }));
}
