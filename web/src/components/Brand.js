import { jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
// Herald's name and mark, in the header and, larger, on the sign-in page.
export function Brand({ large = false }) {
    return (_jsxs("div", { className: large ? "brand brand-large" : "brand", children: [_jsx("span", { className: "logo", "aria-hidden": "true", children: "H" }), "Herald"] }));
}
