import { jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
import { TableHead } from "../../components/TableHead";
import { formatCount, formatMoney, formatWhen } from "../../format";
import { describeCriteria } from "./form";
import { waitingSeconds } from "./status";
import { FailureDetail, StatusChip, WaitingNote } from "./StatusParts";
import { useNow } from "./useNow";
export function AllocationHistory({ history, watchedId, onWatch, }) {
    const anyWaiting = history.items.some((a) => a.waiting_for_worker && a.status === "requested");
    const now = useNow(15_000, anyWaiting);
    return (_jsxs("section", { className: "card table-card", "aria-labelledby": "history-title", children: [_jsxs("div", { className: "card-head", children: [_jsx("h2", { id: "history-title", children: "Past allocations" }), _jsx("button", { type: "button", className: "secondary", onClick: () => void history.reload(), children: "Refresh" })] }), history.error && (_jsxs("p", { className: "error", role: "alert", children: ["Could not load allocations: ", history.error] })), _jsxs("table", { className: "table", "data-testid": "history-table", children: [_jsx(TableHead, { columns: [
                            { label: "Voucher" },
                            { label: "Who" },
                            { label: "Status" },
                            { label: "Matched", numeric: true },
                            { label: "Inserted", numeric: true },
                            { label: "Published", numeric: true },
                            { label: "Requested" },
                            { label: "Actions", hidden: true },
                        ] }), _jsx("tbody", { children: history.items.map((allocation) => (_jsxs("tr", { "data-testid": "history-row", "data-id": allocation.id, className: watchedId === allocation.id ? "selected" : undefined, children: [_jsxs("td", { children: [_jsx("div", { className: "item-name", children: allocation.voucher.name }), _jsxs("div", { className: "item-detail", children: [formatMoney(allocation.voucher.amount, allocation.voucher.currency), " \u00B7", " ", allocation.voucher.code_prefix] })] }), _jsx("td", { children: describeCriteria(allocation.criteria) }), _jsxs("td", { children: [_jsx(StatusChip, { status: allocation.status }), _jsx(WaitingNote, { seconds: waitingSeconds(allocation, history.receivedAt, now), testId: "history-waiting" }), allocation.failure_reason && (_jsx("div", { className: "failure", "data-testid": "failure-reason", children: allocation.failure_reason })), allocation.status === "failed" && (_jsx(FailureDetail, { detail: allocation.failure_detail }))] }), _jsx("td", { className: "numeric", children: formatCount(allocation.counts.matched) }), _jsx("td", { className: "numeric", children: formatCount(allocation.counts.inserted) }), _jsx("td", { className: "numeric", children: formatCount(allocation.counts.published) }), _jsxs("td", { children: [_jsx("time", { dateTime: allocation.timings.requested_at, children: formatWhen(allocation.timings.requested_at) }), allocation.timings.duration_seconds !== null && (_jsxs("div", { className: "item-detail", children: ["in ", allocation.timings.duration_seconds.toFixed(2), " s"] }))] }), _jsx("td", { className: "actions", children: _jsx("button", { type: "button", className: "link", onClick: () => onWatch(allocation), "aria-label": `Show progress of ${allocation.voucher.name}, requested ${formatWhen(allocation.timings.requested_at)}`, children: "Show progress" }) })] }, allocation.id))) })] }), history.items.length === 0 && !history.error && (_jsx("p", { className: "empty", children: "No allocations yet. The first one you send appears here." })), history.hasOlder && (_jsx("button", { type: "button", className: "secondary", onClick: () => void history.loadOlder(), children: "Show older allocations" }))] }));
}
