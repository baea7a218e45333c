import { jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
import { useId } from "react";
import { formatCount, plural } from "../../format";
import { CURRENCIES, GRADES, NO_AUDIENCE, audienceOf, chooseEveryone, criteriaOf, toggle, } from "./form";
import { useMatchCount } from "./useMatchCount";
function inDays(days) {
    const date = new Date();
    date.setDate(date.getDate() + days);
    return date.toISOString().slice(0, 10);
}
export function AllocationForm({ api, form, edit, departments, onReview, notice, }) {
    const ids = {
        minYears: useId(),
        maxYears: useId(),
        name: useId(),
        amount: useId(),
        currency: useId(),
        expires: useId(),
        prefix: useId(),
    };
    const audience = audienceOf(form);
    const count = useMatchCount(api, audience === "none" ? null : criteriaOf(form));
    const update = (change) => edit((current) => ({ ...current, ...change }));
    const review = (event) => {
        event.preventDefault();
        if (audience !== "none")
            onReview();
    };
    const matchedText = count.matched === null ? "—" : plural(count.matched, "employee", "employees");
    return (_jsxs("form", { className: "card form", onSubmit: review, "aria-labelledby": "new-allocation", children: [_jsx("h2", { id: "new-allocation", children: "New allocation" }), notice, _jsxs("fieldset", { children: [_jsx("legend", { children: "Who receives it" }), _jsxs("label", { className: "check check-everyone", children: [_jsx("input", { type: "checkbox", checked: form.everyone, onChange: (event) => edit((current) => chooseEveryone(current, event.target.checked)) }), "Everyone (all employees)"] }), _jsx("p", { className: "hint", children: form.everyone
                            ? "Every employee receives it; untick to choose by department, grade or experience."
                            : "Or choose by department, grade and years of experience: an employee must match all you set." })] }), _jsxs("fieldset", { disabled: form.everyone, children: [_jsx("legend", { children: "Departments" }), _jsx("div", { className: "checks", "data-testid": "departments", children: departments.map((department) => (_jsxs("label", { className: "check", children: [_jsx("input", { type: "checkbox", checked: form.departments.includes(department.name), onChange: (event) => edit((current) => ({
                                        ...current,
                                        departments: toggle(current.departments, department.name, event.target.checked),
                                    })) }), department.name, _jsxs("span", { className: "muted", children: [" (", formatCount(department.employees), ")"] })] }, department.name))) })] }), _jsxs("fieldset", { disabled: form.everyone, children: [_jsx("legend", { children: "Grades" }), _jsx("div", { className: "checks checks-inline", children: GRADES.map((grade) => (_jsxs("label", { className: "check", children: [_jsx("input", { type: "checkbox", checked: form.grades.includes(grade), onChange: (event) => edit((current) => ({
                                        ...current,
                                        grades: toggle(current.grades, grade, event.target.checked),
                                    })) }), grade] }, grade))) })] }), _jsxs("fieldset", { disabled: form.everyone, children: [_jsx("legend", { children: "Years of experience" }), _jsxs("div", { className: "row", children: [_jsxs("div", { className: "field", children: [_jsx("label", { htmlFor: ids.minYears, children: "At least" }), _jsx("input", { id: ids.minYears, type: "number", min: 0, max: 70, inputMode: "numeric", value: form.minYears, onChange: (event) => update({ minYears: event.target.value }) })] }), _jsxs("div", { className: "field", children: [_jsx("label", { htmlFor: ids.maxYears, children: "At most" }), _jsx("input", { id: ids.maxYears, type: "number", min: 0, max: 70, inputMode: "numeric", value: form.maxYears, onChange: (event) => update({ maxYears: event.target.value }) })] })] })] }), _jsxs("fieldset", { children: [_jsx("legend", { children: "Voucher" }), _jsxs("div", { className: "field", children: [_jsx("label", { htmlFor: ids.name, children: "Name" }), _jsx("input", { id: ids.name, required: true, maxLength: 120, value: form.name, onChange: (event) => update({ name: event.target.value }) })] }), _jsxs("div", { className: "row", children: [_jsxs("div", { className: "field", children: [_jsx("label", { htmlFor: ids.amount, children: "Amount" }), _jsx("input", { id: ids.amount, type: "number", required: true, min: "0.01", step: "0.01", value: form.amount, onChange: (event) => update({ amount: event.target.value }) })] }), _jsxs("div", { className: "field", children: [_jsx("label", { htmlFor: ids.currency, children: "Currency" }), _jsx("select", { id: ids.currency, value: form.currency, onChange: (event) => update({ currency: event.target.value }), children: CURRENCIES.map((currency) => (_jsx("option", { children: currency }, currency))) })] })] }), _jsxs("div", { className: "row", children: [_jsxs("div", { className: "field", children: [_jsx("label", { htmlFor: ids.expires, children: "Expires on" }), _jsx("input", { id: ids.expires, type: "date", required: true, min: inDays(1), value: form.expiresOn, onChange: (event) => update({ expiresOn: event.target.value }) })] }), _jsxs("div", { className: "field", children: [_jsx("label", { htmlFor: ids.prefix, children: "Code prefix" }), _jsx("input", { id: ids.prefix, required: true, pattern: "[A-Za-z0-9]{2,12}", title: "2 to 12 letters or digits", value: form.codePrefix, onChange: (event) => update({ codePrefix: event.target.value.toUpperCase() }) })] })] })] }), _jsxs("div", { className: "preview", "aria-live": "polite", "data-testid": "preview", children: [_jsx("span", { className: "preview-label", children: "Matches today" }), _jsx("span", { className: "preview-value", "aria-busy": count.pending, children: matchedText })] }), audience === "none" && (_jsx("p", { className: "notice", "data-testid": "audience-required", children: NO_AUDIENCE })), count.error && (_jsx("p", { className: "error", role: "alert", children: count.error })), count.matched === 0 && !count.pending && (_jsx("p", { className: "notice", children: "No employee matches this rule today: there is nobody to allocate to." })), _jsx("button", { type: "submit", disabled: audience === "none" || count.matched === 0 || count.error !== null, children: "Review" })] }));
}
