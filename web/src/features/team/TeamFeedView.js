import { jsxs as _jsxs, jsx as _jsx } from "react/jsx-runtime";
import { TableHead } from "../../components/TableHead";
import { formatMoney, formatTime } from "../../format";
import { useTeam } from "./useTeam";
export function TeamFeedView({ api, department, feed, }) {
    const team = useTeam(api, department);
    return (_jsxs("section", { "aria-labelledby": "feed-title", className: "page", children: [_jsxs("div", { className: "page-head", children: [_jsxs("div", { children: [_jsxs("h1", { id: "feed-title", children: [department, " team feed"] }), _jsx("p", { className: "muted", children: "Vouchers and notifications reaching your team, as they arrive. Voucher codes stay with the people they belong to." })] }), _jsxs("p", { className: "stat", children: [_jsx("span", { className: "stat-value", children: team.size || "—" }), _jsxs("span", { className: "stat-label", children: ["people in ", department] })] })] }), _jsxs("div", { className: "card table-card", children: [_jsxs("table", { className: "table", "data-testid": "feed-table", children: [_jsxs("caption", { className: "visually-hidden", children: ["Live feed of the ", department, " department"] }), _jsx(TableHead, { columns: [
                                    { label: "Time" },
                                    { label: "Employee" },
                                    { label: "What" },
                                    { label: "Amount", numeric: true },
                                ] }), _jsx("tbody", { children: feed.map((item) => {
                                    const person = item.employeeId ? team.get(item.employeeId) : undefined;
                                    return (_jsxs("tr", { "data-testid": "feed-row", children: [_jsx("td", { children: _jsx("time", { dateTime: item.createdAt, children: formatTime(item.createdAt) }) }), _jsxs("td", { children: [_jsx("div", { className: "item-name", children: person?.name ?? item.employeeId ?? "—" }), _jsxs("div", { className: "item-detail", children: [item.employeeId, person ? ` · ${person.grade}` : ""] })] }), _jsx("td", { children: item.voucher ? `Voucher: ${item.voucher.name}` : item.title }), _jsx("td", { className: "numeric", children: item.voucher ? formatMoney(item.voucher.amount, item.voucher.currency) : "—" })] }, item.id));
                                }) })] }), feed.length === 0 && (_jsxs("p", { className: "empty", "data-testid": "feed-empty", children: ["Nothing has reached ", department, " since you opened this page. New vouchers appear here live."] }))] })] }));
}
