import { jsx as _jsx } from "react/jsx-runtime";
export function TableHead({ columns }) {
    return (_jsx("thead", { children: _jsx("tr", { children: columns.map((column) => (_jsx("th", { scope: "col", className: column.numeric ? "numeric" : undefined, children: column.hidden ? _jsx("span", { className: "visually-hidden", children: column.label }) : column.label }, column.label))) }) }));
}
