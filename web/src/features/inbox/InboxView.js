import { jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
// The person's inbox: vouchers and notifications, newest first, with read marks.
import { useState } from "react";
import { errorText } from "../../api";
import { TableHead } from "../../components/TableHead";
import { formatMoney, formatWhen, plural } from "../../format";
import { VOUCHER_REVOKED } from "../../items";
const KIND_LABELS = {
    "herald.voucher.allocated": "Voucher",
    "herald.notification.pushed": "Notice",
    "herald.allocation.summary": "Team summary",
    "herald.voucher.revoked": "Revoked",
};
function nameOf(item) {
    return item.voucher?.name || item.title || "Notification";
}
export function InboxView({ inbox }) {
    const { items, unread, loaded, error, hasOlder } = inbox;
    const [failure, setFailure] = useState(null);
    const [loadingOlder, setLoadingOlder] = useState(false);
    const run = (work) => {
        setFailure(null);
        work().catch((error) => setFailure(errorText(error)));
    };
    return (_jsxs("section", { "aria-labelledby": "inbox-title", className: "page", children: [_jsxs("div", { className: "page-head", children: [_jsxs("div", { children: [_jsx("h1", { id: "inbox-title", children: "Inbox" }), _jsx("p", { className: "muted", "data-testid": "unread-summary", children: unread === 0 ? "You are all caught up." : `${plural(unread, "unread item", "unread items")}.` })] }), _jsx("button", { type: "button", className: "secondary", disabled: unread === 0, onClick: () => run(inbox.markAllRead), children: "Mark all as read" })] }), (failure || error) && (_jsx("p", { className: "error", role: "alert", children: failure ?? `Could not load your inbox: ${error}` })), _jsxs("div", { className: "card table-card", children: [_jsxs("table", { className: "table", "data-testid": "inbox-table", children: [_jsx("caption", { className: "visually-hidden", children: "Your vouchers and notifications, newest first" }), _jsx(TableHead, { columns: [
                                    { label: "Status", hidden: true },
                                    { label: "Name" },
                                    { label: "Voucher code" },
                                    { label: "Amount", numeric: true },
                                    { label: "When" },
                                    { label: "Actions", hidden: true },
                                ] }), _jsx("tbody", { children: items.map((item) => (_jsxs("tr", { className: item.readAt === null ? "unread" : undefined, "data-testid": "inbox-row", "data-id": item.id, "data-kind": item.kind, "data-revoked": item.revokedAt === null ? undefined : "true", children: [_jsx("td", { className: "status-cell", children: item.readAt === null ? (_jsx("span", { className: "unread-dot", title: "Unread", children: _jsx("span", { className: "visually-hidden", children: "Unread" }) })) : (_jsx("span", { className: "visually-hidden", children: "Read" })) }), _jsxs("td", { children: [_jsx("div", { className: "item-name", children: nameOf(item) }), _jsxs("div", { className: "item-detail", children: [_jsx("span", { className: "kind", children: KIND_LABELS[item.kind] ?? "Notification" }), item.revokedAt !== null ? (_jsxs("span", { className: "revoked", "data-testid": "revoked-note", children: ["Revoked ", formatWhen(item.revokedAt), item.revokeReason ? `: ${item.revokeReason}` : ""] })) : item.voucher && item.kind !== VOUCHER_REVOKED ? (`Valid until ${item.voucher.expiresOn}`) : (item.body)] })] }), _jsx("td", { children: item.voucher ? (item.revokedAt !== null || item.kind === VOUCHER_REVOKED ? (_jsx("del", { className: "code", children: item.voucher.code })) : (_jsx("code", { className: "code", children: item.voucher.code }))) : ("—") }), _jsx("td", { className: "numeric", children: item.voucher ? formatMoney(item.voucher.amount, item.voucher.currency) : "—" }), _jsx("td", { children: _jsx("time", { dateTime: item.createdAt, children: formatWhen(item.createdAt) }) }), _jsx("td", { className: "actions", children: item.readAt === null ? (_jsx("button", { type: "button", className: "link", onClick: () => run(() => inbox.markOneRead(item.id)), "aria-label": `Mark “${nameOf(item)}” as read`, children: "Mark as read" })) : (_jsx("span", { className: "muted", children: "Read" })) })] }, item.id))) })] }), loaded && items.length === 0 && (_jsx("p", { className: "empty", "data-testid": "inbox-empty", children: "Nothing here yet. New vouchers appear here the moment they are allocated." })), !loaded && !error && _jsx("p", { className: "empty", children: "Loading your inbox\u2026" })] }), hasOlder && (_jsx("button", { type: "button", className: "secondary", disabled: loadingOlder, onClick: () => run(async () => {
                    setLoadingOlder(true);
                    try {
                        await inbox.loadOlder();
                    }
                    finally {
                        setLoadingOlder(false);
                    }
                }), children: "Show older items" }))] }));
}
