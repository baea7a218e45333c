import { jsx as _jsx, jsxs as _jsxs, Fragment as _Fragment } from "react/jsx-runtime";
import { useId, useState } from "react";
import { errorText } from "../../api";
import { TableHead } from "../../components/TableHead";
import { formatCount, formatDay, formatMoney, plural } from "../../format";
import { downloadRecipients } from "./allocationsApi";
import { canAllocate, needsTypedCount } from "./confirmation";
import { criteriaOf, describeCriteria, voucherOf } from "./form";
import { usePreview } from "./usePreview";
export function ReviewStep({ api, form, submitting, notice, error, onBack, onAllocate, }) {
    // What is reviewed is what was asked when the step opened, whatever the draft does next.
    const [{ criteria, voucher }] = useState(() => ({
        criteria: criteriaOf(form),
        voucher: voucherOf(form),
    }));
    const { preview, error: previewError, loading, reload } = usePreview(api, criteria, voucher);
    const [reviewed, setReviewed] = useState(false);
    const [typed, setTyped] = useState("");
    const [download, setDownload] = useState({
        busy: false,
        error: null,
    });
    const ids = { typed: useId(), typedHint: useId() };
    const save = () => {
        setDownload({ busy: true, error: null });
        downloadRecipients(api, criteria)
            .then(() => setDownload({ busy: false, error: null }))
            .catch((failure) => setDownload({ busy: false, error: errorText(failure) }));
    };
    const ready = preview !== null && canAllocate(preview, { reviewed, typed });
    return (_jsxs("section", { className: "card review", "data-testid": "review", "aria-labelledby": "review-title", children: [_jsx("h2", { id: "review-title", children: "Review the allocation" }), notice && (_jsx("p", { className: "notice", role: "status", "data-testid": "review-notice", children: notice })), _jsxs("dl", { className: "summary", children: [_jsx("dt", { children: "Voucher" }), _jsxs("dd", { children: [voucher.name, " \u00B7 ", formatMoney(voucher.amount, voucher.currency), " each \u00B7 code", " ", voucher.code_prefix, "-\u2026 \u00B7 expires ", formatDay(voucher.expires_on)] }), _jsx("dt", { children: "Who" }), _jsx("dd", { "data-testid": "review-audience", children: describeCriteria(criteria) })] }), loading && (_jsx("p", { className: "muted", "aria-busy": "true", children: "Counting the recipients\u2026" })), previewError && (_jsxs("div", { className: "error", role: "alert", children: ["Could not review: ", previewError, " ", _jsx("button", { type: "button", className: "link", onClick: reload, children: "Try again" })] })), preview && (_jsx(Figures, { preview: preview, onDownload: save, downloading: download.busy })), download.error && (_jsxs("p", { className: "error", role: "alert", children: ["Could not download the list: ", download.error] })), preview && preview.matched > 0 && (_jsxs("div", { className: "confirm", children: [_jsxs("label", { className: "check", children: [_jsx("input", { type: "checkbox", checked: reviewed, disabled: submitting, onChange: (event) => setReviewed(event.target.checked) }), "I have reviewed the recipients and the amount"] }), needsTypedCount(preview) && (_jsxs("div", { className: "field", children: [_jsx("label", { htmlFor: ids.typed, children: "Type the number of recipients to confirm" }), _jsx("input", { id: ids.typed, inputMode: "numeric", autoComplete: "off", spellCheck: false, "aria-describedby": ids.typedHint, value: typed, disabled: submitting, onChange: (event) => setTyped(event.target.value) }), _jsxs("p", { className: "hint", id: ids.typedHint, children: [criteria.all_employees
                                        ? "This allocation reaches every employee"
                                        : `This allocation reaches more than ${formatCount(preview.typed_confirmation_above)} people`, ": type ", formatCount(preview.matched), " to confirm."] })] }))] })), error && (_jsxs("p", { className: "error", role: "alert", children: ["Not allocated: ", error] })), _jsxs("div", { className: "review-actions", children: [_jsx("button", { type: "button", className: "secondary", onClick: onBack, disabled: submitting, children: "Back to edit" }), _jsx("button", { type: "button", disabled: !ready || submitting, onClick: () => {
                            if (preview !== null && ready) {
                                onAllocate({ voucher, criteria, confirmed_recipients: preview.matched });
                            }
                        }, children: submitting
                            ? "Allocating…"
                            : preview === null
                                ? "Allocate"
                                : `Allocate to ${plural(preview.matched, "employee", "employees")}` })] })] }));
}
function Figures({ preview, onDownload, downloading, }) {
    if (preview.matched === 0) {
        return (_jsx("p", { className: "notice", "data-testid": "review-empty", children: "No employee matches this rule today: there is nobody to allocate to." }));
    }
    const rest = preview.matched - preview.sample.length;
    return (_jsxs(_Fragment, { children: [_jsxs("div", { className: "figures", children: [_jsxs("div", { className: "figure", children: [_jsx("span", { className: "figure-label", children: "Recipients" }), _jsx("span", { className: "figure-value", "data-testid": "review-count", children: formatCount(preview.matched) })] }), _jsxs("div", { className: "figure", children: [_jsx("span", { className: "figure-label", children: "Total cost" }), _jsx("span", { className: "figure-value", "data-testid": "review-total", children: preview.total_cost.map((cost) => formatMoney(cost.amount, cost.currency)).join(" + ") ||
                                    "—" })] })] }), _jsxs("table", { className: "table compact", "data-testid": "review-departments", children: [_jsx("caption", { className: "visually-hidden", children: "Recipients per department" }), _jsx(TableHead, { columns: [
                            { label: "Department" },
                            { label: "Recipients", numeric: true },
                        ] }), _jsx("tbody", { children: preview.by_department.map((row) => (_jsxs("tr", { "data-testid": "review-department", children: [_jsx("td", { children: row.department }), _jsx("td", { className: "numeric", children: formatCount(row.count) })] }, row.department))) })] }), _jsxs("div", { children: [_jsx("h3", { className: "subhead", children: "Some of the recipients" }), _jsx("ul", { className: "sample", "data-testid": "review-sample", children: preview.sample.map((person) => (_jsxs("li", { children: [person.name, " ", _jsxs("span", { className: "muted", children: ["\u00B7 ", person.department] })] }, person.employee_id))) }), rest > 0 && _jsxs("p", { className: "muted", children: ["and ", plural(rest, "other", "others"), "."] })] }), _jsx("div", { children: _jsx("button", { type: "button", className: "secondary", onClick: onDownload, disabled: downloading, children: downloading ? "Downloading…" : "Download the full list (CSV)" }) })] }));
}
