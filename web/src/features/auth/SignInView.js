import { jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
// Dev sign-in: pick a demo person (decision 0022).
import { useId, useMemo, useState } from "react";
import { errorText } from "../../api";
import { Brand } from "../../components/Brand";
import { signIn } from "./session";
import { usePeopleSearch } from "./usePeopleSearch";
const GROUPS = [
    { role: "hr-admin", label: "HR admins" },
    { role: "manager", label: "Managers" },
    { role: "employee", label: "Employees" },
];
const roleOf = (person) => person.roles.includes("hr-admin") ? "hr-admin" : person.roles.includes("manager") ? "manager" : "employee";
const valueOf = (person) => `${person.employee_id}|${roleOf(person)}`;
export function SignInView({ notice, onSignedIn, onExpired, }) {
    const searchId = useId();
    const personId = useId();
    const [query, setQuery] = useState("");
    const { people, loading, error: searchError } = usePeopleSearch(query);
    const [chosen, setChosen] = useState("");
    const [busy, setBusy] = useState(false);
    const [submitError, setSubmitError] = useState(null);
    const error = submitError ?? searchError;
    const groups = useMemo(() => GROUPS.map((group) => ({
        ...group,
        people: people.filter((person) => roleOf(person) === group.role),
    })).filter((group) => group.people.length > 0), [people]);
    const submit = async (event) => {
        event.preventDefault();
        const person = people.find((p) => valueOf(p) === chosen);
        if (!person) {
            setSubmitError("Pick a person to sign in as.");
            return;
        }
        setBusy(true);
        setSubmitError(null);
        try {
            onSignedIn(await signIn({ employeeId: person.employee_id, roles: person.roles }, onExpired));
        }
        catch (failure) {
            setSubmitError(errorText(failure));
            setBusy(false);
        }
    };
    return (_jsx("main", { className: "signin", id: "main", children: _jsxs("div", { className: "signin-card", children: [_jsx(Brand, { large: true }), _jsx("h1", { children: "Sign in" }), _jsx("p", { className: "muted", children: "Development sign-in: pick a demo employee, a manager or an HR admin. Their inbox, team feed or allocation console opens with live updates." }), notice && (_jsx("p", { className: "notice", role: "status", children: notice })), _jsxs("form", { onSubmit: (event) => void submit(event), children: [_jsx("label", { htmlFor: searchId, children: "Find a person" }), _jsx("input", { id: searchId, type: "search", placeholder: "Name or employee id", value: query, autoComplete: "off", onChange: (event) => {
                                setQuery(event.target.value);
                                // A new search answers afresh: the last refusal no longer applies.
                                setSubmitError(null);
                            } }), _jsx("label", { htmlFor: personId, children: "Sign in as" }), _jsx("select", { id: personId, "data-testid": "person", size: 12, required: true, value: chosen, "aria-busy": loading, onChange: (event) => setChosen(event.target.value), onDoubleClick: (event) => event.currentTarget.form.requestSubmit(), children: groups.map((group) => (_jsx("optgroup", { label: group.label, children: group.people.map((person) => (_jsxs("option", { value: valueOf(person), children: [person.name, " \u2014 ", person.department, group.role === "manager" ? " (manager)" : "", ", ", person.grade] }, valueOf(person)))) }, group.role))) }), !loading && groups.length === 0 && _jsxs("p", { className: "muted", children: ["Nobody matches \u201C", query, "\u201D."] }), error && (_jsx("p", { className: "error", role: "alert", children: error })), _jsx("button", { type: "submit", disabled: busy || chosen === "", children: busy ? "Signing in…" : "Sign in" })] })] }) }));
}
