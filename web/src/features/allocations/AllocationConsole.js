import { jsx as _jsx, jsxs as _jsxs, Fragment as _Fragment } from "react/jsx-runtime";
// The HR admin's allocations page: draft, review, send once, follow.
import { useState } from "react";
import { formatTime, plural } from "../../format";
import { RevokePanel } from "../revoke/RevokePanel";
import { AllocationForm } from "./AllocationForm";
import { AllocationHistory } from "./AllocationHistory";
import { ProgressPanel } from "./ProgressPanel";
import { ReviewStep } from "./ReviewStep";
import { useDepartments } from "./useDepartments";
import { useDraft } from "./useDraft";
import { useHistory } from "./useHistory";
import { useSubmitOnce } from "./useSubmitOnce";
function sentText(name, resumed, replayed) {
    if (resumed && replayed)
        return `“${name}” was received before the reload; it is allocated once.`;
    if (resumed)
        return `“${name}” was sent again after the reload and is on its way.`;
    // Sent before, by a click whose answer was lost (a dropped connection, say).
    if (replayed)
        return `Herald already had “${name}”; it is allocated once.`;
    return `“${name}” is on its way; follow it on the right.`;
}
export function AllocationConsole({ api, progress, employeeId, }) {
    const draft = useDraft(employeeId);
    const departments = useDepartments(api);
    const { watch, watchAllocation } = progress;
    const history = useHistory(api, watch?.finishedAt);
    const [stage, setStage] = useState("edit");
    // Bumped to open a fresh review: new figures, nothing ticked or typed yet.
    const [reviewRound, setReviewRound] = useState(0);
    const [reviewNotice, setReviewNotice] = useState(null);
    const [submitError, setSubmitError] = useState(null);
    const [sent, setSent] = useState(null);
    const onOutcome = (outcome, resumed) => {
        if (outcome.kind === "allocated") {
            const { allocation, replayed } = outcome;
            watchAllocation(allocation);
            history.add(allocation);
            setStage("edit");
            setSubmitError(null);
            setSent(sentText(allocation.voucher.name, resumed, replayed));
        }
        else if (outcome.kind === "recipients_changed") {
            const now = plural(outcome.matched, "employee", "employees");
            setReviewNotice(`The rule now matches ${now}, not the number you reviewed. Check the new figures and confirm again.`);
            setSubmitError(null);
            setReviewRound((n) => n + 1);
            setStage("review");
        }
        else {
            setSubmitError(outcome.message);
            // After a reload the review is gone; the draft is back on the form with the error.
            if (resumed)
                setStage("edit");
        }
    };
    const sender = useSubmitOnce(api, draft, onOutcome);
    const openReview = () => {
        setReviewNotice(null);
        setSubmitError(null);
        setSent(null);
        setReviewRound((n) => n + 1);
        setStage("review");
    };
    let left;
    if (sender.resuming) {
        left = (_jsxs("section", { className: "card", "data-testid": "resuming", "aria-labelledby": "resuming-title", children: [_jsx("h2", { id: "resuming-title", children: "Sending your allocation" }), _jsx("p", { "aria-busy": "true", children: "The page was reloaded while your allocation was on its way. Sending it again with the same key, so Herald allocates it once\u2026" })] }));
    }
    else if (stage === "review") {
        left = (_jsx(ReviewStep, { api: api, form: draft.form, submitting: sender.submitting, notice: reviewNotice, error: submitError, onBack: () => {
                setSubmitError(null);
                setStage("edit");
            }, onAllocate: (request) => {
                setSubmitError(null);
                sender.submit(request);
            } }, reviewRound));
    }
    else {
        left = (_jsx(AllocationForm, { api: api, form: draft.form, edit: draft.edit, departments: departments, onReview: openReview, notice: _jsxs(_Fragment, { children: [sent && (_jsx("p", { className: "success", role: "status", "data-testid": "sent-notice", children: sent })), sender.abandoned && (_jsxs("p", { className: "notice", "data-testid": "abandoned-notice", children: ["This draft was being sent at ", formatTime(sender.abandoned.startedAt), " when the page closed, and Herald's answer never arrived. Check the past allocations below; sending the same draft again cannot allocate it twice."] })), submitError && (_jsxs("p", { className: "error", role: "alert", children: ["Not allocated: ", submitError] }))] }) }));
    }
    return (_jsxs("div", { className: "page console", children: [_jsx("div", { className: "page-head", children: _jsxs("div", { children: [_jsx("h1", { children: "Allocations" }), _jsx("p", { className: "muted", children: "Choose who receives a voucher, review the recipients and the cost, and follow the allocation live." })] }) }), _jsxs("div", { className: "console-grid", children: [left, _jsxs("div", { className: "stack", children: [_jsx(ProgressPanel, { watch: watch }), (watch?.status === "completed" || watch?.status === "partly_revoked") && (_jsx(RevokePanel, { api: api, allocation: watch.allocation }, watch.id))] })] }), _jsx(AllocationHistory, { history: history, watchedId: watch?.id ?? null, onWatch: watchAllocation })] }));
}
