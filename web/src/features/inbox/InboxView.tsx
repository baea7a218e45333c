// The person's inbox: vouchers and notifications, newest first, with read marks.

import { useState } from "react";

import { errorText } from "../../api";
import { TableHead } from "../../components/TableHead";
import { formatMoney, formatWhen, plural } from "../../format";
import { type Item, VOUCHER_REVOKED } from "../../items";
import type { Inbox } from "./useInbox";

const KIND_LABELS: Record<string, string> = {
  "herald.voucher.allocated": "Voucher",
  "herald.notification.pushed": "Notice",
  "herald.allocation.summary": "Team summary",
  "herald.voucher.revoked": "Revoked",
  "herald.revocation.summary": "Team revocation",
};

function nameOf(item: Item): string {
  return item.voucher?.name || item.title || "Notification";
}

export function InboxView({ inbox }: { inbox: Inbox }) {
  const { items, unread, loaded, error, hasOlder } = inbox;
  const [failure, setFailure] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);

  const run = (work: () => Promise<void>) => {
    setFailure(null);
    work().catch((error: unknown) => setFailure(errorText(error)));
  };

  return (
    <section aria-labelledby="inbox-title" className="page">
      <div className="page-head">
        <div>
          <h1 id="inbox-title">Inbox</h1>
          <p className="muted" data-testid="unread-summary">
            {unread === 0 ? "You are all caught up." : `${plural(unread, "unread item", "unread items")}.`}
          </p>
        </div>
        <button
          type="button"
          className="secondary"
          disabled={unread === 0}
          onClick={() => run(inbox.markAllRead)}
        >
          Mark all as read
        </button>
      </div>
      {(failure || error) && (
        <p className="error" role="alert">
          {failure ?? `Could not load your inbox: ${error}`}
        </p>
      )}
      <div className="card table-card">
        <table className="table" data-testid="inbox-table">
          <caption className="visually-hidden">Your vouchers and notifications, newest first</caption>
          <TableHead
            columns={[
              { label: "Status", hidden: true },
              { label: "Name" },
              { label: "Voucher code" },
              { label: "Amount", numeric: true },
              { label: "When" },
              { label: "Actions", hidden: true },
            ]}
          />
          <tbody>
            {items.map((item) => (
              <tr
                key={item.id}
                className={item.readAt === null ? "unread" : undefined}
                data-testid="inbox-row"
                data-id={item.id}
                data-kind={item.kind}
                data-revoked={item.revokedAt === null ? undefined : "true"}
              >
                <td className="status-cell">
                  {item.readAt === null ? (
                    <span className="unread-dot" title="Unread">
                      <span className="visually-hidden">Unread</span>
                    </span>
                  ) : (
                    <span className="visually-hidden">Read</span>
                  )}
                </td>
                <td>
                  <div className="item-name">{nameOf(item)}</div>
                  <div className="item-detail">
                    <span className="kind">{KIND_LABELS[item.kind] ?? "Notification"}</span>
                    {item.revokedAt !== null ? (
                      <span className="revoked" data-testid="revoked-note">
                        Revoked {formatWhen(item.revokedAt)}
                        {item.revokeReason ? `: ${item.revokeReason}` : ""}
                      </span>
                    ) : item.voucher && item.kind !== VOUCHER_REVOKED ? (
                      `Valid until ${item.voucher.expiresOn}`
                    ) : (
                      item.body
                    )}
                  </div>
                </td>
                <td>
                  {item.voucher ? (
                    item.revokedAt !== null || item.kind === VOUCHER_REVOKED ? (
                      <del className="code">{item.voucher.code}</del>
                    ) : (
                      <code className="code">{item.voucher.code}</code>
                    )
                  ) : (
                    "—"
                  )}
                </td>
                <td className="numeric">
                  {item.voucher ? formatMoney(item.voucher.amount, item.voucher.currency) : "—"}
                </td>
                <td>
                  <time dateTime={item.createdAt}>{formatWhen(item.createdAt)}</time>
                </td>
                <td className="actions">
                  {item.readAt === null ? (
                    <button
                      type="button"
                      className="link"
                      onClick={() => run(() => inbox.markOneRead(item.id))}
                      aria-label={`Mark “${nameOf(item)}” as read`}
                    >
                      Mark as read
                    </button>
                  ) : (
                    <span className="muted">Read</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {loaded && items.length === 0 && (
          <p className="empty" data-testid="inbox-empty">
            Nothing here yet. New vouchers appear here the moment they are allocated.
          </p>
        )}
        {!loaded && !error && <p className="empty">Loading your inbox…</p>}
      </div>
      {hasOlder && (
        <button
          type="button"
          className="secondary"
          disabled={loadingOlder}
          onClick={() =>
            run(async () => {
              setLoadingOlder(true);
              try {
                await inbox.loadOlder();
              } finally {
                setLoadingOlder(false);
              }
            })
          }
        >
          Show older items
        </button>
      )}
    </section>
  );
}
