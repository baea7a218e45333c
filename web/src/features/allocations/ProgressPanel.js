import { jsx as _jsx, jsxs as _jsxs, Fragment as _Fragment } from "react/jsx-runtime";
import { formatCount, formatMoney } from "../../format";
import { describeCriteria } from "./form";
import { hasCompleted, waitingSeconds } from "./status";
import { FailureDetail, StatusChip, WaitingNote } from "./StatusParts";
import { useNow } from "./useNow";
function Step({ label, value, done, detail, testId, }) {
    return (_jsxs("li", { className: done ? "step done" : "step", "data-testid": testId, children: [_jsx("span", { className: "step-mark", "aria-hidden": "true", children: done ? "✓" : "" }), _jsx("span", { className: "step-label", children: label }), _jsx("span", { className: "step-value", "data-testid": `${testId}-value`, children: value === null ? "…" : formatCount(value) }), _jsx("span", { className: "step-detail", children: detail })] }));
}
export function ProgressPanel({ watch }) {
    const requested = watch?.status === "requested";
    const now = useNow(15_000, requested);
    if (watch === null) {
        return (_jsxs("section", { className: "card progress-card", "aria-labelledby": "progress-title", children: [_jsx("h2", { id: "progress-title", children: "Progress" }), _jsx("p", { className: "muted", children: "Allocations you send appear here live; you can also pick one from the list below." })] }));
    }
    const { allocation, status, matched, inserted, published, delivered } = watch;
    const total = matched ?? 0;
    const share = total > 0 && published !== null ? Math.round((published / total) * 100) : 0;
    // Frames may have moved the status on since the allocation was read.
    const waiting = requested ? waitingSeconds(allocation, watch.receivedAt, now) : null;
    return (_jsxs("section", { className: "card progress-card", "aria-labelledby": "progress-title", "data-testid": "progress", "data-status": status, children: [_jsxs("div", { className: "card-head", children: [_jsx("h2", { id: "progress-title", children: allocation.voucher.name }), _jsx(StatusChip, { status: status })] }), _jsxs("p", { className: "muted", children: [formatMoney(allocation.voucher.amount, allocation.voucher.currency), " \u00B7", " ", describeCriteria(allocation.criteria)] }), _jsx(WaitingNote, { seconds: waiting, testId: "progress-waiting" }), _jsx("progress", { className: "bar", max: 100, value: hasCompleted(status) ? 100 : share, "aria-label": "Share of matched employees notified" }), _jsxs("ol", { className: "steps", "aria-live": "polite", children: [_jsx(Step, { label: "Matched", value: matched, done: matched !== null, detail: "employees meet the criteria", testId: "step-matched" }), _jsx(Step, { label: "Inserted", value: inserted, done: inserted !== null, detail: "vouchers and inbox items written", testId: "step-inserted" }), _jsx(Step, { label: "Published", value: published, done: published !== null, detail: "notifications sent", testId: "step-published" }), _jsx(Step, { label: "Delivered live", value: delivered, done: delivered > 0, detail: "to people with Herald open now; the others find it in their inbox", testId: "step-delivered" })] }), status === "failed" && (_jsxs(_Fragment, { children: [_jsxs("p", { className: "error", role: "alert", "data-testid": "progress-failure", children: ["Failed: ", watch.failureReason ?? "no reason was recorded"] }), _jsx(FailureDetail, { detail: watch.failureDetail })] })), hasCompleted(status) && allocation.timings.duration_seconds != null && (_jsxs("p", { className: "muted", children: ["Completed in ", allocation.timings.duration_seconds.toFixed(2), " s."] })), _jsxs("p", { className: "fineprint", children: ["Allocation ", _jsx("code", { children: watch.id })] })] }));
}
